//! Received reports forwarded to destinations, and the report feed's named consumers.

use crate::{
    outbox::{claim, count, record, NOW},
    reports::report,
};
use ivrhook_protocol::CallId;
use ivrhook_store::{
    outbox::{ClaimRequest, DeliveryState, DestinationCount, Lane, Payload, Settle, Source},
    Forward, Inserted, NewReport, Store,
};

fn forwarded(call: &str, content: u8, destinations: &[&str]) -> NewReport {
    NewReport {
        forwards: destinations
            .iter()
            .map(|d| Forward {
                destination: (*d).to_owned(),
                first_attempt_at_ms: NOW,
            })
            .collect(),
        ..report(call, content)
    }
}

fn to(destination: &str, limit: u32, ordered: bool) -> ClaimRequest {
    ClaimRequest {
        destination: destination.into(),
        ordered,
        ..claim("n1", Lane::First, limit, NOW)
    }
}

async fn new_id(store: &dyn Store, r: NewReport) -> i64 {
    match store.insert_report(r).await.unwrap() {
        Inserted::New { id } => id,
        other => panic!("{other:?}"),
    }
}

pub async fn a_new_report_is_forwarded_once_to_each_destination(store: &dyn Store) {
    let r = forwarded("c1", 1, &["crm", "bus"]);
    let id = new_id(store, r.clone()).await;
    let again = store.insert_report(r).await.unwrap();
    assert!(matches!(again, Inserted::Duplicate { .. }), "{again:?}");
    new_id(store, forwarded("c2", 2, &[])).await;

    let crm = store.claim(to("crm", 10, false)).await.unwrap();
    assert_eq!(crm.len(), 1, "a duplicate is not forwarded again: {crm:?}");
    let Payload::Report(carried) = &crm[0].payload else {
        panic!("a forward carries its report: {:?}", crm[0].payload)
    };
    let sent = report("c1", 1);
    assert_eq!(
        (carried.id, carried.raw.as_slice(), carried.app_id.as_str()),
        (id, sent.raw.as_slice(), "app")
    );
    assert_eq!(
        (
            carried.event.as_str(),
            carried.status,
            carried.received_at_ms
        ),
        ("multrpt", Some(1), 1_700_000_000_123)
    );
    assert_eq!(carried.utc_offset.as_deref(), Some("+08:00"));
    assert_eq!(carried.warnings, sent.warnings);
    assert_eq!(crm[0].created_at_ms, 1_700_000_000_123);
    assert_eq!(store.claim(to("bus", 10, false)).await.unwrap().len(), 1);
    assert!(store
        .claim(to("elsewhere", 10, false))
        .await
        .unwrap()
        .is_empty());

    let call = CallId::try_from("c1").unwrap();
    let rows = store.forwards_for_call(&call).await.unwrap();
    let shown: Vec<_> = rows
        .iter()
        .map(|d| (d.source, d.destination.as_str(), d.app_id.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            (Source::Report(id), "crm", "app"),
            (Source::Report(id), "bus", "app")
        ]
    );
    let (row, _) = store.delivery(rows[0].id).await.unwrap().unwrap();
    assert_eq!(
        (row.source, row.call_id.as_str()),
        (Source::Report(id), "c1")
    );
    let mut counts = store.delivery_counts().await.unwrap();
    counts.sort_by_key(|c| c.destination.clone());
    let received = |destination| DestinationCount {
        oldest_created_at_ms: 1_700_000_000_123,
        ..count(destination, DeliveryState::Pending, 1)
    };
    assert_eq!(counts, [received("bus"), received("crm")]);
}

/// A call's reports go to a destination in the order received: the later waits for the
/// earlier, and other calls and other destinations do not wait.
pub async fn a_calls_forwards_go_in_order_per_destination(store: &dyn Store) {
    new_id(store, forwarded("c1", 1, &["crm", "bus"])).await;
    new_id(store, forwarded("c1", 2, &["crm"])).await;
    new_id(store, forwarded("c2", 3, &["crm"])).await;
    let first = store.claim(to("crm", 10, true)).await.unwrap();
    let calls: Vec<&str> = first.iter().map(|c| c.call_id.as_str()).collect();
    assert_eq!(
        calls,
        ["c1", "c2"],
        "c1's second report waits for its first"
    );
    let earlier = first.iter().find(|c| c.call_id == "c1").unwrap();
    store
        .record_attempt(record(earlier, "n1", Settle::Delivered))
        .await
        .unwrap();
    let next = store.claim(to("crm", 10, true)).await.unwrap();
    assert_eq!(next.len(), 1);
    let Payload::Report(r) = &next[0].payload else {
        panic!("{:?}", next[0].payload)
    };
    assert_eq!(r.raw, report("c1", 2).raw, "the second report of c1");
    assert_eq!(store.claim(to("bus", 10, true)).await.unwrap().len(), 1);
}

pub async fn consumer_cursors_move_forward_only(store: &dyn Store) {
    assert_eq!(store.latest_report_id().await.unwrap(), 0);
    assert_eq!(store.reports_behind(0).await.unwrap(), (0, None));
    let a = new_id(store, report("c1", 1)).await;
    let b = new_id(store, report("c2", 2)).await;
    assert_eq!(store.latest_report_id().await.unwrap(), b);
    assert_eq!(store.consumer_cursor("crm").await.unwrap(), None);
    assert_eq!(store.ack_consumer("crm", a, NOW).await.unwrap(), a);
    assert_eq!(
        store.ack_consumer("crm", 0, NOW + 1).await.unwrap(),
        a,
        "never back"
    );
    assert_eq!(store.consumer_cursor("crm").await.unwrap(), Some(a));
    assert_eq!(
        store.reports_behind(a).await.unwrap(),
        (1, Some(1_700_000_000_123))
    );
    assert_eq!(store.ack_consumer("crm", b, NOW + 2).await.unwrap(), b);
    let listed = store.consumers().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0].name.as_str(),
            listed[0].cursor,
            listed[0].updated_at_ms
        ),
        ("crm", b, NOW + 2)
    );
}
