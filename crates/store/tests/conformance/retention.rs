//! Pruning: old rows go in bounded steps, pending work and the newest rows stay, and a dry run
//! removes nothing.

use crate::{
    outbox::{claim, event, record, NOW},
    reports::report,
};
use ivrhook_protocol::CallId;
use ivrhook_store::{
    outbox::{ClaimRequest, Lane, Settle, Submitted},
    retention::{PruneKind, PruneRequest},
    Forward, NewReport, Store,
};

const OLD: i64 = NOW - 86_400_000;

fn received(call: &str, content: u8, at_ms: i64, destinations: &[&str]) -> NewReport {
    let forwards = (destinations.iter())
        .map(|d| Forward {
            destination: (*d).to_owned(),
            first_attempt_at_ms: NOW,
            lease: None,
        })
        .collect();
    NewReport {
        received_at: chrono::DateTime::from_timestamp_millis(at_ms).unwrap(),
        forwards,
        ..report(call, content)
    }
}

/// A whole pass, in steps of two rows; what it removed.
async fn pass(store: &dyn Store, kind: PruneKind, before_ms: i64, dry_run: bool) -> u64 {
    let (mut removed, mut after_id) = (0, 0);
    loop {
        let request = PruneRequest {
            kind,
            before_ms,
            after_id,
            limit: 2,
            dry_run,
        };
        let step = store.prune(request).await.unwrap();
        removed += step.removed;
        match step.next_after {
            Some(next) => after_id = next,
            None => return removed,
        }
    }
}

async fn reports_of(store: &dyn Store, call: &str) -> usize {
    let call = CallId::try_from(call).unwrap();
    store.reports_for_call(&call).await.unwrap().len()
}

pub async fn old_rows_are_pruned_and_pending_work_is_kept(store: &dyn Store) {
    store
        .insert_report(received("p1", 1, OLD, &[]))
        .await
        .unwrap();
    store
        .insert_report(received("p2", 2, OLD, &["crm"]))
        .await
        .unwrap();
    store
        .insert_report(received("p3", 3, OLD, &["bus"]))
        .await
        .unwrap();
    store
        .insert_report(received("p4", 4, OLD, &[]))
        .await
        .unwrap();
    // The newest delivery's report is never pruned (SQLite would hand its id out again): here
    // that is p5, which is new anyway.
    store
        .insert_report(received("p5", 5, NOW, &["bus"]))
        .await
        .unwrap();
    let bus = ClaimRequest {
        destination: "bus".into(),
        ..claim("n1", Lane::First, 10, NOW)
    };
    let sent = store.claim(bus).await.unwrap();
    store
        .record_attempt(record(&sent[0], "n1", Settle::Delivered))
        .await
        .unwrap();

    let cut = NOW - 1_000;
    assert_eq!(
        pass(store, PruneKind::Reports, cut, true).await,
        3,
        "p1, p3 and p4"
    );
    assert_eq!(
        pass(store, PruneKind::Reports, cut, true).await,
        3,
        "a dry run removes nothing"
    );
    assert_eq!(pass(store, PruneKind::Reports, cut, false).await, 3);
    let left = [
        reports_of(store, "p1").await,
        reports_of(store, "p2").await,
        reports_of(store, "p3").await,
        reports_of(store, "p4").await,
        reports_of(store, "p5").await,
    ];
    assert_eq!(
        left,
        [0, 1, 0, 0, 1],
        "a pending forward keeps p2; p5 is new"
    );
    let p3 = CallId::try_from("p3").unwrap();
    assert!(
        store.forwards_for_call(&p3).await.unwrap().is_empty(),
        "its delivery went with it"
    );
    assert_eq!(pass(store, PruneKind::Reports, cut, false).await, 0);

    // Sent events: one delivered, one dead, one pending.
    let mut deliveries = Vec::new();
    for call in ["e1", "e2", "e3"] {
        match store
            .submit_event(event("app", call, None, NOW))
            .await
            .unwrap()
        {
            Submitted::New(ids) => deliveries.push(ids.delivery_id),
            other => panic!("{other:?}"),
        }
    }
    let claimed = store.claim(claim("n1", Lane::First, 2, NOW)).await.unwrap();
    store
        .record_attempt(record(&claimed[0], "n1", Settle::Delivered))
        .await
        .unwrap();
    let dead = Settle::Dead {
        reason: "HTTP 404".into(),
    };
    store
        .record_attempt(record(&claimed[1], "n1", dead))
        .await
        .unwrap();
    assert_eq!(
        pass(store, PruneKind::Delivered, NOW, false).await,
        0,
        "finished after the cut"
    );
    assert_eq!(
        pass(store, PruneKind::Delivered, NOW + 1_000, false).await,
        1
    );
    assert_eq!(pass(store, PruneKind::Dead, NOW + 1_000, false).await, 1);
    assert!(store.delivery(deliveries[0]).await.unwrap().is_none());
    assert!(store.delivery(deliveries[1]).await.unwrap().is_none());
    assert!(
        store.delivery(deliveries[2]).await.unwrap().is_some(),
        "pending stays"
    );
    let e1 = CallId::try_from("e1").unwrap();
    assert!(
        store.outbound_for_call(&e1).await.unwrap().is_empty(),
        "the event went too"
    );
}
