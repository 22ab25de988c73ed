//! `[destinations.filter]` and a webhook's extra `headers`.

use super::{invalid, ConfigError};
use ivrhook_engine::route::{Filter, Keys};
use ivrhook_protocol::CallStatus;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use std::collections::BTreeMap;

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

/// Headers ivrhook sets itself, which a destination's `headers` may not replace.
const RESERVED: [&str; 6] = [
    "content-type",
    "content-length",
    "host",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
];

pub(super) fn headers(
    given: Option<&BTreeMap<String, String>>,
    key: &str,
) -> Result<HeaderMap, ConfigError> {
    let mut map = HeaderMap::new();
    for (name, value) in given.into_iter().flatten() {
        let at = || format!("{key}.{name}");
        let header = HeaderName::try_from(name.as_str())
            .map_err(|_| invalid(at(), "is not a valid header name"))?;
        if RESERVED.contains(&header.as_str()) || header.as_str().starts_with("ivrhook-") {
            return Err(invalid(at(), "is set by ivrhook itself"));
        }
        let value = HeaderValue::try_from(value.as_str())
            .map_err(|_| invalid(at(), "is not a valid header value (visible ASCII only)"))?;
        map.insert(header, value);
    }
    Ok(map)
}
