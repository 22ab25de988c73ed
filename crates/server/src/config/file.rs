//! The config file's shape as serde reads it, and its validation into [`Config`].

use super::{
    invalid, lenient, parse_offset, App, Config, ConfigError, Inbound, Logging, Retention, Roles,
    Secret,
};
use ivrhook_protocol::DecodeOptions;
use ivrhook_store::postgres::POOL_SIZE;
use serde::Deserialize;
use std::collections::HashSet;

/// The default configuration, every key documented but the forward kinds' own ones, which
/// [`reference`] adds. It is the bottom layer of every configuration.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// Where the `[[destinations]]` example shows each forward kind's own keys.
const KINDS_LINE: &str = "#@kinds\n";

/// The configuration reference `ivrhook config` prints: the default file with each forward
/// kind's own keys in the `[[destinations]]` example, as the kind's module writes them.
pub fn reference() -> String {
    let kinds: String = (ivrhook_engine::kinds::settings::KINDS.iter())
        .map(|k| k.reference)
        .collect();
    DEFAULT_TOML.replacen(KINDS_LINE, &kinds, 1)
}

/// Every key but the lists and the token is in `default.toml`, so none has a default here.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    pub listen: String,
    pub database: String,
    pub migrate_on_start: bool,
    /// Unset: `ivrhook_store::postgres::POOL_SIZE`, the store's own default.
    pub database_pool_size: Option<usize>,
    #[serde(deserialize_with = "lenient::list")]
    pub roles: Vec<String>,
    pub admin_token: Option<String>,
    pub api_open: bool,
    pub max_connections: usize,
    pub tls: Option<super::TlsFiles>,
    #[serde(deserialize_with = "lenient::list")]
    pub trusted_proxies: Vec<String>,
    pub log_format: String,
    pub log_refusals_every: String,
    pub inbound: FileInbound,
    pub retention: FileRetention,
    pub sqlite: FileSqlite,
    pub alerts: super::alerts::FileAlerts,
    pub recordings: super::recordings::FileRecordings,
    pub analytics: super::analytics::FileAnalytics,
    #[serde(default)]
    pub api_tokens: Vec<super::tokens::FileToken>,
    #[serde(default)]
    pub apps: Vec<FileApp>,
    #[serde(default)]
    pub destinations: Vec<FileDestination>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileInbound {
    pub path: String,
    pub max_body_bytes: lenient::Size,
    pub body_timeout: String,
    pub header_timeout: String,
    pub queue_capacity: usize,
    pub utc_offset: String,
    pub strict: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileRetention {
    pub reports: String,
    pub delivered: String,
    pub dead: String,
    pub recordings: String,
    pub activity: String,
    pub every: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileSqlite {
    pub max_wal: lenient::Size,
}

impl FileSqlite {
    /// Below a few MiB every batch would end in a checkpoint.
    const SMALLEST: usize = 4 << 20;

    fn validate(self) -> Result<super::Sqlite, ConfigError> {
        let max_wal = self.max_wal.0;
        if max_wal < Self::SMALLEST {
            return Err(invalid(
                "sqlite.max_wal",
                format!("{max_wal} bytes is below the smallest WAL bound, 4MiB"),
            ));
        }
        Ok(super::Sqlite {
            max_wal: max_wal as u64,
        })
    }
}

pub(super) use super::{app::FileApp, destination::FileDestination};

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
        let api_open = api_open(self.api_open, admin_token.is_some(), &self.api_tokens)?;
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
        let mut destinations =
            validate_destinations(self.destinations, &seen, &self.alerts.destinations)?;
        self.alerts.check_names(&destinations)?;
        let callbacks = apps.iter_mut().filter_map(|a| a.delivery.as_mut());
        for d in callbacks.chain(destinations.iter_mut()) {
            super::delivery::settle_reach(d, listen);
        }
        let keeping = (apps.iter().filter(|a| a.recordings))
            .map(|a| {
                (
                    a.id.clone(),
                    super::delivery::reach(a.allow_private, listen),
                )
            })
            .collect();
        let recordings = self
            .recordings
            .validate(&database, keeping, &destinations)?;
        Ok(Config {
            listen,
            database,
            migrate_on_start: self.migrate_on_start,
            database_pool_size: match self.database_pool_size.unwrap_or(POOL_SIZE) {
                n @ 2..=1000 => n,
                n => {
                    return Err(invalid(
                        "database_pool_size",
                        format!("{n} is not between 2 and 1000"),
                    ))
                }
            },
            roles: Roles::parse(&self.roles)?,
            admin_token,
            api_open,
            api_tokens: super::tokens::validate(self.api_tokens)?,
            tls: self.tls,
            max_connections: match self.max_connections {
                0 => return Err(invalid("max_connections", "must be greater than 0")),
                n => n,
            },
            trusted_proxies: super::inbound_auth::networks(
                &self.trusted_proxies,
                "trusted_proxies",
            )?,
            log: Logging::parse(&self.log_format, &self.log_refusals_every)?,
            retention: Retention::parse(&self.retention)?,
            sqlite: self.sqlite.validate()?,
            alerts: self.alerts.settings()?,
            inbound,
            apps,
            destinations,
            recordings,
            analytics: self.analytics.validate()?,
        })
    }
}

