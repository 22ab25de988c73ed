//! Reports by day on a real PostgreSQL: midnight, duplicates across it, retention dropping
//! days while reports arrive, and the upgrade of a store that held reports before days.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::{
    postgres::{
        test_support::{report, scratch_store},
        PgStore,
    },
    retention::{PruneKind, PruneRequest},
    Forward, Inserted, NewReport, Store,
};
use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

/// 2026-12-05T00:00:00Z.
const MIDNIGHT: i64 = 1_796_428_800_000;

fn forwarded(call: &str, at_ms: i64) -> NewReport {
    NewReport {
        forwards: vec![Forward {
            destination: "crm".into(),
            first_attempt_at_ms: at_ms,
            lease: None,
        }],
        ..report(call, at_ms)
    }
}

async fn new_id(store: &PgStore, r: NewReport) -> i64 {
    match store.insert_report(r).await.unwrap() {
        Inserted::New { id, .. } => id,
        other => panic!("not new: {other:?}"),
    }
}

/// The partition a report's row is in.
async fn partition_of(store: &PgStore, id: i64) -> String {
    let client = store.client().await.unwrap();
    let row = client
        .query_one(
            "SELECT tableoid::regclass::text FROM reports WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    row.get(0)
}

async fn table_exists(store: &PgStore, table: &str) -> bool {
    exists(&**store.client().await.unwrap(), table)
        .await
        .unwrap()
}

#[tokio::test]
async fn reports_around_midnight_go_to_their_days_and_a_copy_across_midnight_is_a_duplicate() {
    let (db, store) = scratch_store("ivrhook_days_midnight", 4).await;
    let before = new_id(&store, report("c-a", MIDNIGHT - 1)).await;
    let after = new_id(&store, report("c-bb", MIDNIGHT)).await;
    assert_eq!(partition_of(&store, before).await, "reports_20261204");
    assert_eq!(partition_of(&store, after).await, "reports_20261205");
    assert!(before < after, "ids grow across midnight");
    assert_eq!(Day::of_id(before), Some(Day::of_ms(MIDNIGHT - 1).unwrap()));

    // The platform's retry after midnight: the copy is found in yesterday's partition.
    let again = store.insert_report(report("c-a", MIDNIGHT + 500)).await;
    assert_eq!(
        again.unwrap(),
        Inserted::Duplicate {
            id: before,
            times: 1
        }
    );
    // And in the same day's, on any node: the partition's unique key.
    let same_day = store.insert_report(report("c-bb", MIDNIGHT + 9)).await;
    assert_eq!(
        same_day.unwrap(),
        Inserted::Duplicate {
            id: after,
            times: 1
        }
    );
    let reports = store.reports_for_call(&"c-a".try_into().unwrap()).await;
    assert_eq!(reports.unwrap()[0].duplicates, 1);

    // Two days on, the first is out of the window: a copy is stored as new (docs/receiver.md).
    let late = new_id(&store, report("c-a", MIDNIGHT + 86_400_000 + 1)).await;
    assert_eq!(partition_of(&store, late).await, "reports_20261206");
    let feed: Vec<i64> = store
        .reports_after(0, 10)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        feed,
        [before, after, late],
        "the feed reads the days in order"
    );
    store.close().await;
    db.drop_database().await.unwrap();
}

/// Prunes reports received before `before_ms`, in steps as `[retention]` does.
async fn prune_reports(store: &PgStore, before_ms: i64) -> u64 {
    let mut request = PruneRequest {
        kind: PruneKind::Reports,
        before_ms,
        after_id: 0,
        limit: 500,
        dry_run: false,
    };
    let mut removed = 0;
    loop {
        let step = store.prune(request).await.unwrap();
        removed += step.removed;
        let Some(next) = step.next_after else {
            return removed;
        };
        request.after_id = next;
    }
}

