//! The config file's shape as serde reads it, and its validation into [`Config`].

use super::{invalid, parse_offset, App, Config, ConfigError, Inbound, Roles, Secret};
use ivrhook_protocol::DecodeOptions;
use serde::Deserialize;
use std::collections::HashSet;

/// The default configuration, every key documented. `ivrhook config` prints it.
pub const DEFAULT_TOML: &str = r#"# ivrhook configuration. Every key is optional; these are the defaults.

# Where the HTTP server listens. A non-loopback address needs at least one [[apps]] entry.
listen = "127.0.0.1:8080"

# sqlite://relative/path.db (relative to the working directory) or sqlite:///abs/path.db;
# or postgres://user[:password]@host[:port]/dbname for several nodes sharing one database.
database = "sqlite://ivrhook.db"

# Apply the database's pending migrations at start. Set false where migrations are run as a
# release step (`ivrhook migrate`): serve then refuses to start on an older schema.
migrate_on_start = true

# PostgreSQL only: connections this node may open (a delivering node opens one more to
# LISTEN). Keep nodes x (this + 1) below the server's max_connections (100 by default).
database_pool_size = 16

# What this node does: "receive" serves the callback path (the multrpt receiver), "deliver"
# runs the delivery engine. Several nodes on one PostgreSQL can split the work, e.g.
# receive-only nodes behind the platform's load balancer and deliver-only nodes elsewhere.
# The /v1 API runs on every node.
roles = ["receive", "deliver"]

# When set, every /v1 API request needs "Authorization: Bearer <admin_token>".
# admin_token = "change-me"

[inbound]
# The path the voice platform POSTs multrpt reports to.
path = "/callback"
# Larger bodies are answered 108100.
max_body_bytes = 1048576
# A body not fully received within this time is answered 108100 (a stalled client must not
# hold a connection and its memory indefinitely).
body_timeout = "10s"
# Reports accepted but not yet stored; past this the receiver answers 108102 (queue full).
queue_capacity = 100000
# The platform's UTC offset, used to read its 17-digit local times.
utc_offset = "+08:00"
# Refuse (108100) what the lenient default accepts with a warning: bare entries in the
# results array, undecodable hang-up text, status as a string, events other than multrpt.
strict = false

# One entry per app the receiver accepts reports for. With none, a loopback receiver
# accepts any appId; a non-loopback one refuses to start.
# [[apps]]
# id = "247e35ff320a4142a105024055c367cf"
# Answer 108105 to reports whose callId was not registered with
# POST /v1/apps/{appId}/calls.
# require_known_calls = false
#
# The sender role: deliver this app's reports (POST /v1/apps/{appId}/events) here.
# callback_url = "https://business.example/ivr/callback"
# Sign each request with Standard Webhooks headers (webhook-id, webhook-timestamp,
# webhook-signature); the secret is whsec_ + base64 of the key bytes.
# secret = "whsec_..."
# Per-request timeout.
# timeout = "5s"
# Concurrent requests to this URL.
# max_in_flight = 16
# Delays before each attempt (the list's length is the number of attempts), each with
# +-20 % jitter. Units: ms, s, m, h.
# retry_schedule = ["0s", "5s", "30s", "2m", "10m", "30m", "1h", "2h", "4h", "8h", "12h"]
# Deliver a call's reports in order: a later one waits until the earlier is delivered or dead.
# ordered = true

