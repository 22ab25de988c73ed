//! A new event sent as it is accepted. When its destination has a free request slot, a closed breaker
//! and no claimed delivery waiting for a slot, the store is offered a lease for the event's
//! delivery in the write that stores it (`LeaseOffer`); if it takes it, this node sends the
//! delivery straight after the commit. That saves the claim (a statement and a new row
//! version for every delivery, about a third of the database's work for one that succeeds at
//! once) and the wait for the claim loop. Otherwise the delivery waits for a claim like any
//! other, and the claim loop is woken for it.

use crate::{attempt, destination::Destination, Engine, Inner, LEASE_MARGIN};
use ivrhook_store::{
    outbox::{Claimed, Lane, LeaseOffer, NewEvent, Payload, Submitted},
    StoreError,
};
use std::sync::{atomic::Ordering, Arc};

/// A request slot held for one event until it is sent, or given back when it is dropped
/// unsent (the store did not take the lease, or the write failed).
struct Reservation {
    inner: Arc<Inner>,
    dest: Arc<Destination>,
    offer: LeaseOffer,
    /// Shutdown waits for the attempt of a reservation made before it began.
    _token: tokio_util::task::task_tracker::TaskTrackerToken,
    sent: bool,
}

impl Engine {
    /// Stores a new event and its delivery (durable when this returns `Ok`) and gets the
    /// delivery going: sent from here at once when it can be (see the module), otherwise
    /// left to a claim, with the engine woken for it.
    pub async fn submit(&self, mut event: NewEvent) -> Result<Submitted, StoreError> {
        let reservation = reserve(&self.inner, &event);
        event.lease = reservation.as_ref().map(|r| r.offer.clone());
        // What the attempt needs of the event, kept only when it may be sent from here.
        let kept = reservation
            .as_ref()
            .map(|_| (event.call_id.to_string(), event.body.clone()));
        let (destination, created_at_ms, due_ms) = (
            event.destination.clone(),
            event.created_at_ms,
            event.first_attempt_at_ms,
        );
        let submitted = self.inner.store.submit_event(event).await?;
        match (submitted, reservation, kept) {
            (Submitted::Leased(ids), Some(reservation), Some((call_id, body))) => {
                reservation.send(Claimed {
                    delivery_id: ids.delivery_id,
                    call_id,
                    attempts: 0,
                    unknown_call_answers: 0,
                    created_at_ms,
                    payload: Payload::Event {
                        id: ids.event_id,
                        body,
                    },
                });
            }
            // Left to a claim (a lease is only ever taken when offered).
            (Submitted::New(_) | Submitted::Leased(_), ..) => {
                self.notify(&destination, Lane::First, due_ms);
            }
            (Submitted::Existing(_), ..) => {}
        }
        Ok(submitted)
    }
}

/// A slot for `event`, if it is due now and its destination can start a request now.
fn reserve(inner: &Arc<Inner>, event: &NewEvent) -> Option<Reservation> {
    let now = inner.clock.now_ms();
    if event.first_attempt_at_ms > now || !inner.running.load(Ordering::Acquire) {
        return None;
    }
    let dest = &inner.destinations[*inner.by_name.get(&event.destination)?];
    let settings = &dest.settings;
    if !dest.state().reserve(now, settings.max_in_flight) {
        return None;
    }
    Some(Reservation {
        inner: Arc::clone(inner),
        dest: Arc::clone(dest),
        offer: LeaseOffer {
            owner: inner.owner.clone(),
            until_ms: now + (settings.timeout + LEASE_MARGIN).as_millis() as i64,
            ordered: settings.ordered,
        },
        _token: inner.attempts.token(),
        sent: false,
    })
}

impl Reservation {
    /// Starts the attempt on the held slot, as the claim loop starts a claimed one.
    fn send(mut self, claimed: Claimed) {
        self.sent = true;
        self.dest
            .state()
            .start_reserved(claimed.delivery_id, self.inner.clock.now_ms());
        self.inner.metrics.sent_on_acceptance();
        self.inner.attempts.spawn(attempt::run(
            Arc::clone(&self.inner),
            Arc::clone(&self.dest),
            claimed,
            self.offer.until_ms,
        ));
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.sent {
            self.dest.state().unreserve();
            // The claim loop may have skipped a claim for want of this slot.
            self.inner.wake.notify_one();
        }
    }
}
