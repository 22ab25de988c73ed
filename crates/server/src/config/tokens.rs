//! `[[api_tokens]]`: API and dashboard tokens kept as SHA-256 hashes, each with its scopes
//! (`read`: GET endpoints and the dashboard; `operate`: retries and event submission).

use super::{invalid, ConfigError};
use serde::Deserialize;
use std::collections::HashSet;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileToken {
    name: String,
    sha256: String,
    scopes: Vec<String>,
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scopes {
    /// The GET endpoints and the dashboard.
    pub read: bool,
    /// Retries and event submission too.
    pub operate: bool,
}

impl Scopes {
    /// Both, as `admin_token` has.
    pub const ALL: Scopes = Scopes {
        read: true,
        operate: true,
    };
}

/// A token's hash (never the token) and what it may do.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Its name, for people and logs.
    pub name: String,
    /// The token's SHA-256.
    pub sha256: [u8; 32],
    /// What it may do.
    pub scopes: Scopes,
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiToken({}, {:?})", self.name, self.scopes)
    }
}

pub(crate) fn validate(list: Vec<FileToken>) -> Result<Vec<ApiToken>, ConfigError> {
    let mut names = HashSet::new();
    let mut tokens = Vec::with_capacity(list.len());
    for (i, t) in list.into_iter().enumerate() {
        let key = |k: &str| format!("api_tokens[{i}].{k}");
        if t.name.is_empty() || !names.insert(t.name.clone()) {
            return Err(invalid(key("name"), "must be set and unique"));
        }
        let sha256 = hex32(&t.sha256).ok_or_else(|| {
            invalid(
                key("sha256"),
                "must be 64 hex digits: the SHA-256 that `ivrhook token new` prints",
            )
        })?;
        let mut scopes = Scopes {
            read: false,
            operate: false,
        };
        for s in &t.scopes {
            match s.as_str() {
                "read" => scopes.read = true,
                "operate" => scopes.operate = true,
                other => {
                    return Err(invalid(
                        key("scopes"),
                        format!("{other:?} must be read or operate"),
                    ))
                }
            }
        }
        if t.scopes.is_empty() {
            return Err(invalid(
                key("scopes"),
                "is empty: give read, operate or both",
            ));
        }
        tokens.push(ApiToken {
            name: t.name,
            sha256,
            scopes,
        });
    }
    Ok(tokens)
}

fn hex32(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn error(entry: &str) -> String {
        let text = format!("[[api_tokens]]\n{entry}");
        Config::from_toml(&text, "t").unwrap_err().to_string()
    }

    #[test]
    fn a_token_entry_that_cannot_work_stops_start_up() {
        let hash = "sha256 = \"1eef5b9abac0b13b22d9d85f0ca9998dbef5fc4b7932b3deb15dc615035e26bb\"";
        let e = error("name = \"a\"\nsha256 = \"abc\"\nscopes = [\"read\"]");
        assert!(
            e.starts_with("api_tokens[0].sha256: must be 64 hex digits"),
            "{e}"
        );
        let e = error(&format!("name = \"a\"\n{hash}\nscopes = [\"write\"]"));
        assert!(
            e.starts_with("api_tokens[0].scopes: \"write\" must be read or operate"),
            "{e}"
        );
        let e = error(&format!("name = \"a\"\n{hash}\nscopes = []"));
        assert!(e.starts_with("api_tokens[0].scopes: is empty"), "{e}");
        let e = error(&format!("name = \"\"\n{hash}\nscopes = [\"read\"]"));
        assert!(e.starts_with("api_tokens[0].name"), "{e}");
    }
}
