//! Configuration: the documented defaults, then the TOML file, then `IVRHOOK_*` variables, then
//! flags (`sources`), then one validation pass that turns text into typed values and names the
//! key when something is wrong.
//!
//! - `sources`: the layers, and errors that say which layer set the key.
//! - `file`: the file's shape, as serde reads it; unknown keys are refused.
//! - `lenient`: sizes with units, lists as text.
//! - `app`, `destination`, `filter`, `delivery`: `[[apps]]`, `[[destinations]]` and what
//!   they share; `alerts`: `[alerts]`; `analytics`: `[analytics]`.
//! - `DEFAULT_TOML`: the documented default file, printed by `ivrhook config`.

mod alerts;
mod analytics;
mod app;
mod delivery;
mod described;
mod destination;
mod file;
mod filter;
mod inbound_auth;
mod lenient;
mod recordings;
mod roles;
mod sources;
mod tokens;

use ivrhook_protocol::{AppId, DecodeOptions, UtcOffset};
use ivrhook_store::DatabaseUrl;
use std::{fmt, net::SocketAddr, path::Path};

pub use analytics::Analytics;
pub use app::{parse_duration, report_within, RateLimit};
pub use file::{reference, DEFAULT_TOML};
pub use inbound_auth::{Basic, InboundAuth, Verify};
pub use recordings::Recordings;
pub use roles::Roles;
pub use tokens::{ApiToken, Scopes};

/// A configuration problem, naming the key (or file) it is about.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each variant's `#[error]` message says what it is
pub enum ConfigError {
    #[error("{key}: {reason}")]
    Invalid { key: String, reason: String },
    #[error("could not read config file {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
}

fn invalid(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

/// A secret: never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one place that compares or sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// `tls = { cert = "…", key = "…" }`: PEM files, read at start and on SIGHUP.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: std::path::PathBuf,
    /// The private key.
    pub key: std::path::PathBuf,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (`listen`, resolved).
    pub listen: SocketAddr,
    /// The store (`database`).
    pub database: DatabaseUrl,
    /// Apply pending migrations at start (otherwise require them applied).
    pub migrate_on_start: bool,
    /// PostgreSQL connections this node may open.
    pub database_pool_size: usize,
    /// What this node does: receive, deliver, or both.
    pub roles: Roles,
    /// When set, `/v1` requires `Authorization: Bearer <token>`.
    pub admin_token: Option<Secret>,
    /// Tokens by their SHA-256, with scopes.
    pub api_tokens: Vec<ApiToken>,
    /// Serve the API and dashboard without a token where the network can reach them, because
    /// something in front of ivrhook checks who comes in.
    pub api_open: bool,
    /// The listener's certificate and key (PEM files), when it speaks TLS.
    pub tls: Option<TlsFiles>,
    /// Open connections at most; past it a new one is closed at once.
    pub max_connections: usize,
    /// Whose `X-Forwarded-For` / `Forwarded` to believe.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How it logs.
    pub log: Logging,
    /// `[inbound]`.
    pub inbound: Inbound,
    /// `[retention]`.
    pub retention: Retention,
    /// `[sqlite]`.
    pub sqlite: Sqlite,
    /// `[alerts]`: how operator events are coalesced (where they go is each destination's
    /// `alerts`).
    pub alerts: ivrhook_engine::alerts::AlertSettings,
    /// `[[apps]]`; none: a loopback receiver takes any appId.
    pub apps: Vec<App>,
    /// Where received reports are forwarded (`[[destinations]]`).
    pub destinations: Vec<ivrhook_engine::DestinationSettings>,
    /// `[recordings]`: where call recordings are kept.
    pub recordings: Recordings,
    /// `[analytics]`.
    pub analytics: Analytics,
}

/// How the server logs: `log_format`, `log_refusals_every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Logging {
    /// One JSON object a line (`log_format = "json"`).
    pub json: bool,
    /// How often refused reports are summarised.
    pub refusals_every: std::time::Duration,
}

