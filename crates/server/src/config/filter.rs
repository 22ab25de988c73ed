//! `[destinations.filter]`.

use super::{invalid, ConfigError};
use ivrhook_engine::route::{Filter, Keys};
use ivrhook_protocol::CallStatus;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileFilter {
    pub status: Option<String>,
    pub event: Option<String>,
    pub dtmf: Option<String>,
    pub has_recording: Option<bool>,
}

impl FileFilter {
    pub(super) fn validate(self, prefix: &str) -> Result<Filter, ConfigError> {
        let key = |name: &str| format!("{prefix}.filter.{name}");
        let status = match self.status.as_deref() {
            None => None,
            Some("completed") => Some(CallStatus::Completed),
            Some("hungup") => Some(CallStatus::HungUp),
            Some(other) => {
                return Err(invalid(
                    key("status"),
                    format!("{other:?} must be \"completed\" or \"hungup\""),
                ))
            }
        };
        if self.event.as_deref() == Some("") {
            return Err(invalid(key("event"), "must not be empty"));
        }
        let dtmf = match self.dtmf {
            None => None,
            Some(k) if k == "*" => Some(Keys::Any),
            Some(k) if k.is_empty() => {
                return Err(invalid(
                    key("dtmf"),
                    "must be the keys to match, or \"*\" for any",
                ))
            }
            Some(k) => Some(Keys::Exactly(k)),
        };
        Ok(Filter {
            status,
            event: self.event,
            dtmf,
            has_recording: self.has_recording,
        })
    }
}
