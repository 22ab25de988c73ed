//! Handoffs: a submission that asks for its delivery to be leased to its node at insert.

use crate::outbox::{claim, event, ids, record, submit, NOW};
use ivrhook_store::{
    outbox::{Handoff, Lane, NewEvent, Settle, Submitted},
    Store,
};

fn handed(call: &str, key: Option<&str>, ordered: bool) -> NewEvent {
    NewEvent {
        handoff: Some(Handoff {
            owner: "n1".into(),
            lease_until_ms: NOW + 1_000,
            ordered,
        }),
        ..event("app", call, key, NOW)
    }
}

async fn leased(store: &dyn Store, e: NewEvent) -> i64 {
    match store.submit_event(e).await.unwrap() {
        Submitted::Leased(ids) => ids.delivery_id,
        other => panic!("not leased: {other:?}"),
    }
}

async fn not_leased(store: &dyn Store, e: NewEvent) -> i64 {
    match store.submit_event(e).await.unwrap() {
        Submitted::New(ids) => ids.delivery_id,
        other => panic!("expected New: {other:?}"),
    }
}

pub async fn a_handoff_leases_the_delivery_to_its_owner(store: &dyn Store) {
    let taken = leased(store, handed("c1", None, true)).await;
    let free = submit(store, "app", "c2").await;
    // Nobody claims what the submitter holds, until its lease expires.
    let now = store
        .claim(claim("n2", Lane::First, 10, NOW))
        .await
        .unwrap();
    assert_eq!(ids(&now), [free]);
    let later = claim("n2", Lane::First, 10, NOW + 1_000);
    assert_eq!(ids(&store.claim(later).await.unwrap()), [taken]);
    // The owner records it like any claimed delivery.
    let mut claimed = now[0].clone();
    claimed.delivery_id = taken;
    store
        .record_attempt(record(&claimed, "n2", Settle::Delivered))
        .await
        .unwrap();
    let (row, attempts) = store.delivery(taken).await.unwrap().unwrap();
    assert_eq!(
        (row.state, attempts.len()),
        (ivrhook_store::outbox::DeliveryState::Delivered, 1)
    );
}

pub async fn an_ordered_call_is_handed_off_only_when_nothing_of_it_is_pending(store: &dyn Store) {
    let first = submit(store, "app", "same").await;
    // Pending (not leased): the next of the call waits its turn.
    let second = not_leased(store, handed("same", None, true)).await;
    // An unordered app does not wait.
    leased(store, handed("same", None, false)).await;
    let mut ordered = claim("n2", Lane::First, 10, NOW);
    ordered.ordered = true;
    let got = store.claim(ordered.clone()).await.unwrap();
    assert_eq!(ids(&got), [first]);
    store
        .record_attempt(record(&got[0], "n2", Settle::Delivered))
        .await
        .unwrap();
    let got = store.claim(ordered).await.unwrap();
    assert_eq!(ids(&got), [second]);
    store
        .record_attempt(record(&got[0], "n2", Settle::Delivered))
        .await
        .unwrap();
    // The unordered one is still leased, so the call still has a pending delivery.
    not_leased(store, handed("same", None, true)).await;
    // A call with nothing pending is handed off.
    leased(store, handed("fresh", None, true)).await;
}

pub async fn a_repeated_idempotency_key_is_not_handed_off_again(store: &dyn Store) {
    let Submitted::Leased(first) = store
        .submit_event(handed("c1", Some("k"), true))
        .await
        .unwrap()
    else {
        panic!("not leased")
    };
    let again = store
        .submit_event(handed("c1", Some("k"), false))
        .await
        .unwrap();
    assert_eq!(again, Submitted::Existing(first));
}