impl Logging {
    fn parse(format: &str, every: &str) -> Result<Logging, ConfigError> {
        let json = match format {
            "text" => false,
            "json" => true,
            other => {
                let reason = format!("{other:?} must be \"text\" or \"json\"");
                return Err(invalid("log_format", reason));
            }
        };
        let refusals_every = parse_duration(every)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                invalid(
                    "log_refusals_every",
                    format!("{every:?} is not a duration like \"1m\""),
                )
            })?;
        Ok(Logging {
            json,
            refusals_every,
        })
    }
}

/// `[retention]`: how long each kind of row is kept (`None`: forever).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Received reports.
    pub reports: Option<std::time::Duration>,
    /// Delivered deliveries.
    pub delivered: Option<std::time::Duration>,
    /// Dead deliveries.
    pub dead: Option<std::time::Duration>,
    /// Kept recordings, with their objects.
    pub recordings: Option<std::time::Duration>,
    /// Activity counts.
    pub activity: Option<std::time::Duration>,
    /// How often the pruning task looks.
    pub every: std::time::Duration,
}

impl Retention {
    fn parse(f: &file::FileRetention) -> Result<Retention, ConfigError> {
        let keep = |key: &str, text: &str| match text.trim() {
            "forever" => Ok(None),
            t => match parse_duration(t) {
                Ok(d) if !d.is_zero() => Ok(Some(d)),
                _ => Err(invalid(
                    format!("retention.{key}"),
                    format!("{text:?} must be a duration like \"30d\" or \"forever\""),
                )),
            },
        };
        let every = keep("every", &f.every)?
            .ok_or_else(|| invalid("retention.every", "must be a duration like \"1m\""))?;
        Ok(Retention {
            reports: keep("reports", &f.reports)?,
            delivered: keep("delivered", &f.delivered)?,
            dead: keep("dead", &f.dead)?,
            recordings: keep("recordings", &f.recordings)?,
            activity: keep("activity", &f.activity)?,
            every,
        })
    }

    /// How long rows of `kind` are kept.
    pub fn of(&self, kind: ivrhook_store::retention::PruneKind) -> Option<std::time::Duration> {
        use ivrhook_store::retention::PruneKind;
        match kind {
            PruneKind::Reports => self.reports,
            PruneKind::Delivered => self.delivered,
            PruneKind::Dead => self.dead,
        }
    }
}

/// `[sqlite]`: the embedded store's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sqlite {
    /// The WAL file never grows past this many bytes.
    pub max_wal: u64,
}

/// `[inbound]`: how the receiver takes reports.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The callback path (`/callback`).
    pub path: String,
    /// A larger body is answered `108100`.
    pub max_body_bytes: usize,
    /// A body not received within this is answered `108100`.
    pub body_timeout: std::time::Duration,
    /// A connection's whole request head (or its next one, kept alive) within this, or it is
    /// closed.
    pub header_timeout: std::time::Duration,
    /// Reports waiting to be written at most; past it, `108102`.
    pub queue_capacity: usize,
    /// How bodies are decoded: the platform's UTC offset, strict or lenient.
    pub decode: DecodeOptions,
}

/// One `[[apps]]` entry.
#[derive(Debug, Clone)]
pub struct App {
    /// The appId.
    pub id: AppId,
    /// Answer `108105` to reports for calls not registered through the API.
    pub require_known_calls: bool,
    /// A registered call's report is due this long after it is registered, unless the
    /// registration says otherwise (`reportWithin`).
    pub expect_report_within: Option<std::time::Duration>,
    /// Where this app's reports are delivered (the sender role), when `callback_url` is set.
    pub delivery: Option<ivrhook_engine::DestinationSettings>,
    /// What its reports must show to be taken.
    pub auth: InboundAuth,
    /// Past this rate its reports are answered `108102`.
    pub rate_limit: Option<RateLimit>,
    /// Its calls' recordings are fetched and kept (`recordings = true`).
    pub recordings: bool,
    /// Its callback URL and recording links may point to private addresses.
    pub allow_private: bool,
}

/// Values given on the command line; they win over the file and the environment.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Overrides {
    /// `--listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// `--database`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// `--roles`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// `--no-migrate` (as `false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migrate_on_start: Option<bool>,
    /// `--log-format`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config::from_toml("", "<defaults>").expect("the embedded defaults are valid")
    }
}

