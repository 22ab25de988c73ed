//! Received reports handed on: which forward destinations a report goes to, the backpressure
//! that refuses it while one of them is at its `max_backlog`, and, once the report and its
//! deliveries are committed, sending those leased to this node as they were written
//! (`reserve`) and waking the engine for the rest.

use crate::{
    outgoing::{Outgoing, Shared},
    reserve::{reserve, Reservation},
    Engine,
};
use ivrhook_protocol::{Decoded, Report};
use ivrhook_store::{
    outbox::{Claimed, Lane, Payload, ReceivedReport},
    Forward, Leased,
};
use std::sync::Arc;

/// A report that cannot be taken now: a destination it goes to is full.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("destination {destination} has {backlog} deliveries pending (its max_backlog is {max})")]
pub struct BacklogFull {
    /// The destination that is full.
    pub destination: String,
    /// Its pending deliveries.
    pub backlog: i64,
    /// Its `max_backlog`.
    pub max: u64,
}

/// A report's forwards, each with the request slot held for it when it may be sent as it is
/// written (dropping an unsent one gives its slot back).
#[derive(Debug, Default)]
pub struct Routed {
    forwards: Vec<Forward>,
    reservations: Vec<Option<Reservation>>,
}

impl Routed {
    /// The deliveries to write with the report.
    pub fn forwards(&self) -> &[Forward] {
        &self.forwards
    }
}

impl Engine {
    /// The forward deliveries a report received now gets, one per destination whose route it
    /// matches; or the first of them that is at its `max_backlog`. Due times are read on the
    /// engine's clock, the one the leases are offered by: on the wall clock, a first attempt
    /// due "now" could look a millisecond early to it, and wait for a claim.
    pub fn route(&self, report: &Report) -> Result<Routed, BacklogFull> {
        let now = self.clock().now_ms();
        let mut routed = Routed::default();
        for dest in &self.inner.destinations {
            let settings = &dest.settings;
            if !settings.route.as_ref().is_some_and(|r| r.matches(report)) {
                continue;
            }
            let backlog = dest.backlog.pending();
            if u64::try_from(backlog).unwrap_or(0) >= settings.max_backlog {
                dest.metrics.refused();
                return Err(BacklogFull {
                    destination: settings.name.clone(),
                    backlog,
                    max: settings.max_backlog,
                });
            }
            let due = self.first_attempt_at(&settings.name, now);
            let reservation = reserve(&self.inner, &settings.name, due);
            routed.forwards.push(Forward {
                destination: settings.name.clone(),
                first_attempt_at_ms: due,
                lease: reservation.as_ref().map(Reservation::offer),
            });
            routed.reservations.push(reservation);
        }
        Ok(routed)
    }

    /// A new report is committed with its forwards: they join their backlogs; those leased to
    /// this node (`leased`) go now, from here, sharing the receiver's decoding (`decoded`);
    /// the engine is woken for the rest.
    pub fn forwarded(
        &self,
        routed: Routed,
        leased: &[Leased],
        report: ReceivedReport,
        decoded: Decoded,
        call_id: &str,
    ) {
        let Routed {
            forwards,
            reservations,
        } = routed;
        let shared = Arc::new(Shared {
            decoded: Some(decoded),
            ..Shared::default()
        });
        for (f, reservation) in forwards.iter().zip(reservations) {
            if let Some(i) = self.inner.by_name.get(&f.destination) {
                self.inner.destinations[*i].backlog.change(1);
            }
            let mine = leased.iter().find(|l| l.destination == f.destination);
            match (mine, reservation) {
                (Some(l), Some(reservation)) => {
                    let claimed = Claimed {
                        delivery_id: l.delivery_id,
                        call_id: call_id.to_owned(),
                        attempts: 0,
                        unknown_call_answers: 0,
                        created_at_ms: report.received_at_ms,
                        payload: Payload::Report(report.clone()),
                    };
                    reservation.send(Outgoing::sharing(claimed, Arc::clone(&shared)));
                }
                // Left to a claim (a lease is only ever taken when offered).
                _ => self.notify(&f.destination, Lane::First, f.first_attempt_at_ms),
            }
        }
    }
}
