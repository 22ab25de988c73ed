//! Finished deliveries by day on a real PostgreSQL: a delivery moves to its day's table as it
//! finishes and back when it is retried; retention drops a day's table of one state with the
//! events its deliveries sent, while deliveries are claimed and recorded, and keeps the rest.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::{
    outbox::{AttemptRecord, ClaimRequest, DeliveryState, Lane, Settle},
    postgres::{
        days::Day,
        test_support::{record, scratch_store, submit},
        PgStore,
    },
    retention::{PruneKind, PruneRequest},
    Store,
};
use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

/// A day three days ahead, whose tables may exist (migration 11 lets days begin two ahead),
/// created by the test.
async fn later_day(store: &PgStore, ahead: i64) -> Day {
    let day = Day::of_ms(chrono::Utc::now().timestamp_millis())
        .unwrap()
        .after(ahead);
    ensure(&mut store.client().await.unwrap(), day)
        .await
        .unwrap();
    day
}

async fn claim_all(store: &PgStore, now_ms: i64) -> usize {
    let request = ClaimRequest {
        destination: "app:app".to_owned(),
        lane: Lane::First,
        limit: 100,
        now_ms,
        lease_until_ms: now_ms + 60_000,
        owner: "a".to_owned(),
        ordered: false,
        exclude: Vec::new(),
    };
    let mut claimed = store.claim(request.clone()).await.unwrap().len();
    claimed += store
        .claim(ClaimRequest {
            lane: Lane::Retry,
            ..request
        })
        .await
        .unwrap()
        .len();
    claimed
}

/// `owner`'s attempt on `id`, ended at `at_ms`.
fn attempt(id: i64, at_ms: i64, settle: Settle) -> AttemptRecord {
    AttemptRecord {
        started_at_ms: at_ms - 5,
        ..record(id, "a", "000000", settle)
    }
}

async fn partition_of(store: &PgStore, id: i64) -> String {
    let sql = "SELECT tableoid::regclass::text FROM deliveries WHERE id = $1";
    let client = store.client().await.unwrap();
    client.query_one(sql, &[&id]).await.unwrap().get(0)
}

async fn event_of(store: &PgStore, id: i64) -> i64 {
    let sql = "SELECT event_id FROM deliveries WHERE id = $1";
    let client = store.client().await.unwrap();
    client.query_one(sql, &[&id]).await.unwrap().get(0)
}

async fn event_exists(store: &PgStore, event: i64) -> bool {
    let sql = "SELECT EXISTS (SELECT 1 FROM outbound_events WHERE id = $1)";
    let client = store.client().await.unwrap();
    client.query_one(sql, &[&event]).await.unwrap().get(0)
}

async fn prune(store: &PgStore, kind: PruneKind, before_ms: i64, dry_run: bool) -> u64 {
    let request = PruneRequest {
        kind,
        before_ms,
        after_id: 0,
        limit: 100,
        dry_run,
    };
    store.prune(request).await.unwrap().removed
}

#[tokio::test]
async fn a_delivery_moves_to_its_day_as_it_finishes_and_retention_drops_the_day_by_state() {
    let (db, store) = scratch_store("ivrhook_finished_days", 4).await;
    let day = later_day(&store, 3).await;
    let table = day.named("deliveries");
    let ids = [
        submit(&store, "c1").await,
        submit(&store, "c2").await,
        submit(&store, "c3").await,
    ];
    let events = [
        event_of(&store, ids[0]).await,
        event_of(&store, ids[1]).await,
    ];
    assert_eq!(claim_all(&store, 1).await, 3);
    let at = day.start_ms() + 1_000;
    let dead = || Settle::Dead {
        reason: "108101".into(),
    };
    let retry = Settle::Retry {
        at_ms: at + 60_000,
        unknown_call: false,
    };
    for (id, settle) in [
        (ids[0], Settle::Delivered),
        (ids[1], dead()),
        (ids[2], retry),
    ] {
        store.record_attempt(attempt(id, at, settle)).await.unwrap();
    }
    assert_eq!(
        partition_of(&store, ids[0]).await,
        format!("{table}_delivered")
    );
    assert_eq!(partition_of(&store, ids[1]).await, format!("{table}_dead"));
    assert_eq!(partition_of(&store, ids[2]).await, "deliveries_pending");
    let (row, attempts) = store.delivery(ids[0]).await.unwrap().unwrap();
    assert_eq!((row.state, attempts.len()), (DeliveryState::Delivered, 1));

    // Retried, the dead one is pending again, and dies again.
    let retried = store.retry_delivery(ids[1], at + 1).await.unwrap().unwrap();
    assert_eq!(retried.state, DeliveryState::Pending);
    assert_eq!(partition_of(&store, ids[1]).await, "deliveries_pending");
    assert_eq!(claim_all(&store, at + 2).await, 1);
    let ended = attempt(ids[1], at + 3, dead());
    store.record_attempt(ended).await.unwrap();
    assert_eq!(partition_of(&store, ids[1]).await, format!("{table}_dead"));

    // The day's delivered table goes, with its events; then its dead one, and the day.
    let before = day.end_ms();
    assert_eq!(prune(&store, PruneKind::Delivered, before, true).await, 1);
    assert!(store.delivery(ids[0]).await.unwrap().is_some(), "a dry run");
    assert_eq!(prune(&store, PruneKind::Delivered, before, false).await, 1);
    assert!(store.delivery(ids[0]).await.unwrap().is_none());
    assert!(
        !event_exists(&store, events[0]).await,
        "its event goes with it"
    );
    assert!(!exists(
        &**store.client().await.unwrap(),
        &format!("{table}_delivered")
    )
    .await
    .unwrap());
    assert!(
        store.delivery(ids[1]).await.unwrap().is_some(),
        "dead ones stay"
    );
    assert_eq!(prune(&store, PruneKind::Dead, before, false).await, 1);
    assert!(store.delivery(ids[1]).await.unwrap().is_none());
    assert!(!event_exists(&store, events[1]).await);
    assert!(
        !exists(&**store.client().await.unwrap(), &table)
            .await
            .unwrap(),
        "the day is gone"
    );
    let (pending, _) = store.delivery(ids[2]).await.unwrap().unwrap();
    assert_eq!(pending.state, DeliveryState::Pending, "pending ones stay");
    store.close().await;
    db.drop_database().await.unwrap();
}

