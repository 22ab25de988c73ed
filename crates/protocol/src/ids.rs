//! Validated identifiers. An `AppId` or `CallId` that exists is non-empty, bounded and free of
//! control characters, so it is safe to log, to put in a URL path and to use as a key.

use serde::Serialize;
use std::fmt;

/// Longest identifier accepted. The spec's examples are 32 and 49 characters long; the bound
/// keeps a hostile body from making giant index keys.
pub const MAX_ID_LEN: usize = 256;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The string is empty.
    #[error("must not be empty")]
    Empty,
    /// Longer than [`MAX_ID_LEN`] bytes (its length).
    #[error("is {0} bytes long; at most {MAX_ID_LEN} are allowed")]
    TooLong(usize),
    /// A control character, at this byte.
    #[error("contains a control character at byte {0}")]
    Control(usize),
}

fn check(s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.len() > MAX_ID_LEN {
        return Err(IdError::TooLong(s.len()));
    }
    if let Some((at, _)) = s.char_indices().find(|(_, c)| c.is_control()) {
        return Err(IdError::Control(at));
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The identifier as the platform sent it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                check(&s)?;
                Ok(Self(s))
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            fn try_from(s: &str) -> Result<Self, IdError> {
                Self::try_from(s.to_owned())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// The application a report belongs to (`appId`).
    AppId
);
id_type!(
    /// The phone call a report is about (`callId`).
    CallId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_refuse_empty_long_and_control_text() {
        assert_eq!(AppId::try_from(""), Err(IdError::Empty));
        assert_eq!(
            CallId::try_from("a".repeat(257)),
            Err(IdError::TooLong(257))
        );
        assert_eq!(CallId::try_from("ab\ncd"), Err(IdError::Control(2)));
        let id = CallId::try_from("88-2018031000182918181271218-108bc381ca0f42d8-out").unwrap();
        assert_eq!(id.as_str().len(), 49);
    }
}
