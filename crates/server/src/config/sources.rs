//! Where configuration comes from, in order, each layer over the last: the documented default
//! file (`default.toml`, the one place defaults are written), the operator's file, `IVRHOOK_*`
//! variables (`IVRHOOK_INBOUND__MAX_BODY_BYTES`: `__` separates a table from its key), then
//! command-line flags. Errors name the key and the layer it came from.

use super::{
    described::{described, where_set},
    file::FileConfig,
    Config, ConfigError, Overrides, DEFAULT_TOML,
};
use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use std::path::Path;

/// `IVRHOOK_*` variables that the client commands read and that are not configuration keys.
const NOT_KEYS: [&str; 2] = ["config", "server"];

/// Keys whose value is text, taken from a variable as written: figment would read
/// `IVRHOOK_ADMIN_TOKEN=0123…` as a number and drop its leading zero.
const TEXT_KEYS: [&str; 7] = [
    "admin_token",
    "listen",
    "database",
    "inbound.path",
    "inbound.utc_offset",
    "inbound.body_timeout",
    "inbound.header_timeout",
];

/// The defaults, the file at `path` (if any), the environment, the flags; validated, and a
/// value refused after it was read is told with where it was set.
pub(super) fn load(path: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
    let mut layers = Figment::from(Toml::string(DEFAULT_TOML));
    if let Some(path) = path {
        // Opened first, so a missing or unreadable file says so rather than being skipped.
        std::fs::File::open(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        layers = layers.merge(Toml::file_exact(path));
    }
    let env = Env::prefixed("IVRHOOK_").split("__").ignore(&NOT_KEYS);
    let texts: Vec<(String, String)> = (env.iter())
        .filter(|(key, _)| TEXT_KEYS.contains(&key.as_str()))
        .map(|(key, value)| (key.to_string(), value))
        .collect();
    layers = layers.merge(env.filter(|key| !TEXT_KEYS.contains(&key.as_str())));
    for (key, value) in texts {
        layers = layers.merge(Serialized::default(&key, value));
    }
    let layers = layers.merge(Serialized::defaults(overrides));
    let name = path.map_or("<defaults>".into(), |p| p.display().to_string());
    let file = extract(layers.clone(), &name)?;
    file.validate().map_err(|e| placed(e, &layers))
}

/// `e` with where its key was set, when that is a file or the environment (a flag or a
/// default needs no pointer). Inside a list the list's own place is the one known.
fn placed(e: ConfigError, layers: &Figment) -> ConfigError {
    let ConfigError::Invalid { key, reason } = e else {
        return e;
    };
    let known = key.split('[').next().unwrap_or(&key);
    let variable = known.replace('.', "__");
    let from = (layers.find_metadata(known)).and_then(|m| where_set(m, &variable));
    let reason = match from {
        Some(from) => format!("{reason} ({from})"),
        None => reason,
    };
    ConfigError::Invalid { key, reason }
}

/// `log_format` from the same layers as `load`, whatever the rest of them hold; from the
/// environment and the flags alone when the file cannot be read as TOML at all.
pub(super) fn log_format(path: Option<&Path>, overrides: &Overrides) -> Option<String> {
    let above = || {
        let env = Env::prefixed("IVRHOOK_").split("__").ignore(&NOT_KEYS);
        Figment::from(env).merge(Serialized::defaults(overrides))
    };
    let mut layers = Figment::from(Toml::string(DEFAULT_TOML));
    if let Some(path) = path {
        layers = layers.merge(Toml::file_exact(path));
    }
    let layers = layers.merge(above());
    (layers.extract_inner("log_format").ok()).or_else(|| above().extract_inner("log_format").ok())
}

/// The defaults under `text`, nothing else (for tests and `config check`).
pub(super) fn from_text(text: &str, name: &str) -> Result<FileConfig, ConfigError> {
    let layers = Figment::from(Toml::string(DEFAULT_TOML)).merge(Toml::string(text));
    extract(layers, name)
}

fn extract(layers: Figment, name: &str) -> Result<FileConfig, ConfigError> {
    layers.extract().map_err(|e| described(e, name))
}
