//! Received reports forwarded to destinations, and the report feed's named consumers.

use crate::{
    outbox::{claim, count, record, NOW},
    reports::report,
};
use ivrhook_protocol::CallId;
use ivrhook_store::{
    outbox::{
        ClaimRequest, DeliveryState, DestinationCount, Lane, LeaseOffer, Payload, Settle, Source,
    },
    Forward, Inserted, Leased, NewReport, Store,
};

fn forwarded(call: &str, content: u8, destinations: &[&str]) -> NewReport {
    NewReport {
        forwards: destinations
            .iter()
            .map(|d| Forward {
                destination: (*d).to_owned(),
                first_attempt_at_ms: NOW,
                lease: None,
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
        Inserted::New { id, .. } => id,
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
    let waits_for = |before: i64| store.earlier_pending("crm", "c1", before);
    assert_eq!(
        waits_for(i64::MAX).await.unwrap(),
        Some(earlier.delivery_id)
    );
    assert_eq!(waits_for(earlier.delivery_id).await.unwrap(), None);
    store
        .record_attempt(record(earlier, "n1", Settle::Delivered))
        .await
        .unwrap();
    let next = store.claim(to("crm", 10, true)).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(
        waits_for(i64::MAX).await.unwrap(),
        Some(next[0].delivery_id),
        "a delivered one is not waited for"
    );
    assert_eq!(waits_for(next[0].delivery_id).await.unwrap(), None);
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

/// `forwarded`, each destination offered a lease by `n1` (`ordered` as given).
fn offered(call: &str, content: u8, destinations: &[(&str, bool)]) -> NewReport {
    let mut r = forwarded(call, content, &[]);
    r.forwards = destinations
        .iter()
        .map(|(d, ordered)| Forward {
            destination: (*d).to_owned(),
            first_attempt_at_ms: NOW,
            lease: Some(LeaseOffer {
                owner: "n1".into(),
                until_ms: NOW + 60_000,
                ordered: *ordered,
            }),
        })
        .collect();
    r
}

async fn leased(store: &dyn Store, r: NewReport) -> Vec<Leased> {
    match store.insert_report(r).await.unwrap() {
        Inserted::New { leased, .. } => leased,
        other => panic!("{other:?}"),
    }
}

/// A forward offered a lease takes it when it may go now: an ordered destination's delivery
/// waits behind an earlier one of its call there; the rest are leased to the offering node and
/// nobody else's to claim.
pub async fn a_forward_takes_its_lease_only_when_it_may_go(store: &dyn Store) {
    let first = leased(store, offered("c1", 1, &[("crm", true), ("bus", false)])).await;
    let names: Vec<&str> = first.iter().map(|l| l.destination.as_str()).collect();
    assert_eq!(names, ["crm", "bus"]);
    let second = leased(store, offered("c1", 2, &[("crm", true), ("bus", false)])).await;
    let names: Vec<&str> = second.iter().map(|l| l.destination.as_str()).collect();
    assert_eq!(
        names,
        ["bus"],
        "crm waits behind c1's first report; bus is unordered"
    );
    let other = leased(store, offered("c2", 3, &[("crm", true)])).await;
    assert_eq!(other.len(), 1, "another call does not wait");
    let again = store
        .insert_report(offered("c1", 1, &[("crm", true)]))
        .await
        .unwrap();
    assert!(matches!(again, Inserted::Duplicate { .. }), "{again:?}");

    let by_n2 = |d: &str| ClaimRequest {
        owner: "n2".into(),
        ..to(d, 10, true)
    };
    assert!(
        store.claim(by_n2("crm")).await.unwrap().is_empty(),
        "leased, or waiting"
    );
    store
        .record_attempt(crate::outbox::record_id(
            first[0].delivery_id,
            "n1",
            Settle::Delivered,
        ))
        .await
        .unwrap();
    let next = store.claim(by_n2("crm")).await.unwrap();
    assert_eq!(
        next.len(),
        1,
        "c1's second report once the first is delivered"
    );
    assert_eq!(next[0].call_id, "c1");
}

/// Reports of one ordered call arriving together: however the store groups them, one forward
/// to the destination is leased and the rest wait for it.
pub async fn concurrent_forwards_of_one_ordered_call_lease_one(store: &dyn Store) {
    let all = futures_util::future::join_all(
        (0..16u8).map(|n| store.insert_report(offered("burst", n, &[("crm", true)]))),
    )
    .await;
    let leased: usize = all
        .into_iter()
        .map(|r| match r.unwrap() {
            Inserted::New { leased, .. } => leased.len(),
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(leased, 1);
}
