//! What recording an attempt tells the engine: the next pending delivery of a call that a
//! finished delivery may have been holding back.

use crate::outbox::{ids, ordered_claim, record, record_id, submit, NOW};
use ivrhook_store::{
    outbox::{DeliveryState, Lane, Recorded, Settle},
    Store,
};

pub async fn a_finished_delivery_names_the_next_of_its_call(store: &dyn Store) {
    let first = submit(store, "app", "same").await;
    let second = submit(store, "app", "same").await;
    let alone = submit(store, "app", "alone").await;
    let got = store
        .claim(ordered_claim("n1", Lane::First, 10, NOW))
        .await
        .unwrap();
    assert_eq!(ids(&got), [first, alone]);
    // A retry finishes nothing; a delivered one names its call's next, in its lane.
    let retry = Settle::Retry {
        at_ms: NOW + 5,
        unknown_call: false,
    };
    let recorded = store.record_attempt(record(&got[0], "n1", retry)).await;
    assert_eq!(recorded.unwrap(), Recorded::default());
    let again = ordered_claim("n1", Lane::Retry, 10, NOW + 5);
    let retried = store.claim(again).await.unwrap();
    assert_eq!(ids(&retried), [first]);
    let recorded = store
        .record_attempt(record(&retried[0], "n1", Settle::Delivered))
        .await;
    assert_eq!(
        recorded.unwrap().next_of_call,
        Some((Lane::First, NOW)),
        "delivery {second} was waiting for it"
    );
    // A call with nothing else pending, or a lease no longer held, names nothing.
    let dead = Settle::Dead {
        reason: "gone".into(),
    };
    let recorded = store.record_attempt(record(&got[1], "n1", dead)).await;
    assert_eq!(recorded.unwrap(), Recorded::default());
    let recorded = store
        .record_attempt(record(&got[1], "n2", Settle::Delivered))
        .await;
    assert_eq!(recorded.unwrap(), Recorded::default());
}

/// An attempt for a delivery that is not there is an error, not a silent success, and it
/// leaves the store able to record the next one.
pub async fn an_attempt_for_no_delivery_is_refused(store: &dyn Store) {
    let id = submit(store, "app", "c").await;
    let got = store
        .claim(ordered_claim("n1", Lane::First, 1, NOW))
        .await
        .unwrap();
    let missing = store
        .record_attempt(record_id(id + 1_000, "n1", Settle::Delivered))
        .await;
    assert!(missing.is_err(), "{missing:?}");
    assert!(store.delivery(id + 1_000).await.unwrap().is_none());
    store
        .record_attempt(record(&got[0], "n1", Settle::Delivered))
        .await
        .unwrap();
    let (_, attempts) = store.delivery(id).await.unwrap().unwrap();
    assert_eq!(attempts.len(), 1);
}

/// A business's answer may hold a NUL character, which PostgreSQL's text cannot: the
/// attempt is recorded all the same (the NUL shown as U+FFFD), and the delivery moves,
/// instead of failing at every try and being sent again at every lease expiry.
pub async fn an_answer_with_a_nul_character_is_recorded(store: &dyn Store) {
    let id = submit(store, "app", "c").await;
    let got = store
        .claim(ordered_claim("n1", Lane::First, 1, NOW))
        .await
        .unwrap();
    let mut attempt = record(
        &got[0],
        "n1",
        Settle::Dead {
            reason: "answered \0".into(),
        },
    );
    attempt.code = Some("10\08100".into());
    attempt.body_excerpt = Some("{\"code\":\"10\\u00008100\"}\0".into());
    attempt.warning = Some("\0".into());
    store.record_attempt(attempt).await.unwrap();
    let (row, attempts) = store.delivery(id).await.unwrap().unwrap();
    assert_eq!(row.state, DeliveryState::Dead);
    assert_eq!(row.last_error.as_deref(), Some("answered \u{FFFD}"));
    let a = &attempts[0];
    assert_eq!(a.code.as_deref(), Some("10\u{FFFD}8100"));
    assert_eq!(
        a.body_excerpt.as_deref(),
        Some("{\"code\":\"10\\u00008100\"}\u{FFFD}")
    );
    assert_eq!(a.warning.as_deref(), Some("\u{FFFD}"));
}
