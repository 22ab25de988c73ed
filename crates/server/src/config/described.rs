//! How a configuration error is told: the key as the messages name it, where it was set, and
//! what was most likely meant.

use super::ConfigError;

/// The known key a misspelt one most likely meant: at most two edits away (a letter left
/// out, added, changed), the nearest first.
pub(super) fn closest<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
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
pub(super) fn described(error: figment::Error, name: &str) -> ConfigError {
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
        Kind::InvalidType(actual, _) if is_duration(key) => match number(actual) {
            Some(n) => {
                format!("{n} is a number, not a duration: write it with its unit, such as \"{n}s\"")
            }
            None => e.kind.to_string(),
        },
        other => other.to_string(),
    };
    let from = (e.metadata.as_ref()).and_then(|m| where_set(m, &key.join("__")));
    ConfigError::Invalid {
        key: key_name(key),
        reason: match from {
            Some(from) => format!("{reason} ({from})"),
            None => reason,
        },
    }
}

/// Where a value was set, when that is a file (`in …`) or the environment (`from
/// IVRHOOK_…`, `variable` its name after the prefix); a flag or a default needs no pointer.
pub(super) fn where_set(m: &figment::Metadata, variable: &str) -> Option<String> {
    match &m.source {
        Some(source) => Some(format!("in {source}")),
        None if m.name.contains("environment") => {
            Some(format!("from IVRHOOK_{}", variable.to_ascii_uppercase()))
        }
        None => None,
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

/// Keys whose values are durations: by their last name, or the table or list they are in.
fn is_duration(path: &[String]) -> bool {
    let names: Vec<&str> = (path.iter())
        .filter(|p| !p.bytes().all(|b| b.is_ascii_digit()))
        .map(String::as_str)
        .collect();
    let (first, last) = (names.first().copied(), names.last().copied());
    first == Some("retention")
        || matches!(
            last,
            Some(
                "timeout"
                    | "body_timeout"
                    | "header_timeout"
                    | "tolerance"
                    | "log_refusals_every"
                    | "retry_schedule"
            )
        )
}

/// A number the file gave, as it wrote it.
fn number(actual: &figment::error::Actual) -> Option<String> {
    use figment::error::Actual;
    match actual {
        Actual::Signed(n) => Some(n.to_string()),
        Actual::Unsigned(n) => Some(n.to_string()),
        Actual::Float(n) => Some(n.to_string()),
        _ => None,
    }
}
