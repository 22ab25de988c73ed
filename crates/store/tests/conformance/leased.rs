//! Lease offers: a node that can send a new event at once has its delivery leased in the
//! write that stores it, if the delivery may go now; otherwise it waits to be claimed.

use crate::outbox::{claim, event, ids, ordered_claim, record_id, NOW};
use ivrhook_store::{
    outbox::{DeliveryState, EventIds, Lane, LeaseOffer, NewEvent, Settle, Submitted},
    Store,
};

fn offered(call: &str, ordered: bool) -> NewEvent {
    NewEvent {
        lease: Some(LeaseOffer {
            owner: "n1".into(),
            until_ms: NOW + 60_000,
            ordered,
        }),
        ..event("app", call, None, NOW)
    }
}

async fn submit(store: &dyn Store, e: NewEvent) -> Submitted {
    store.submit_event(e).await.unwrap()
}

fn leased(s: Submitted) -> i64 {
    match s {
        Submitted::Leased(EventIds { delivery_id, .. }) => delivery_id,
        other => panic!("not leased: {other:?}"),
    }
}

fn waiting(s: Submitted) -> i64 {
    match s {
        Submitted::New(EventIds { delivery_id, .. }) => delivery_id,
        other => panic!("not left to a claim: {other:?}"),
    }
}

pub async fn a_lease_offer_is_taken_only_when_the_delivery_may_go(store: &dyn Store) {
    let a = leased(submit(store, offered("same", true)).await);
    // An ordered call's next event waits for `a`, offer or not; an unordered one does not.
    let b = waiting(submit(store, offered("same", true)).await);
    let c = leased(submit(store, offered("same", false)).await);
    let d = waiting(submit(store, event("app", "other", None, NOW)).await);
    // Leased at submission, `a` and `c` are nobody else's to claim; `b` waits for `a`.
    let got = store
        .claim(ordered_claim("n2", Lane::First, 10, NOW))
        .await
        .unwrap();
    assert_eq!(ids(&got), [d]);
    // The offering node holds the lease: its record moves the delivery.
    let recorded = store
        .record_attempt(record_id(a, "n1", Settle::Delivered))
        .await
        .unwrap();
    assert_eq!(recorded.next_of_call, Some((Lane::First, NOW)), "{b} waits");
    let (row, _) = store.delivery(a).await.unwrap().unwrap();
    assert_eq!(row.state, DeliveryState::Delivered);
    // A lease taken at submission expires like a claimed one: then anyone may claim it.
    assert_eq!(
        ids(&store
            .claim(claim("n2", Lane::First, 10, NOW + 59_999))
            .await
            .unwrap()),
        [b]
    );
    assert_eq!(
        ids(&store
            .claim(claim("n2", Lane::First, 10, NOW + 120_001))
            .await
            .unwrap()),
        [b, c, d]
    );
}

/// Submitted at once, several events of one ordered call: however the store groups them,
/// one is leased and the rest wait for it.
pub async fn concurrent_offers_for_one_ordered_call_lease_one(store: &dyn Store) {
    let all =
        futures_util::future::join_all((0..16).map(|_| store.submit_event(offered("burst", true))))
            .await;
    let taken = all
        .iter()
        .filter(|s| matches!(s.as_ref().unwrap(), Submitted::Leased(_)))
        .count();
    assert_eq!(taken, 1, "{all:?}");
}
