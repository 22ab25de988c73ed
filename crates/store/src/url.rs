//! Database URLs: `sqlite://relative.db`, `sqlite:///abs/path.db`, `postgres://…`.

use crate::StoreError;
use std::{fmt, path::PathBuf, str::FromStr};

/// Which database, parsed from its URL.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file at this path.
    Sqlite(PathBuf),
    /// A PostgreSQL server, the URL as given (with its parameters).
    Postgres(String),
}

impl FromStr for DatabaseUrl {
    type Err = StoreError;

    fn from_str(url: &str) -> Result<Self, StoreError> {
        let bad = |reason: &str| StoreError::BadUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(bad(
                    "names no file: write sqlite://ivrhook.db or sqlite:///abs/path.db",
                ));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        Err(bad("must start with sqlite:// or postgres://"))
    }
}

/// Shows the URL without a password, so it can be logged.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            DatabaseUrl::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(s), Some(at)) if url[s + 3..at].contains(':') => {
                    let user_end = s + 3 + url[s + 3..at].find(':').unwrap_or(0);
                    write!(f, "{}:***{}", &url[..user_end], &url[at..])
                }
                _ => f.write_str(url),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_relative_and_absolute_sqlite_paths() {
        let rel: DatabaseUrl = "sqlite://ivrhook.db".parse().unwrap();
        assert_eq!(rel, DatabaseUrl::Sqlite("ivrhook.db".into()));
        let abs: DatabaseUrl = "sqlite:///var/lib/x.db".parse().unwrap();
        assert_eq!(abs, DatabaseUrl::Sqlite("/var/lib/x.db".into()));
        assert!("sqlite://".parse::<DatabaseUrl>().is_err());
        let err = "mysql://x".parse::<DatabaseUrl>().unwrap_err().to_string();
        assert!(
            err.contains("must start with sqlite:// or postgres://"),
            "{err}"
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let url: DatabaseUrl = "postgres://app:s3cret@db/ivr".parse().unwrap();
        assert_eq!(format!("{url:?}"), "postgres://app:***@db/ivr");
    }
}