#[tokio::test]
async fn retention_drops_old_days_while_reports_arrive_and_keeps_what_it_must() {
    let (db, store) = scratch_store("ivrhook_days_retention", 6).await;
    let store = Arc::new(store);
    let day = 86_400_000;
    let old = MIDNIGHT - 3 * day;
    let mut gone = Vec::new();
    for n in 0..50 {
        gone.push(new_id(&store, report(&format!("old-{n}"), old + n)).await);
    }
    let pending = new_id(&store, forwarded("old-pending", old + 100)).await;
    let delivered = new_id(&store, forwarded("old-delivered", old + 101)).await;
    let client = store.client().await.unwrap();
    client
        .execute(
            "UPDATE deliveries SET state = 'delivered', finished_at_ms = 1 WHERE report_id = $1",
            &[&delivered],
        )
        .await
        .unwrap();
    let yesterday = new_id(&store, report("recent", MIDNIGHT - day / 2)).await;
    // Today's report holds the newest delivery, which keeps its report wherever it is.
    let today = new_id(&store, forwarded("today", MIDNIGHT)).await;
    client.batch_execute("ANALYZE reports").await.unwrap();

    // Reports keep arriving, for today, while the old days are dropped.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (Arc::clone(&store), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut acked = Vec::new();
            while !stop.load(Ordering::Relaxed) || acked.len() < 20 {
                let call = format!("live-{}", acked.len());
                let at = MIDNIGHT + 1 + acked.len() as i64;
                acked.push(new_id(&store, report(&call, at)).await);
            }
            acked
        })
    };
    let removed = prune_reports(&store, MIDNIGHT - day).await;
    stop.store(true, Ordering::Relaxed);
    let acked = writer.await.unwrap();

    assert!(
        !table_exists(&store, "reports_20261201").await,
        "the oldest day is dropped"
    );
    assert!(
        table_exists(&store, "reports_20261204").await,
        "yesterday stays"
    );
    assert_eq!(
        removed, 51,
        "the day's rows by the planner's count, less the kept one"
    );
    for id in gone.iter().chain([&delivered]) {
        let row = client
            .query_opt("SELECT 1 FROM reports WHERE id = $1", &[id])
            .await
            .unwrap();
        assert!(row.is_none(), "report {id} is removed");
    }
    assert_eq!(partition_of(&store, pending).await, "reports_kept");
    let left: i64 = client
        .query_one(
            "SELECT count(*) FROM deliveries WHERE report_id = $1",
            &[&delivered],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        left, 0,
        "the dropped report's finished delivery goes with it"
    );
    let kept: i64 = client
        .query_one(
            "SELECT count(*) FROM deliveries WHERE report_id = $1",
            &[&pending],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, 1, "the pending delivery stays, with its report");
    let mut expected = vec![pending, yesterday, today];
    expected.extend(&acked);
    expected.sort();
    let ids: Vec<i64> = store
        .reports_after(0, 1000)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, expected, "every kept and acknowledged report is there");

    // Once its delivery is finished, the kept report goes row by row.
    client
        .execute(
            "UPDATE deliveries SET state = 'delivered', finished_at_ms = 1 WHERE report_id = $1",
            &[&pending],
        )
        .await
        .unwrap();
    assert_eq!(prune_reports(&store, MIDNIGHT - day).await, 1);
    drop(client);
    store.close().await;
    db.drop_database().await.unwrap();
}

/// A day detached by a pass that stopped before dropping it is dropped by the next pass.
#[tokio::test]
async fn a_day_left_detached_is_dropped_by_the_next_pass() {
    let (db, store) = scratch_store("ivrhook_days_detached", 2).await;
    let day = 86_400_000;
    new_id(&store, report("old", MIDNIGHT - 3 * day)).await;
    new_id(&store, report("new", MIDNIGHT)).await;
    let client = store.client().await.unwrap();
    client
        .batch_execute("ALTER TABLE reports DETACH PARTITION reports_20261202")
        .await
        .unwrap();
    assert!(table_exists(&store, "reports_20261202").await);
    assert_eq!(prune_reports(&store, MIDNIGHT - 5 * day).await, 0);
    assert!(!table_exists(&store, "reports_20261202").await, "dropped");
    drop(client);
    store.close().await;
    db.drop_database().await.unwrap();
}
