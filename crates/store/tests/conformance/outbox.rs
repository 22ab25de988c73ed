//! The sender's outbox: submission, claims and leases, attempts, retries, listings.

use ivrhook_protocol::{AppId, CallId};
use ivrhook_store::{
    outbox::{
        AttemptRecord, ClaimRequest, Claimed, DeliveryFilter, DeliveryState, DestinationCount,
        Lane, NewEvent, Payload, Recorded, RetryRange, RetryStates, Settle, Submitted,
    },
    Store,
};
use std::collections::HashSet;

pub(crate) const NOW: i64 = 1_700_000_000_000;

pub(crate) fn event(app: &str, call: &str, key: Option<&str>, due: i64) -> NewEvent {
    NewEvent {
        app_id: AppId::try_from(app).unwrap(),
        destination: format!("app:{app}"),
        call_id: CallId::try_from(call).unwrap(),
        idempotency_key: key.map(str::to_owned),
        body: format!(r#"{{"callId":"{call}","k":{key:?}}}"#).into_bytes(),
        created_at_ms: NOW,
        first_attempt_at_ms: due,
        lease: None,
    }
}

pub(crate) async fn submit(store: &dyn Store, app: &str, call: &str) -> i64 {
    match store
        .submit_event(event(app, call, None, NOW))
        .await
        .unwrap()
    {
        Submitted::New(ids) => ids.delivery_id,
        other => panic!("{other:?}"),
    }
}

pub(crate) fn claim(owner: &str, lane: Lane, limit: u32, now: i64) -> ClaimRequest {
    ClaimRequest {
        destination: "app:app".into(),
        lane,
        limit,
        now_ms: now,
        lease_until_ms: now + 60_000,
        owner: owner.into(),
        ordered: false,
        exclude: Vec::new(),
    }
}

/// `claim` for an app whose calls are ordered.
pub(crate) fn ordered_claim(owner: &str, lane: Lane, limit: u32, now: i64) -> ClaimRequest {
    ClaimRequest {
        ordered: true,
        ..claim(owner, lane, limit, now)
    }
}

pub(crate) fn ids(claimed: &[Claimed]) -> Vec<i64> {
    claimed.iter().map(|c| c.delivery_id).collect()
}

pub(crate) fn record(c: &Claimed, owner: &str, settle: Settle) -> AttemptRecord {
    record_id(c.delivery_id, owner, settle)
}

pub(crate) fn record_id(delivery_id: i64, owner: &str, settle: Settle) -> AttemptRecord {
    AttemptRecord {
        delivery_id,
        owner: owner.into(),
        started_at_ms: NOW + 10,
        duration_ms: 5,
        http_status: Some(200),
        code: Some("108102".into()),
        body_excerpt: Some(r#"{"code":"108102"}"#.into()),
        error: None,
        warning: None,
        settle,
    }
}

pub async fn an_idempotency_key_returns_the_first_event(store: &dyn Store) {
    let Submitted::New(first) = store
        .submit_event(event("app", "c", Some("k1"), NOW))
        .await
        .unwrap()
    else {
        panic!("first submission must be new")
    };
    let again = store
        .submit_event(event("app", "c", Some("k1"), NOW))
        .await
        .unwrap();
    assert_eq!(again, Submitted::Existing(first));
    // The key is per app; no key never dedupes.
    let other = store
        .submit_event(event("other", "c", Some("k1"), NOW))
        .await
        .unwrap();
    assert!(matches!(other, Submitted::New(_)));
    let a = store
        .submit_event(event("app", "c", None, NOW))
        .await
        .unwrap();
    let b = store
        .submit_event(event("app", "c", None, NOW))
        .await
        .unwrap();
    assert_ne!(a, b);
    let rows = store
        .deliveries(DeliveryFilter {
            limit: 100,
            ..Default::default()
        })
        .await;
    assert_eq!(rows.unwrap().len(), 4);
}

pub async fn claims_lease_due_deliveries_in_order_with_bodies(store: &dyn Store) {
    let a = submit(store, "app", "c-a").await;
    let b = submit(store, "app", "c-b").await;
    let c = submit(store, "app", "c-c").await;
    store
        .submit_event(event("app", "later", None, NOW + 5_000))
        .await
        .unwrap();
    submit(store, "elsewhere", "c-x").await;
    let first = store.claim(claim("n1", Lane::First, 2, NOW)).await.unwrap();
    assert_eq!(ids(&first), [a, b]);
    let Payload::Event { body, .. } = &first[0].payload else {
        panic!(
            "an event's delivery carries the event: {:?}",
            first[0].payload
        )
    };
    assert_eq!(body, br#"{"callId":"c-a","k":None}"#);
    assert_eq!((first[0].call_id.as_str(), first[0].attempts), ("c-a", 0));
    assert_eq!(first[0].created_at_ms, NOW);
    let rest = store
        .claim(claim("n1", Lane::First, 10, NOW))
        .await
        .unwrap();
    assert_eq!(
        ids(&rest),
        [c],
        "not due yet, another app's, or leased: not claimed"
    );
    assert!(store
        .claim(claim("n1", Lane::Retry, 10, NOW))
        .await
        .unwrap()
        .is_empty());
}

pub async fn a_lease_hides_a_delivery_until_it_expires(store: &dyn Store) {
    let a = submit(store, "app", "c").await;
    let b = submit(store, "app", "c2").await;
    assert_eq!(
        ids(&store.claim(claim("n1", Lane::First, 1, NOW)).await.unwrap()),
        [a]
    );
    // A worker's own in-flight deliveries are excluded even when their lease has lapsed.
    // Even where they come first and the claim takes one: the one after them is taken.
    let mut own = claim("n1", Lane::First, 1, NOW + 120_000);
    own.exclude = vec![a];
    assert_eq!(ids(&store.claim(own).await.unwrap()), [b]);
    // Another node takes `a` once its lease (60 s) is over, not before.
    assert!(store
        .claim(claim("n2", Lane::First, 10, NOW + 59_999))
        .await
        .unwrap()
        .is_empty());
    let taken = store
        .claim(claim("n2", Lane::First, 10, NOW + 180_001))
        .await
        .unwrap();
    assert_eq!(ids(&taken), [a, b], "both leases expired");
}

pub async fn concurrent_claimers_never_share_a_delivery(store: &dyn Store) {
    let mut submitted = HashSet::new();
    for n in 0..200 {
        submitted.insert(submit(store, "app", &format!("c{n}")).await);
    }
    let claimer = |owner: &'static str| async move {
        let mut mine = Vec::new();
        loop {
            let got = store
                .claim(claim(owner, Lane::First, 7, NOW))
                .await
                .unwrap();
            if got.is_empty() {
                return mine;
            }
            mine.extend(ids(&got));
        }
    };
    let all = futures_util::future::join_all(["a", "b", "c", "d"].map(claimer)).await;
    let mut seen = HashSet::new();
    for id in all.iter().flatten() {
        assert!(seen.insert(*id), "delivery {id} claimed twice");
    }
    assert_eq!(seen, submitted);
}

pub async fn an_ordered_call_waits_for_its_earlier_delivery(store: &dyn Store) {
    let first = submit(store, "app", "same").await;
    let second = submit(store, "app", "same").await;
    let other = submit(store, "app", "other").await;
    let ordered = ordered_claim("n1", Lane::First, 10, NOW);
    let got = store.claim(ordered.clone()).await.unwrap();
    assert_eq!(ids(&got), [first, other]);
    assert!(
        store.claim(ordered.clone()).await.unwrap().is_empty(),
        "second waits"
    );
    store
        .record_attempt(record(&got[0], "n1", Settle::Delivered))
        .await
        .unwrap();
    assert_eq!(ids(&store.claim(ordered).await.unwrap()), [second]);
    // Unordered, both go at once.
    let (x, y) = (
        submit(store, "app", "free").await,
        submit(store, "app", "free").await,
    );
    assert_eq!(
        ids(&store
            .claim(claim("n1", Lane::First, 10, NOW))
            .await
            .unwrap()),
        [x, y]
    );
}

pub async fn attempts_move_deliveries_and_are_kept(store: &dyn Store) {
    for _ in 0..3 {
        submit(store, "app", "c").await;
    }
    let got = store.claim(claim("n1", Lane::First, 3, NOW)).await.unwrap();
    let retry_at = NOW + 30_000;
    let settles = [
        Settle::Delivered,
        Settle::Retry {
            at_ms: retry_at,
            unknown_call: true,
        },
        Settle::Dead {
            reason: "108100: bad input".into(),
        },
    ];
    for (c, settle) in got.iter().zip(settles) {
        store.record_attempt(record(c, "n1", settle)).await.unwrap();
    }
    let (delivered, attempts) = store.delivery(got[0].delivery_id).await.unwrap().unwrap();
    assert_eq!(delivered.state, DeliveryState::Delivered);
    assert_eq!(
        (delivered.attempts, delivered.finished_at_ms),
        (1, Some(NOW + 15))
    );
    assert_eq!(attempts.len(), 1);
    let a = &attempts[0];
    assert_eq!(
        (a.started_at_ms, a.duration_ms, a.http_status),
        (NOW + 10, 5, Some(200))
    );
    assert_eq!(
        (a.code.as_deref(), a.outcome.as_str()),
        (Some("108102"), "delivered")
    );
    assert_eq!(a.body_excerpt.as_deref(), Some(r#"{"code":"108102"}"#));
    let (retrying, _) = store.delivery(got[1].delivery_id).await.unwrap().unwrap();
    assert_eq!(retrying.state, DeliveryState::Pending);
    assert_eq!(retrying.next_attempt_at_ms, retry_at);
    assert_eq!(retrying.last_error.as_deref(), Some("108102"));
    let (dead, _) = store.delivery(got[2].delivery_id).await.unwrap().unwrap();
    assert_eq!(dead.state, DeliveryState::Dead);
    assert_eq!(dead.last_error.as_deref(), Some("108100: bad input"));
    // The retry is claimed from the retry lane when due, with its counters.
    assert!(store
        .claim(claim("n1", Lane::Retry, 5, retry_at - 1))
        .await
        .unwrap()
        .is_empty());
    let again = store
        .claim(claim("n1", Lane::Retry, 5, retry_at))
        .await
        .unwrap();
    assert_eq!(ids(&again), [got[1].delivery_id]);
    assert_eq!((again[0].attempts, again[0].unknown_call_answers), (1, 1));
    assert!(store.delivery(999_999).await.unwrap().is_none());
}

pub async fn a_lost_lease_records_the_attempt_but_moves_nothing(store: &dyn Store) {
    let id = submit(store, "app", "c").await;
    let got = store.claim(claim("n1", Lane::First, 1, NOW)).await.unwrap();
    let next = submit(store, "app", "c").await;
    // n1's lease lapsed and n2 took the delivery; n1's late answer must not settle it.
    let taken = store
        .claim(claim("n2", Lane::First, 1, NOW + 120_000))
        .await
        .unwrap();
    assert_eq!(ids(&taken), [id]);
    let recorded = store
        .record_attempt(record(&got[0], "n1", Settle::Delivered))
        .await
        .unwrap();
    assert_eq!(
        recorded,
        Recorded::default(),
        "a record that moved nothing unblocks nothing, though {next} waits on the call"
    );
    let (row, attempts) = store.delivery(id).await.unwrap().unwrap();
    assert_eq!(row.state, DeliveryState::Pending);
    assert_eq!(row.attempts, 0);
    assert_eq!(
        attempts.len(),
        1,
        "the attempt itself is history and is kept"
    );
}

pub async fn retries_lane_and_due_times(store: &dyn Store) {
    submit(store, "app", "c").await;
    store
        .submit_event(event("app", "c", None, NOW + 7_000))
        .await
        .unwrap();
    let apps = vec!["app:app".to_owned(), "app:none".to_owned()];
    let due = store.earliest_due(apps.clone()).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].destination.as_str(), due[0].lane),
        ("app:app", Lane::First)
    );
    assert_eq!(due[0].next_attempt_at_ms, NOW);
    assert_eq!(
        store.next_due("app:app", Lane::First, NOW).await.unwrap(),
        Some(NOW + 7_000)
    );
    assert_eq!(
        store.next_due("app:app", Lane::Retry, 0).await.unwrap(),
        None
    );
    let got = store.claim(claim("n1", Lane::First, 1, NOW)).await.unwrap();
    let settle = Settle::Retry {
        at_ms: NOW + 3_000,
        unknown_call: false,
    };
    store
        .record_attempt(record(&got[0], "n1", settle))
        .await
        .unwrap();
    let due = store.earliest_due(apps).await.unwrap();
    let retry = due
        .iter()
        .find(|d| d.lane == Lane::Retry)
        .expect("retry lane due");
    assert_eq!(retry.next_attempt_at_ms, NOW + 3_000);
}

/// A claim round says when the lane is next due, but only when it took fewer than it asked
/// for; other apps and other lanes do not count.
pub async fn a_claim_round_tells_when_the_lane_is_next_due(store: &dyn Store) {
    // How many a round by n1 claimed, and the due time it gave.
    let round = |lane, limit, now| async move {
        let r = store
            .claim_round(claim("n1", lane, limit, now))
            .await
            .unwrap();
        (r.claimed.len(), r.next_due_ms)
    };
    submit(store, "app", "c1").await;
    submit(store, "app", "c2").await;
    for (app, call, due) in [("app", "c3", NOW + 7_000), ("other", "o", NOW + 1_000)] {
        store
            .submit_event(event(app, call, None, due))
            .await
            .unwrap();
    }
    assert_eq!(round(Lane::First, 5, NOW).await, (2, Some(NOW + 7_000)));
    assert_eq!(
        round(Lane::First, 5, NOW).await,
        (0, Some(NOW + 7_000)),
        "nothing claimed, and still the due time"
    );
    submit(store, "app", "c4").await;
    assert_eq!(
        round(Lane::First, 1, NOW).await,
        (1, None),
        "a full claim: the worker claims again at once"
    );
    assert_eq!(round(Lane::First, 5, NOW + 8_000).await, (1, None));
    assert_eq!(round(Lane::Retry, 5, NOW).await, (0, None));
}

pub async fn dead_deliveries_are_retried_one_or_by_range(store: &dyn Store) {
    let mut dead = Vec::new();
    for n in 0..3 {
        submit(store, "app", &format!("c{n}")).await;
    }
    for c in store.claim(claim("n1", Lane::First, 3, NOW)).await.unwrap() {
        let settle = Settle::Dead {
            reason: "gone".into(),
        };
        store
            .record_attempt(record(&c, "n1", settle))
            .await
            .unwrap();
        dead.push(c.delivery_id);
    }
    let row = store
        .retry_delivery(dead[0], NOW + 100)
        .await
        .unwrap()
        .expect("retried");
    assert_eq!(row.state, DeliveryState::Pending);
    assert_eq!((row.attempts, row.next_attempt_at_ms), (0, NOW + 100));
    assert_eq!(row.finished_at_ms, None);
    assert!(store.retry_delivery(424_242, NOW).await.unwrap().is_none());
    // A new round starts in the first-attempt lane.
    let again = store
        .claim(claim("n1", Lane::First, 5, NOW + 100))
        .await
        .unwrap();
    assert_eq!(ids(&again), [dead[0]]);
    let range = |destination: &str, from_ms, to_ms, states| RetryRange {
        destination: destination.into(),
        from_ms,
        to_ms,
        states,
    };
    let all = range("app:app", NOW, NOW + 1, RetryStates::DeadAndPending);
    assert_eq!(
        store.count_range(&all).await.unwrap(),
        3,
        "what a bulk retry would send"
    );
    let dead_only = RetryRange {
        states: RetryStates::Dead,
        ..all.clone()
    };
    assert_eq!(store.count_range(&dead_only).await.unwrap(), 2, "the dead");
    let pending_only = RetryRange {
        states: RetryStates::Pending,
        ..all.clone()
    };
    assert_eq!(
        store.count_range(&pending_only).await.unwrap(),
        1,
        "the one retried"
    );
    let other = range("app:other", NOW, NOW + 1, RetryStates::DeadAndPending);
    assert_eq!(
        store.count_range(&other).await.unwrap(),
        0,
        "another destination's"
    );
    assert_eq!(store.retry_range(&dead_only, NOW + 200).await.unwrap(), 2);
    assert_eq!(store.retry_range(&all, NOW + 200).await.unwrap(), 3);
    let later = range("app:app", NOW + 1, NOW + 9, RetryStates::DeadAndPending);
    assert_eq!(store.retry_range(&later, NOW).await.unwrap(), 0, "range");
    let counts = store.delivery_counts().await.unwrap();
    assert_eq!(counts, [count("app:app", DeliveryState::Pending, 3)]);
}

pub(crate) fn count(destination: &str, state: DeliveryState, count: i64) -> DestinationCount {
    DestinationCount {
        destination: destination.into(),
        state,
        count,
        oldest_created_at_ms: NOW,
    }
}

pub async fn listings_filter_and_page(store: &dyn Store) {
    let a = submit(store, "app", "call-1").await;
    let b = submit(store, "app", "call-2").await;
    let c = submit(store, "other", "call-1").await;
    let got = store.claim(claim("n1", Lane::First, 1, NOW)).await.unwrap();
    store
        .record_attempt(record(&got[0], "n1", Settle::Dead { reason: "x".into() }))
        .await
        .unwrap();
    let list = |app: Option<&str>, state, after, limit| {
        store.deliveries(DeliveryFilter {
            app_id: app.map(str::to_owned),
            destination: None,
            state,
            after,
            limit,
        })
    };
    let all: Vec<_> = list(None, None, 0, 10)
        .await
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(all, [a, b, c]);
    let page: Vec<_> = list(None, None, a, 1)
        .await
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(page, [b]);
    let app_pending = list(Some("app"), Some(DeliveryState::Pending), 0, 10)
        .await
        .unwrap();
    assert_eq!(app_pending.iter().map(|d| d.id).collect::<Vec<_>>(), [b]);
    let dead = list(None, Some(DeliveryState::Dead), 0, 10).await.unwrap();
    assert_eq!(
        (dead.len(), dead[0].id, dead[0].app_id.as_str()),
        (1, a, "app")
    );
    let to_other = store
        .deliveries(DeliveryFilter {
            destination: Some("app:other".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(to_other.iter().map(|d| d.id).collect::<Vec<_>>(), [c]);
    let mut counts = store.delivery_counts().await.unwrap();
    counts.sort_by_key(|c| (c.destination.clone(), c.state.as_str()));
    assert_eq!(
        counts,
        [
            count("app:app", DeliveryState::Dead, 1),
            count("app:app", DeliveryState::Pending, 1),
            count("app:other", DeliveryState::Pending, 1),
        ]
    );
    let timeline = store
        .outbound_for_call(&CallId::try_from("call-1").unwrap())
        .await
        .unwrap();
    let shown: Vec<_> = timeline
        .iter()
        .map(|o| (o.delivery.id, o.body.len() > 10))
        .collect();
    assert_eq!(shown, [(a, true), (c, true)]);
}

pub async fn a_pause_is_stored_until_it_is_resumed(store: &dyn Store) {
    assert!(store.paused().await.unwrap().is_empty());
    assert!(store.set_paused("crm", Some(NOW)).await.unwrap(), "paused");
    assert!(
        !store.set_paused("crm", Some(NOW + 5)).await.unwrap(),
        "paused already: its time is kept"
    );
    assert!(store.set_paused("app:a", Some(NOW + 1)).await.unwrap());
    let paused = store.paused().await.unwrap();
    assert_eq!(
        paused,
        [("app:a".to_owned(), NOW + 1), ("crm".to_owned(), NOW)]
    );
    assert!(store.set_paused("crm", None).await.unwrap(), "resumed");
    assert!(!store.set_paused("crm", None).await.unwrap(), "not paused");
    assert_eq!(
        store.paused().await.unwrap(),
        [("app:a".to_owned(), NOW + 1)]
    );
}
