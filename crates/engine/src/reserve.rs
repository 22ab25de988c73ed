//! Sending a delivery as it is written. When its destination has a free request slot, a
//! closed breaker and no claimed delivery waiting for a slot, the store is offered a lease for
//! the delivery in the write that stores it (`LeaseOffer`); if it takes it, this node sends
//! the delivery straight after the commit. That saves the claim (a statement and a new row
//! version for every delivery, about a third of the database's work for one that succeeds at
//! once) and the wait for the claim loop. Used for events submitted to the sender (`accept`)
//! and for received reports' forwards (`forward`).

use crate::{attempt, destination::Destination, outgoing::Outgoing, Inner, LEASE_MARGIN};
use ivrhook_store::outbox::LeaseOffer;
use std::sync::{atomic::Ordering, Arc};

/// A request slot held for one delivery until it is sent, or given back when it is dropped
/// unsent (the store did not take the lease, or the write failed).
#[derive(Debug)]
pub(crate) struct Reservation {
    inner: Arc<Inner>,
    dest: Arc<Destination>,
    offer: LeaseOffer,
    /// Shutdown waits for the attempt of a reservation made before it began.
    _token: tokio_util::task::task_tracker::TaskTrackerToken,
    sent: bool,
}

/// A slot for a new delivery to `destination`, if it is due now and the destination can
/// start a request now.
pub(crate) fn reserve(inner: &Arc<Inner>, destination: &str, due_ms: i64) -> Option<Reservation> {
    let now = inner.clock.now_ms();
    if due_ms > now || !inner.running.load(Ordering::Acquire) {
        return None;
    }
    let dest = &inner.destinations[*inner.by_name.get(destination)?];
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
    /// The lease to offer the store with the delivery.
    pub fn offer(&self) -> LeaseOffer {
        self.offer.clone()
    }

    /// Starts the attempt on the held slot, as the claim loop starts a claimed one.
    pub fn send(mut self, outgoing: Outgoing) {
        self.sent = true;
        self.dest
            .state()
            .start_reserved(outgoing.claimed().delivery_id, self.inner.clock.now_ms());
        self.inner.metrics.sent_on_acceptance();
        self.inner.attempts.spawn(attempt::run(
            Arc::clone(&self.inner),
            Arc::clone(&self.dest),
            outgoing,
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