/// Deliveries go on being submitted, claimed and finished, into the next day, while a day's
/// tables are dropped: every one of them is there afterwards, and nothing failed.
#[tokio::test]
async fn retention_drops_a_day_while_deliveries_finish_and_loses_none_of_the_others() {
    let (db, store) = scratch_store("ivrhook_finished_days_live", 6).await;
    let store = Arc::new(store);
    let old = later_day(&store, 3).await;
    let next = later_day(&store, 4).await;
    for n in 0..50 {
        let id = submit(&store, &format!("old-{n}")).await;
        claim_all(&store, 1).await;
        let at = old.start_ms() + n;
        store
            .record_attempt(attempt(id, at, Settle::Delivered))
            .await
            .unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let (store, stop) = (Arc::clone(&store), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut done = Vec::new();
            while !stop.load(Ordering::Relaxed) || done.len() < 20 {
                let id = submit(&store, &format!("live-{}", done.len())).await;
                claim_all(&store, 1).await;
                let at = next.start_ms() + done.len() as i64;
                store
                    .record_attempt(attempt(id, at, Settle::Delivered))
                    .await
                    .unwrap();
                done.push(id);
            }
            done
        })
    };
    let removed = prune(&store, PruneKind::Delivered, old.end_ms(), false).await;
    stop.store(true, Ordering::Relaxed);
    let done = worker.await.unwrap();

    assert_eq!(removed, 50);
    let client = store.client().await.unwrap();
    let dropped = format!("{}_delivered", old.named("deliveries"));
    assert!(!exists(&**client, &dropped).await.unwrap());
    for id in &done {
        let (row, _) = store.delivery(*id).await.unwrap().unwrap();
        assert_eq!(row.state, DeliveryState::Delivered, "delivery {id}");
        let partition = format!("{}_delivered", next.named("deliveries"));
        assert_eq!(partition_of(&store, *id).await, partition);
    }
    drop(client);
    store.close().await;
    db.drop_database().await.unwrap();
}

/// A retry that waits on a delivery another transaction is finishing finds it moved when
/// that commits: it runs again and finds it delivered, instead of failing.
#[tokio::test]
async fn a_statement_that_finds_its_row_moved_runs_again() {
    let (db, store) = scratch_store("ivrhook_finished_days_moved", 4).await;
    let store = Arc::new(store);
    let day = later_day(&store, 3).await;
    let id = submit(&store, "c1").await;
    let mut mover = store.client().await.unwrap();
    let tx = mover.transaction().await.unwrap();
    let sql = "UPDATE deliveries SET state = 'delivered', finished_at_ms = $2 WHERE id = $1";
    tx.execute(sql, &[&id, &day.start_ms()]).await.unwrap();
    let retry = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.retry_delivery(id, 1).await })
    };
    // The retry waits for the row's lock before the move commits.
    let watcher = store.client().await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let waiting = "SELECT count(*) FROM pg_stat_activity
                   WHERE wait_event_type = 'Lock' AND query LIKE '%UPDATE deliveries%'";
    while watcher
        .query_one(waiting, &[])
        .await
        .unwrap()
        .get::<_, i64>(0)
        == 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the retry never waited"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    tx.commit().await.unwrap();
    let retried = retry.await.unwrap().unwrap();
    assert!(
        retried.is_none(),
        "a delivered delivery is not retried: {retried:?}"
    );
    let (row, _) = store.delivery(id).await.unwrap().unwrap();
    assert_eq!(row.state, DeliveryState::Delivered);
    drop((mover, watcher));
    store.close().await;
    db.drop_database().await.unwrap();
}

/// A delivery that finishes on a day whose tables were not created ahead creates them.
#[tokio::test]
async fn a_delivery_finishing_on_a_day_without_tables_creates_them() {
    let (db, store) = scratch_store("ivrhook_finished_days_missing", 4).await;
    let day = Day::of_ms(chrono::Utc::now().timestamp_millis())
        .unwrap()
        .after(5);
    let table = format!("{}_delivered", day.named("deliveries"));
    assert!(!exists(&**store.client().await.unwrap(), &table)
        .await
        .unwrap());
    let id = submit(&store, "c1").await;
    assert_eq!(claim_all(&store, 1).await, 1);
    let ended = attempt(id, day.start_ms() + 1, Settle::Delivered);
    store.record_attempt(ended).await.unwrap();
    assert_eq!(partition_of(&store, id).await, table);
    store.close().await;
    db.drop_database().await.unwrap();
}
