//! Where configuration comes from, in order, each layer over the last: the documented default
//! file (`default.toml`, the one place defaults are written), the operator's file, `IVRHOOK_*`
//! variables (`IVRHOOK_INBOUND__MAX_BODY_BYTES`: `__` separates a table from its key), then
//! command-line flags. Errors name the key and the layer it came from.

use super::{file::FileConfig, ConfigError, Overrides, DEFAULT_TOML};
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

/// The defaults, the file at `path` (if any), the environment, the flags.
pub(super) fn load(path: Option<&Path>, overrides: &Overrides) -> Result<FileConfig, ConfigError> {
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
    extract(
        layers,
        &path.map_or("<defaults>".into(), |p| p.display().to_string()),
    )
}

/// `log_format` from the same layers as `load`, whatever the rest of them hold.
pub(super) fn log_format(path: Option<&Path>, overrides: &Overrides) -> Option<String> {
    let mut layers = Figment::from(Toml::string(DEFAULT_TOML));
    if let Some(path) = path {
        layers = layers.merge(Toml::file_exact(path));
    }
    let env = Env::prefixed("IVRHOOK_").split("__").ignore(&NOT_KEYS);
    let layers = layers.merge(env).merge(Serialized::defaults(overrides));
    layers.extract_inner("log_format").ok()
}

/// The defaults under `text`, nothing else (for tests and `config check`).
pub(super) fn from_text(text: &str, name: &str) -> Result<FileConfig, ConfigError> {
    let layers = Figment::from(Toml::string(DEFAULT_TOML)).merge(Toml::string(text));
    extract(layers, name)
}

fn extract(layers: Figment, name: &str) -> Result<FileConfig, ConfigError> {
    layers.extract().map_err(|e| described(e, name))
}

/// The known key a misspelt one most likely meant: at most two edits away (a letter left
/// out, added, changed), the nearest first.
fn closest<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    (known.iter())
        .map(|k| (edits(unknown, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// How many one-letter edits turn `a` into `b` (Levenshtein).
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The first error, as the key it is about and where that key was set.
fn described(error: figment::Error, name: &str) -> ConfigError {
    use figment::error::Kind;
    let Some(e) = error.into_iter().next() else {
        return ConfigError::Parse {
            path: name.to_owned(),
            message: "invalid configuration".into(),
        };
    };
    let key = &e.path;
    let reason = match &e.kind {
        Kind::UnknownField(unknown, expected) => {
            let listed: Vec<String> = expected.iter().map(|k| format!("`{k}`")).collect();
            let known = format!("is not a key here (known: {})", listed.join(", "));
            match closest(unknown, expected) {
                Some(meant) => format!("{known}; did you mean `{meant}`?"),
                None => known,
            }
        }
        Kind::Message(m) if key.is_empty() => {
            // A file that is not TOML at all: the parser's message has the line.
            return ConfigError::Parse {
                path: name.to_owned(),
                message: m.trim_end().to_owned(),
            };
        }
        other => other.to_string(),
    };
    let from = e.metadata.as_ref().and_then(|m| match &m.source {
        Some(source) => Some(format!("in {source}")),
        None if m.name.contains("environment") => Some(format!(
            "from IVRHOOK_{}",
            key.join("__").to_ascii_uppercase()
        )),
        None => None,
    });
    ConfigError::Invalid {
        key: key_name(key),
        reason: match from {
            Some(from) => format!("{reason} ({from})"),
            None => reason,
        },
    }
}

/// `destinations[0].filter.status`, as the other messages name keys.
fn key_name(path: &[String]) -> String {
    let mut name = String::new();
    for part in path {
        if part.bytes().all(|b| b.is_ascii_digit()) {
            name.push_str(&format!("[{part}]"));
        } else {
            if !name.is_empty() {
                name.push('.');
            }
            name.push_str(part);
        }
    }
    name
}