# Where received reports are handed on: one entry per destination. Each report is written with
# a delivery to every destination it matches, in the same transaction, before 000000.
# [[destinations]]
# Unique, a-z 0-9 _ -: labels the metrics (never the URL) and keys the deliveries.
# name = "crm"
# webhook (POST, any 2xx delivers), nats (JetStream, the publish acknowledgement delivers)
# or rabbitmq (publisher confirms, persistent, mandatory).
# kind = "webhook"
# webhook: http(s)://; nats: nats:// or tls://; rabbitmq: amqp://user:pass@host:port/vhost.
# url = "http://crm.internal:9000/ivr"
# Only these apps' reports (default: every app).
# apps = ["247e35ff320a4142a105024055c367cf"]
# decoded: the documented JSON form (schemaVersion 1); raw: the platform's bytes as received.
# body = "decoded"
# webhook only: Standard Webhooks signature (whsec_ + base64 key), and extra headers.
# secret = "whsec_..."
# headers = { "X-Team" = "ivr" }
# nats only: the subject ({app} {event} {status} {call}), the stream it must land in, and
# whether to make that stream (listening on the subject with * for each placeholder).
# subject = "ivr.{app}.{status}"
# stream = "IVR"
# create_stream = false
# rabbitmq only: the exchange ("" for the default one) and the routing key.
# exchange = "ivr"
# routing_key = "{app}.{status}"
# timeout = "5s"
# max_in_flight = 16
# retry_schedule = ["0s", "5s", "30s", "2m", "10m", "30m", "1h", "2h", "4h", "8h", "12h"]
# ordered = true
# Pending deliveries past which a report bound here is refused with 108102 (queue full).
# max_backlog = 1000000
# Every key optional, all of them must match.
# [destinations.filter]
# status = "hungup"          # completed | hungup
# event = "multrpt"
# dtmf = "1"                 # the last command's keys, or "*" for any keys
# has_recording = true
"#;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileConfig {
    pub listen: String,
    pub database: String,
    pub migrate_on_start: bool,
    pub database_pool_size: usize,
    pub roles: Vec<String>,
    pub admin_token: Option<String>,
    pub inbound: FileInbound,
    pub apps: Vec<FileApp>,
    pub destinations: Vec<FileDestination>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileInbound {
    pub path: String,
    pub max_body_bytes: usize,
    pub body_timeout: String,
    pub queue_capacity: usize,
    pub utc_offset: String,
    pub strict: bool,
}

pub(super) use super::{app::FileApp, destination::FileDestination};

impl Default for FileConfig {
    fn default() -> Self {
        FileConfig {
            listen: "127.0.0.1:8080".into(),
            database: "sqlite://ivrhook.db".into(),
            migrate_on_start: true,
            database_pool_size: ivrhook_store::postgres::POOL_SIZE,
            roles: vec!["receive".into(), "deliver".into()],
            admin_token: None,
            inbound: FileInbound::default(),
            apps: Vec::new(),
            destinations: Vec::new(),
        }
    }
}

impl Default for FileInbound {
    fn default() -> Self {
        FileInbound {
            path: "/callback".into(),
            max_body_bytes: 1024 * 1024,
            body_timeout: "10s".into(),
            queue_capacity: 100_000,
            utc_offset: "+08:00".into(),
            strict: false,
        }
    }
}

pub(super) fn parse(text: &str, name: &str) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: name.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })
}

/// Paths the receiver's callback path must not shadow.
const RESERVED: [&str; 3] = ["/v1", "/healthz", "/metrics"];

impl FileConfig {
    pub(super) fn validate(self) -> Result<Config, ConfigError> {
        let listen = listen_address(&self.listen)?;
        let database = self
            .database
            .parse()
            .map_err(|e: ivrhook_store::StoreError| invalid("database", e.to_string()))?;
        let admin_token = match self.admin_token {
            Some(t) if t.trim().is_empty() => {
                return Err(invalid(
                    "admin_token",
                    "is empty; remove the key or set a token",
                ))
            }
            t => t.map(Secret),
        };
        let inbound = self.inbound.validate()?;
        let mut seen = HashSet::new();
        let mut apps = Vec::with_capacity(self.apps.len());
        for (i, app) in self.apps.into_iter().enumerate() {
            let app: App = app.validate(i)?;
            if !seen.insert(app.id.clone()) {
                return Err(invalid(
                    format!("apps[{i}].id"),
                    format!("{} is configured twice", app.id),
                ));
            }
            apps.push(app);
        }
        let destinations = validate_destinations(self.destinations, &seen)?;
        Ok(Config {
            listen,
            database,
            migrate_on_start: self.migrate_on_start,
            database_pool_size: match self.database_pool_size {
                2..=1000 => self.database_pool_size,
                n => {
                    return Err(invalid(
                        "database_pool_size",
                        format!("{n} is not between 2 and 1000"),
                    ))
                }
            },
            roles: Roles::parse(&self.roles)?,
            admin_token,
            inbound,
            apps,
            destinations,
        })
    }
}

/// An address, or a host name resolved now (`localhost:8080`): the first address it has.
fn listen_address(text: &str) -> Result<std::net::SocketAddr, ConfigError> {
    use std::net::ToSocketAddrs;
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let unlike = || format!("{text:?} is not an address like 127.0.0.1:8080 or localhost:8080");
    let mut resolved = text.to_socket_addrs().map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidInput => invalid("listen", unlike()),
        _ => invalid("listen", format!("{text:?}: the host name does not resolve: {e}")),
    })?;
    resolved
        .next()
        .ok_or_else(|| invalid("listen", format!("{text:?} resolves to no address")))
}