impl Config {
    /// Every destination: each app's callback URL, then the forward destinations.
    pub fn all_destinations(&self) -> Vec<ivrhook_engine::DestinationSettings> {
        let callbacks = self.apps.iter().filter_map(|a| a.delivery.clone());
        let recordings = self.recordings.destination.iter().cloned();
        (callbacks.chain(self.destinations.iter().cloned()))
            .chain(recordings)
            .collect()
    }

    /// The defaults, the file at `path` (if any), `IVRHOOK_*` variables, then `overrides`.
    pub fn load(path: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        sources::load(path, overrides)
    }

    /// Whether the layers `load` reads (file, environment, flags) ask for JSON logs, read
    /// alone: a configuration that fails to load is refused in the format it asked for.
    pub fn asks_for_json_logs(path: Option<&Path>, overrides: &Overrides) -> bool {
        sources::log_format(path, overrides).as_deref() == Some("json")
    }

    /// The defaults under `text` alone, without the environment.
    pub fn from_toml(text: &str, name: &str) -> Result<Config, ConfigError> {
        sources::from_text(text, name)?.validate()
    }

    /// What will fail although the configuration is valid: an app's callback or a destination
    /// at an address its reach refuses, whose every delivery would go dead.
    pub fn warnings(&self) -> Vec<String> {
        let apps = (self.apps.iter().enumerate())
            .filter_map(|(i, a)| Some((format!("apps[{i}].callback_url"), a.delivery.as_ref()?)));
        let destinations = (self.destinations.iter().enumerate())
            .map(|(i, d)| (format!("destinations[{i}].url"), d));
        (apps.chain(destinations))
            .filter_map(|(key, d)| Some(format!("{key}: {}", d.kind.refused_by(d.reach)?)))
            .collect()
    }

    /// With no app configured, a loopback receiver takes any appId (a developer trying it out);
    /// a receiver reachable from the network never does.
    pub fn accepts_any_app(&self) -> bool {
        self.apps.is_empty() && !self.reachable_from_network(self.listen)
    }

    /// Whether requests to a listener at `addr` can come from other machines: it is not on
    /// loopback, or `trusted_proxies` says a proxy hands it requests from elsewhere.
    pub fn reachable_from_network(&self, addr: SocketAddr) -> bool {
        !addr.ip().is_loopback() || !self.trusted_proxies.is_empty()
    }

    /// Refuses a configuration that would be unsafe to serve at `listen`.
    pub fn check_servable(&self) -> Result<(), ConfigError> {
        self.check_servable_at(self.listen)
    }

    /// Refuses serving at `addr` what the network must not reach: reports for any appId, or
    /// the API and dashboard without a token (unless `api_open` says a proxy guards them).
    pub fn check_servable_at(&self, addr: SocketAddr) -> Result<(), ConfigError> {
        if !self.reachable_from_network(addr) {
            return Ok(());
        }
        let reached = match self.trusted_proxies.is_empty() {
            true => format!("listen = \"{addr}\" is not a loopback address"),
            false => format!("listen = \"{addr}\" is reached through trusted_proxies"),
        };
        if self.apps.is_empty() {
            return Err(invalid(
                "apps",
                format!(
                    "no [[apps]] are configured and {reached}, so ivrhook would accept reports \
                     for any appId from the network; add an [[apps]] entry for each app, or \
                     listen on 127.0.0.1"
                ),
            ));
        }
        let tokens = self.admin_token.is_some() || !self.api_tokens.is_empty();
        if !tokens && !self.api_open {
            return Err(invalid(
                "admin_token",
                format!(
                    "neither admin_token nor [[api_tokens]] is set and {reached}, so anyone \
                     who reaches it could read every call and retry deliveries through the API \
                     and the dashboard; add an [[api_tokens]] entry (`ivrhook token new` \
                     prints one) or set admin_token, or set api_open = true if a proxy in \
                     front of ivrhook checks who comes in"
                ),
            ));
        }
        Ok(())
    }
}

pub(crate) fn parse_offset(text: &str) -> Result<UtcOffset, ConfigError> {
    text.parse()
        .map_err(|e: String| invalid("inbound.utc_offset", e))
}