/// `api_open = true` beside a token would say both "open" and "closed": refused.
fn api_open(
    open: bool,
    admin_token: bool,
    tokens: &[super::tokens::FileToken],
) -> Result<bool, ConfigError> {
    if open && (admin_token || !tokens.is_empty()) {
        return Err(invalid(
            "api_open",
            "is true, but admin_token or [[api_tokens]] are set, which close the API; remove \
             one or the other",
        ));
    }
    Ok(open)
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
        _ => invalid(
            "listen",
            format!("{text:?}: the host name does not resolve: {e}"),
        ),
    })?;
    resolved
        .next()
        .ok_or_else(|| invalid("listen", format!("{text:?} resolves to no address")))
}

fn validate_destinations(
    entries: Vec<FileDestination>,
    apps: &HashSet<ivrhook_protocol::AppId>,
    alerts: &[String],
) -> Result<Vec<ivrhook_engine::DestinationSettings>, ConfigError> {
    let mut names = HashSet::new();
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        let alert = entry.name.as_ref().is_some_and(|n| alerts.contains(n));
        let d = entry.validate(i, apps, alert)?;
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
        if path == "/" {
            return Err(invalid(
                "inbound.path",
                "\"/\" would shadow the dashboard: use a path such as /callback",
            ));
        }
        if let Some(r) = (crate::paths::RESERVED.iter())
            .find(|r| path == **r || path.starts_with(&format!("{r}/")))
        {
            return Err(invalid(
                "inbound.path",
                format!("{path:?} would shadow ivrhook's own {r}"),
            ));
        }
        if self.max_body_bytes.0 == 0 {
            return Err(invalid("inbound.max_body_bytes", "must be greater than 0"));
        }
        let body_timeout = super::parse_duration(&self.body_timeout)
            .map_err(|e| invalid("inbound.body_timeout", e))?;
        if body_timeout.is_zero() {
            return Err(invalid("inbound.body_timeout", "must be greater than 0"));
        }
        let header_timeout = super::parse_duration(&self.header_timeout)
            .map_err(|e| invalid("inbound.header_timeout", e))?;
        if header_timeout.is_zero() {
            return Err(invalid("inbound.header_timeout", "must be greater than 0"));
        }
        if self.queue_capacity == 0 {
            return Err(invalid("inbound.queue_capacity", "must be greater than 0"));
        }
        let offset = parse_offset(&self.utc_offset)?;
        Ok(Inbound {
            path,
            max_body_bytes: self.max_body_bytes.0,
            body_timeout,
            header_timeout,
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

    /// The pool's default has one home, the store's; the documented file says what it is.
    #[test]
    fn the_default_pool_size_is_the_stores_and_the_file_says_so() {
        let empty = Config::from_toml("", "t").unwrap();
        assert_eq!(empty.database_pool_size, POOL_SIZE);
        let line = format!("\n# database_pool_size = {POOL_SIZE}\n");
        assert!(super::super::DEFAULT_TOML.contains(&line));
    }

    #[test]
    fn errors_name_the_key() {
        assert!(error("lisen = \"x\"").starts_with("lisen: is not a key here (known: `listen`"));
        let typo = error("[[apps]]\nid = \"a\"\ncallbak_url = \"http://x/\"");
        assert!(
            typo.starts_with("apps[0].callbak_url: is not a key here"),
            "{typo}"
        );
        assert!(typo.ends_with("; did you mean `callback_url`?"), "{typo}");
        let far = error("colour = \"blue\"");
        assert!(!far.contains("did you mean"), "{far}");
        assert!(error("[inbound]\nmax_body_bytes = \"1 furlong\"")
            .starts_with("inbound.max_body_bytes: \"1 furlong\" is not a size"));
        assert!(error("listen = \"nowhere\"").starts_with("listen: "));
        assert!(error("database = \"mysql://x\"").starts_with("database: "));
        assert!(error("[inbound]\nutc_offset = \"+8\"").starts_with("inbound.utc_offset: "));
        assert!(error("[inbound]\npath = \"/v1/x\"").starts_with("inbound.path: "));
        assert!(error("[inbound]\npath = \"/\"").contains("shadow the dashboard"));
        assert!(error("[inbound]\npath = \"/calls\"").contains("shadow ivrhook's own /calls"));
        assert!(error("[inbound]\nqueue_capacity = 0").starts_with("inbound.queue_capacity: "));
        assert!(error("[[apps]]\nid = \"a\"\n[[apps]]\nid = \"a\"")
            .starts_with("apps[1].id: a is configured twice"));
        assert!(error("[[apps]]\nid = \"\"").starts_with("apps[0].id: must not be empty"));
        assert!(error("[inbound]\nmax_body_bytes = \"big\"").contains("max_body_bytes"));
        assert!(error("roles = []").starts_with("roles: is empty"));
        assert!(error("[retention]\nreports = \"soon\"").starts_with("retention.reports: "));
        assert!(error("[retention]\nevery = \"forever\"").starts_with("retention.every: "));
        assert!(error("log_format = \"xml\"").starts_with("log_format: "));
        assert!(error("database_pool_size = 1").starts_with("database_pool_size: 1 is not"));
        assert!(error("roles = [\"send\"]").starts_with("roles: \"send\" is not a role"));
    }

    #[test]
    fn sizes_take_units() {
        let size = |v: &str| {
            let c = Config::from_toml(&format!("[inbound]\nmax_body_bytes = {v}"), "t").unwrap();
            c.inbound.max_body_bytes
        };
        assert_eq!(size("2048"), 2048);
        assert_eq!(size("\"1MiB\""), 1_048_576);
        assert_eq!(size("\"512 KiB\""), 524_288);
        assert_eq!(size("\"1MB\""), 1_000_000);
        assert!(error("[inbound]\nmax_body_bytes = \"0B\"").contains("must be greater than 0"));
    }

    /// The example entries in the default file, with the keys whose documented value is the
    /// default uncommented.
    fn documented_entry(kind: &str, required: &str) -> String {
        const DEFAULTED: [&str; 6] = [
            "timeout",
            "max_in_flight",
            "retry_schedule",
            "ordered",
            "max_backlog",
            "body",
        ];
        let reference = super::reference();
        let block = reference
            .split(&format!("# [[{kind}]]"))
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .expect("the default file shows an example entry");
        let shown: Vec<&str> = (block.lines())
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| DEFAULTED.iter().any(|k| l.starts_with(&format!("{k} = "))))
            .collect();
        assert!(shown.len() >= 4, "{kind}: {shown:?}");
        format!("[[{kind}]]\n{required}{}\n", shown.join("\n"))
    }

    #[test]
    fn the_example_entries_show_the_defaults() {
        let app = "id = \"a\"\ncallback_url = \"http://x/cb\"\n";
        let hook = "name = \"h\"\nkind = \"webhook\"\nurl = \"http://x/h\"\n";
        for (kind, required) in [("apps", app), ("destinations", hook)] {
            let minimal = Config::from_toml(&format!("[[{kind}]]\n{required}"), "t").unwrap();
            let documented = documented_entry(kind, required);
            let shown = Config::from_toml(&documented, "t").unwrap();
            assert_eq!(
                format!("{:?}", minimal.all_destinations()),
                format!("{:?}", shown.all_destinations()),
                "{documented}"
            );
        }
    }

    /// Each forward kind documents its own keys in the reference `ivrhook config` prints,
    /// where the `[[destinations]]` example shows them.
    #[test]
    fn the_reference_shows_every_kinds_own_keys() {
        let reference = super::reference();
        assert!(!reference.contains("#@kinds"), "the kinds' place is filled");
        for kind in ivrhook_engine::kinds::settings::KINDS {
            for key in kind.keys.iter().filter(|k| **k != "url") {
                let line = format!("\n# {key} = ");
                assert!(
                    reference.contains(&line),
                    "{}: {key} is not documented",
                    kind.name
                );
            }
        }
    }

    /// The configuration page's block cannot drift from the default file: every line of it
    /// is a line of `default.toml` (set or commented out), trailing comments aside.
    #[test]
    fn the_configuration_pages_block_is_the_default_file() {
        let page = include_str!("../../../../docs/configuration.md");
        let block = (page.split("```toml\n").nth(1))
            .and_then(|rest| rest.split("```").next())
            .expect("docs/configuration.md has a TOML block");
        let bare = |line: &str| {
            let line = line.trim();
            let line = line.strip_prefix("# ").unwrap_or(line);
            // A `#` inside a quoted value is not a comment; none of these values has one.
            line.split(" #").next().unwrap_or("").trim().to_owned()
        };
        let known: HashSet<String> = super::reference().lines().map(bare).collect();
        for line in block.lines().map(bare).filter(|l| !l.is_empty()) {
            assert!(
                known.contains(&line),
                "docs/configuration.md line {line:?} is not in default.toml"
            );
        }
        // The placeholder secret is the one value that is not a working one.
        let working = block.replace("secret = \"whsec_...\"", "");
        Config::from_toml(&working, "docs/configuration.md").unwrap_or_else(|e| panic!("{e}"));
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