fn validate_destinations(
    entries: Vec<FileDestination>,
    apps: &HashSet<ivrhook_protocol::AppId>,
) -> Result<Vec<ivrhook_engine::DestinationSettings>, ConfigError> {
    let mut names = HashSet::new();
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        let d = entry.validate(i, apps)?;
        if !names.insert(d.name.clone()) {
            return Err(invalid(
                format!("destinations[{i}].name"),
                format!("{:?} is used by another destination", d.name),
            ));
        }
        out.push(d);
    }
    Ok(out)
}

impl FileInbound {
    fn validate(self) -> Result<Inbound, ConfigError> {
        let path = self.path;
        if !path.starts_with('/') || path.contains(['?', '#', ' ', '{', '}']) {
            return Err(invalid(
                "inbound.path",
                format!("{path:?} must be a plain path starting with /"),
            ));
        }
        if let Some(r) = RESERVED
            .iter()
            .find(|r| path == **r || path.starts_with(&format!("{r}/")))
        {
            return Err(invalid(
                "inbound.path",
                format!("{path:?} would shadow ivrhook's own {r}"),
            ));
        }
        if self.max_body_bytes == 0 {
            return Err(invalid("inbound.max_body_bytes", "must be greater than 0"));
        }
        let body_timeout = super::parse_duration(&self.body_timeout)
            .map_err(|e| invalid("inbound.body_timeout", e))?;
        if body_timeout.is_zero() {
            return Err(invalid("inbound.body_timeout", "must be greater than 0"));
        }
        if self.queue_capacity == 0 {
            return Err(invalid("inbound.queue_capacity", "must be greater than 0"));
        }
        let offset = parse_offset(&self.utc_offset)?;
        Ok(Inbound {
            path,
            max_body_bytes: self.max_body_bytes,
            body_timeout,
            queue_capacity: self.queue_capacity,
            decode: DecodeOptions {
                offset,
                strict: self.strict,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        Config::from_toml(text, "test.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_documented_defaults_are_the_defaults() {
        let printed = Config::from_toml(DEFAULT_TOML, "default").unwrap();
        let empty = Config::default();
        assert_eq!(format!("{printed:?}"), format!("{empty:?}"));
        assert_eq!(empty.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(empty.inbound.max_body_bytes, 1_048_576);
        assert!(empty.accepts_any_app());
    }

    #[test]
    fn errors_name_the_key() {
        assert!(error("lisen = \"x\"").contains("unknown field `lisen`"));
        assert!(error("listen = \"nowhere\"").starts_with("listen: "));
        assert!(error("database = \"mysql://x\"").starts_with("database: "));
        assert!(error("[inbound]\nutc_offset = \"+8\"").starts_with("inbound.utc_offset: "));
        assert!(error("[inbound]\npath = \"/v1/x\"").starts_with("inbound.path: "));
        assert!(error("[inbound]\nqueue_capacity = 0").starts_with("inbound.queue_capacity: "));
        assert!(error("[[apps]]\nid = \"a\"\n[[apps]]\nid = \"a\"")
            .starts_with("apps[1].id: a is configured twice"));
        assert!(error("[[apps]]\nid = \"\"").starts_with("apps[0].id: must not be empty"));
        assert!(error("[inbound]\nmax_body_bytes = \"big\"").contains("max_body_bytes"));
        assert!(error("roles = []").starts_with("roles: is empty"));
        assert!(error("database_pool_size = 1").starts_with("database_pool_size: 1 is not"));
        assert!(error("roles = [\"send\"]").starts_with("roles: \"send\" is not a role"));
    }

    #[test]
    fn a_host_name_to_listen_on_is_resolved() {
        let c = Config::from_toml("listen = \"localhost:8080\"", "t").unwrap();
        assert!(c.listen.ip().is_loopback(), "{}", c.listen);
        assert_eq!(c.listen.port(), 8080);
        assert!(error("listen = \"localhost\"").contains("is not an address like"));
        assert!(error("listen = \"no-such-host.invalid:80\"").contains("does not resolve"));
    }

    #[test]
    fn the_admin_token_never_shows_in_debug() {
        let c = Config::from_toml("admin_token = \"hunter2\"", "t").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn a_public_address_needs_apps() {
        let c = Config::from_toml("listen = \"0.0.0.0:8080\"", "t").unwrap();
        assert!(!c.accepts_any_app());
        assert!(c
            .check_servable()
            .unwrap_err()
            .to_string()
            .starts_with("apps: no [[apps]]"));
    }
}
