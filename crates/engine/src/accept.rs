//! A new event sent as it is accepted (`reserve`): when its destination can take a request
//! now, its delivery is leased in the write that stores it and sent straight after the commit;
//! otherwise it waits for a claim like any other, and the claim loop is woken for it.

use crate::{
    outgoing::Outgoing,
    reserve::{reserve, Reservation},
    Engine,
};
use ivrhook_store::{
    outbox::{Claimed, Lane, NewEvent, Payload, Submitted},
    StoreError,
};

impl Engine {
    /// Stores a new event and its delivery (durable when this returns `Ok`) and gets the
    /// delivery going: sent from here at once when it can be (see the module), otherwise
    /// left to a claim, with the engine woken for it.
    pub async fn submit(&self, mut event: NewEvent) -> Result<Submitted, StoreError> {
        let reservation = reserve(&self.inner, &event.destination, event.first_attempt_at_ms);
        event.lease = reservation.as_ref().map(Reservation::offer);
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
                reservation.send(Outgoing::new(Claimed {
                    delivery_id: ids.delivery_id,
                    call_id,
                    attempts: 0,
                    unknown_call_answers: 0,
                    created_at_ms,
                    payload: Payload::Event {
                        id: ids.event_id,
                        body,
                    },
                }));
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
