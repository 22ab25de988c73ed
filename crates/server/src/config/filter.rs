//! `[destinations.filter]`.

use super::{invalid, ConfigError};
use ivrhook_engine::{
    alerts::TypeFilter,
    route::{Filter, Keys},
};
use ivrhook_protocol::CallStatus;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileFilter {
    pub status: Option<String>,
    pub event: Option<String>,
    pub dtmf: Option<String>,
    pub has_recording: Option<bool>,
    /// Operator event types, for an alert destination.
    #[serde(rename = "type")]
    pub types: Option<Vec<String>>,
}

impl FileFilter {
    /// The filter of a destination that receives reports; `name` is the destination's.
    pub(super) fn validate(self, prefix: &str, name: &str) -> Result<Filter, ConfigError> {
        let key = |name: &str| format!("{prefix}.filter.{name}");
        if self.types.is_some() {
            return Err(invalid(
                key("type"),
                format!("selects operator events, and {name:?} is not in [alerts] destinations"),
            ));
        }
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
        if self.event.as_deref() == Some(ivrhook_engine::recordings::KEPT_EVENT) {
            let reports = [
                ("status", self.status.is_some()),
                ("dtmf", self.dtmf.is_some()),
                ("has_recording", self.has_recording.is_some()),
            ];
            if let Some((k, _)) = reports.iter().find(|(_, set)| *set) {
                return Err(invalid(
                    key(k),
                    "applies to reports, but event = \"recording.kept\" selects kept \
                     recordings: remove one or the other",
                ));
            }
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

impl FileFilter {
    /// The filter of an alert destination (`name`): `type` alone.
    pub(super) fn validate_alerts(
        self,
        prefix: &str,
        name: &str,
    ) -> Result<TypeFilter, ConfigError> {
        let key = |k: &str| format!("{prefix}.filter.{k}");
        let reports = [
            ("status", self.status.is_some()),
            ("event", self.event.is_some()),
            ("dtmf", self.dtmf.is_some()),
            ("has_recording", self.has_recording.is_some()),
        ];
        if let Some((k, _)) = reports.iter().find(|(_, set)| *set) {
            return Err(invalid(key(k), not_reports(name)));
        }
        match self.types {
            None => Ok(TypeFilter::default()),
            Some(types) => TypeFilter::parse(&types).map_err(|e| invalid(key("type"), e)),
        }
    }
}

/// Why a report setting is refused on an alert destination.
pub(super) fn not_reports(name: &str) -> String {
    format!(
        "{name:?} receives operator events ([alerts] destinations), not reports: remove this \
         key, or take it out of [alerts]"
    )
}
