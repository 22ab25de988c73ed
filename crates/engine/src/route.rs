//! Which received reports go to a destination: its apps and its filter, every key optional and
//! all of them AND-ed. Pure: decided on the decoded report, unit-tested.

use ivrhook_protocol::{
    forward::{has_recording, last_keys},
    AppId, CallStatus, Report,
};
use std::collections::HashSet;

/// `[destinations.filter]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only reports that ended so (completed or hung up).
    pub status: Option<CallStatus>,
    /// Only reports of this event.
    pub event: Option<String>,
    /// Only reports whose last command's keys are these.
    pub dtmf: Option<Keys>,
    /// Only reports with (or without) a recording.
    pub has_recording: Option<bool>,
}

/// What the last command's keys must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keys {
    /// `"*"`: any keys at all.
    Any,
    /// These keys exactly.
    Exactly(String),
}

/// A destination's share of the received reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    /// `None`: every app.
    pub apps: Option<HashSet<AppId>>,
    /// What a report must be to go there.
    pub filter: Filter,
}

impl Route {
    /// Whether `r` goes to the destination.
    pub fn matches(&self, r: &Report) -> bool {
        self.apps
            .as_ref()
            .is_none_or(|apps| apps.contains(&r.app_id))
            && self.filter.matches(r)
    }
}

impl Filter {
    /// Whether `r` passes the filter.
    pub fn matches(&self, r: &Report) -> bool {
        let keys = last_keys(r);
        self.status.is_none_or(|s| r.status == Some(s))
            && self.event.as_ref().is_none_or(|e| *e == r.event)
            && self.dtmf.as_ref().is_none_or(|want| match want {
                Keys::Any => keys.is_some(),
                Keys::Exactly(k) => keys == Some(k.as_str()),
            })
            && self
                .has_recording
                .is_none_or(|want| has_recording(r) == want)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivrhook_testkit::decoded_report as report;

    #[test]
    fn every_key_must_match() {
        let hung_up_with_1 = report(1, Some("1"), true);
        let completed = report(0, None, false);
        let filter = Filter {
            status: Some(CallStatus::HungUp),
            event: Some("multrpt".into()),
            dtmf: Some(Keys::Exactly("1".into())),
            has_recording: Some(true),
        };
        assert!(filter.matches(&hung_up_with_1));
        assert!(!filter.matches(&completed));
        assert!(!filter.matches(&report(1, Some("2"), true)), "other keys");
        assert!(
            !filter.matches(&report(1, Some("1"), false)),
            "no recording"
        );
        assert!(!filter.matches(&report(0, Some("1"), true)), "completed");
        let other_event = Filter {
            event: Some("callstatrpt".into()),
            ..Filter::default()
        };
        assert!(!other_event.matches(&completed));
        assert!(Filter::default().matches(&completed), "no keys: everything");
    }

    #[test]
    fn any_keys_and_no_recording_are_conditions_too() {
        let any = Filter {
            dtmf: Some(Keys::Any),
            ..Filter::default()
        };
        assert!(any.matches(&report(0, Some("25"), false)));
        assert!(!any.matches(&report(0, None, false)));
        let without = Filter {
            has_recording: Some(false),
            ..Filter::default()
        };
        assert!(without.matches(&report(0, None, false)));
        assert!(!without.matches(&report(1, None, true)));
    }

    #[test]
    fn apps_narrow_a_route() {
        let a1 = AppId::try_from("a1").unwrap();
        let only_a2 = Route {
            apps: Some(HashSet::from([AppId::try_from("a2").unwrap()])),
            filter: Filter::default(),
        };
        assert!(!only_a2.matches(&report(0, None, false)));
        let with_a1 = Route {
            apps: Some(HashSet::from([a1])),
            filter: Filter::default(),
        };
        assert!(with_a1.matches(&report(0, None, false)));
        assert!(Route::default().matches(&report(0, None, false)));
    }
}
