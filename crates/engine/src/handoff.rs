//! First attempts sent by the node that accepted the event, with no claim. The store leases
//! the new delivery to this node in the insert itself (`Handoff`) when it may go now, and the
//! attempt starts as soon as the insert commits: per delivery, a claim statement, its row
//! update and (PostgreSQL) a NOTIFY fewer, and no trip through the claim loop.
//!
//! A node offers a handoff only when it could start the attempt at once: its engine runs, the
//! app's first attempt is due at acceptance, the breaker is closed, and more than half of the
//! app's request slots are free (one is reserved until the insert answers). The half left to
//! the claim loop keeps a backlog moving: were handoffs allowed any free slot, new events
//! could take every slot that frees while older ones wait.

use crate::{attempt, breaker::BreakerState, destination::Destination, Inner, LEASE_MARGIN};
use ivrhook_store::{
    outbox::{Claimed, Handoff, Lane, NewEvent, Submitted},
    StoreError,
};
use std::sync::{atomic::Ordering, Arc};
use tokio_util::task::task_tracker::TaskTrackerToken;

/// A request slot held for a submission that asked for a handoff. Dropped without
/// [`Reservation::start`] (not granted, or the insert failed), it frees the slot.
struct Reservation {
    inner: Arc<Inner>,
    dest: Arc<Destination>,
    lease_until_ms: i64,
    /// Keeps the engine's shutdown waiting until the attempt has started or the slot is free.
    _tracked: TaskTrackerToken,
    started: bool,
}

impl Reservation {
    fn start(mut self, claimed: Claimed, now_ms: i64) {
        {
            let mut st = self.dest.state.lock().unwrap_or_else(|p| p.into_inner());
            st.in_flight.insert(claimed.delivery_id);
            st.breaker.on_start(now_ms);
        }
        self.inner.metrics.handoff();
        self.started = true;
        let (inner, dest) = (Arc::clone(&self.inner), Arc::clone(&self.dest));
        let lease_until_ms = self.lease_until_ms;
        self.inner
            .attempts
            .spawn(attempt::run(inner, dest, claimed, lease_until_ms));
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.started {
            self.dest
                .state
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .active -= 1;
            self.inner.wake.notify_one();
        }
    }
}

fn reserve(inner: &Arc<Inner>, event: &NewEvent, now_ms: i64) -> Option<Reservation> {
    if !inner.delivering.load(Ordering::Acquire) || event.first_attempt_at_ms > now_ms {
        return None;
    }
    let dest = &inner.destinations[*inner.by_app.get(event.app_id.as_str())?];
    let mut st = dest.state.lock().unwrap_or_else(|p| p.into_inner());
    let max = dest.settings.max_in_flight;
    let closed = st.breaker.state(now_ms) == BreakerState::Closed;
    if !closed || st.free(now_ms, max) <= max / 2 {
        return None;
    }
    st.active += 1;
    Some(Reservation {
        inner: Arc::clone(inner),
        dest: Arc::clone(dest),
        lease_until_ms: now_ms + (dest.settings.timeout + LEASE_MARGIN).as_millis() as i64,
        _tracked: inner.attempts.token(),
        started: false,
    })
}

/// Submits `event`, asking for a handoff when this node could send it now; starts the attempt
/// if the store granted it, and otherwise tells the claim loop the event is due.
pub(crate) async fn submit(
    inner: Arc<Inner>,
    mut event: NewEvent,
) -> Result<Submitted, StoreError> {
    let now_ms = inner.clock.now_ms();
    let reservation = reserve(&inner, &event, now_ms);
    event.handoff = reservation.as_ref().map(|r| Handoff {
        owner: inner.owner.clone(),
        lease_until_ms: r.lease_until_ms,
        ordered: r.dest.settings.ordered,
    });
    let (app, due_ms) = (event.app_id.to_string(), event.first_attempt_at_ms);
    // What the attempt needs, kept only when it may be this node's to send.
    let to_send = reservation.is_some().then(|| {
        (
            event.call_id.to_string(),
            event.created_at_ms,
            event.body.clone(),
        )
    });
    let submitted = inner.store.submit_event(event).await?;
    match (submitted, reservation, to_send) {
        (Submitted::Leased(ids), Some(reservation), Some((call_id, created_at_ms, body))) => {
            let claimed = Claimed {
                delivery_id: ids.delivery_id,
                event_id: ids.event_id,
                call_id,
                attempts: 0,
                unknown_call_answers: 0,
                created_at_ms,
                body,
            };
            reservation.start(claimed, now_ms);
        }
        (Submitted::New(_), reservation, _) => {
            drop(reservation);
            crate::announce_due(&inner, &app, Lane::First, due_ms);
        }
        _ => {}
    }
    Ok(submitted)
}
