//! Received reports handed on: which forward destinations a report goes to, the backpressure
//! that refuses it while one of them is at its `max_backlog`, and waking the engine once its
//! deliveries are committed.

use crate::Engine;
use ivrhook_protocol::Report;
use ivrhook_store::{outbox::Lane, Forward};

/// A report that cannot be taken now: a destination it goes to is full.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("destination {destination} has {backlog} deliveries pending (its max_backlog is {max})")]
pub struct BacklogFull {
    pub destination: String,
    pub backlog: i64,
    pub max: u64,
}

impl Engine {
    /// The forward deliveries a report received at `received_at_ms` gets, one per destination
    /// whose route it matches; or the first of them that is at its `max_backlog`.
    pub fn route(&self, report: &Report, received_at_ms: i64) -> Result<Vec<Forward>, BacklogFull> {
        let mut forwards = Vec::new();
        for dest in &self.inner.destinations {
            let settings = &dest.settings;
            if !settings.route.as_ref().is_some_and(|r| r.matches(report)) {
                continue;
            }
            let backlog = dest.backlog.pending();
            if u64::try_from(backlog).unwrap_or(0) >= settings.max_backlog {
                self.inner.metrics.refused(dest.name());
                return Err(BacklogFull {
                    destination: settings.name.clone(),
                    backlog,
                    max: settings.max_backlog,
                });
            }
            forwards.push(Forward {
                destination: settings.name.clone(),
                first_attempt_at_ms: self.first_attempt_at(&settings.name, received_at_ms),
            });
        }
        Ok(forwards)
    }

    /// A new report's forwards are committed: they join their backlogs, and the engine is
    /// woken for them.
    pub fn forwarded(&self, forwards: &[Forward]) {
        for f in forwards {
            if let Some(i) = self.inner.by_name.get(&f.destination) {
                self.inner.destinations[*i].backlog.change(1);
            }
            self.notify(&f.destination, Lane::First, f.first_attempt_at_ms);
        }
    }
}
