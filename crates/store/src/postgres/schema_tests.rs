//! Upgrades with data in: a database built at an older version, rows written the way that
//! version's nodes wrote them, then migrated.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::{
    outbox::{AttemptRow, DeliveryState, Settle},
    postgres::{
        scratch::ScratchDatabase,
        test_support::{record, submit},
        Migrations, PgStore,
    },
    retention::{PruneKind, PruneRequest},
    Store,
};

/// Version 4's rows: a dead delivery with two attempts, a pending one with none, and an event
/// of each. The attempts take their ids from the table's sequence, as version 4 did.
const VERSION_4_ROWS: &str = "
    INSERT INTO outbound_events (id, app_id, call_id, body, created_at_ms)
        VALUES (7, 'app', 'c1', 'x', 1), (8, 'app', 'c2', 'y', 1);
    INSERT INTO deliveries (id, event_id, app_id, call_id, state, lane, attempts,
                            next_attempt_at_ms, created_at_ms, updated_at_ms, finished_at_ms,
                            last_error)
        VALUES (9, 7, 'app', 'c1', 'dead', 1, 2, 5, 1, 6, 6, 'gone'),
               (10, 8, 'app', 'c2', 'pending', 0, 0, 0, 1, 1, NULL, NULL);
    INSERT INTO attempts (delivery_id, owner, started_at_ms, duration_ms, http_status, code,
                          body_excerpt, error, warning, outcome)
        VALUES (9, 'n1', 2, 3, 503, NULL, 'busy', NULL, NULL, 'retry'),
               (9, 'n2', 4, 2, 200, '108104', NULL, NULL, 'slow', 'dead');
    SELECT setval('outbound_events_id_seq', 8); SELECT setval('deliveries_id_seq', 10);";

/// A fresh database named `name`, not migrated, and a connection to it.
async fn scratch(name: &str) -> (ScratchDatabase, tokio_postgres::Client) {
    let db = ScratchDatabase::for_tests(name)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    (db, client)
}

/// Migration 5 moves every attempt into its delivery's row, in order and with its id, drops
/// the table, and new attempts go on from the old ids.
#[tokio::test]
async fn migration_5_moves_each_attempt_into_its_delivery_row() {
    let (db, mut client) = scratch("ivrhook_migrate_attempts").await;
    assert_eq!(migrate_to(&mut client, 4).await.unwrap(), [1, 2, 3, 4]);
    client.batch_execute(VERSION_4_ROWS).await.unwrap();
    assert_eq!(migrate(&mut client).await.unwrap(), since(5));
    let gone: bool = client
        .query_one("SELECT to_regclass('attempts') IS NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert!(gone, "the attempts table is dropped");

    let store = PgStore::open(&db.url, Migrations::Require, 2)
        .await
        .unwrap();
    let (dead, attempts) = store.delivery(9).await.unwrap().unwrap();
    assert_eq!((dead.state, dead.attempts), (DeliveryState::Dead, 2));
    let moved =
        |id, started, duration, status, code: Option<&str>, excerpt: Option<&str>| AttemptRow {
            id,
            started_at_ms: started,
            duration_ms: duration,
            http_status: Some(status),
            code: code.map(str::to_owned),
            body_excerpt: excerpt.map(str::to_owned),
            error: None,
            warning: None,
            outcome: String::new(),
        };
    let first = AttemptRow {
        outcome: "retry".to_owned(),
        ..moved(1, 2, 3, 503, None, Some("busy"))
    };
    let second = AttemptRow {
        warning: Some("slow".to_owned()),
        outcome: "dead".to_owned(),
        ..moved(2, 4, 2, 200, Some("108104"), None)
    };
    assert_eq!(attempts, [first, second]);

    // The pending delivery had none; its first attempt now takes the next id.
    client
        .execute("UPDATE deliveries SET lease_owner = 'a' WHERE id = 10", &[])
        .await
        .unwrap();
    store
        .record_attempt(record(10, "a", "000000", Settle::Delivered))
        .await
        .unwrap();
    let (row, attempts) = store.delivery(10).await.unwrap().unwrap();
    assert_eq!(row.state, DeliveryState::Delivered);
    let ids: Vec<i64> = attempts.iter().map(|a| a.id).collect();
    assert_eq!(ids, [3]);
    // And a new event's delivery starts with an empty log.
    let id = submit(&store, "c3").await;
    assert!(store.delivery(id).await.unwrap().unwrap().1.is_empty());

    drop(client);
    store.close().await;
    db.drop_database().await.unwrap();
}

/// Every identifier column compares as bytes (migration 6), so no index of them depends on
/// the operating system's locale; the rows of an older version keep their values and their
/// unique keys still hold.
#[tokio::test]
async fn identifiers_compare_as_bytes_after_migration_6() {
    let (db, mut client) = scratch("ivrhook_migrate_collation").await;
    migrate_to(&mut client, 5).await.unwrap();
    client
        .batch_execute(
            "INSERT INTO calls VALUES ('app', 'c1', 1);
             INSERT INTO outbound_events (app_id, call_id, idempotency_key, body, created_at_ms)
                 VALUES ('app', 'c1', 'k', 'x', 1);",
        )
        .await
        .unwrap();
    assert_eq!(migrate_to(&mut client, 6).await.unwrap(), [6]);
    let columns = "SELECT c.relname || '.' || a.attname, co.collname
                   FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                   JOIN pg_collation co ON co.oid = a.attcollation
                   WHERE c.relname IN ('reports', 'calls', 'outbound_events', 'deliveries')
                     AND a.attname IN ('app_id', 'call_id', 'idempotency_key', 'state')
                   ORDER BY 1";
    let found: Vec<(String, String)> = client
        .query(columns, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let expected: Vec<(String, String)> = [
        "calls.app_id",
        "calls.call_id",
        "deliveries.app_id",
        "deliveries.call_id",
        "deliveries.state",
        "outbound_events.app_id",
        "outbound_events.call_id",
        "outbound_events.idempotency_key",
        "reports.app_id",
        "reports.call_id",
    ]
    .iter()
    .map(|c| (c.to_string(), "C".to_owned()))
    .collect();
    assert_eq!(found, expected);
    // The keys still hold on the rows an older version wrote.
    let again = client
        .execute("INSERT INTO calls VALUES ('app', 'c1', 2)", &[])
        .await;
    assert!(again.is_err(), "the calls key lets a duplicate in");
    let key = client
        .execute(
            "INSERT INTO outbound_events (app_id, call_id, idempotency_key, body, created_at_ms)
             VALUES ('app', 'c2', 'k', 'y', 2)",
            &[],
        )
        .await;
    assert!(key.is_err(), "the idempotency key lets a duplicate in");
    drop(client);
    db.drop_database().await.unwrap();
}

/// Migration 7: an existing delivery goes to its app's callback destination and keeps its
/// event; a delivery now has exactly one source, an event or a report.
#[tokio::test]
async fn migration_7_sends_existing_deliveries_to_their_apps_callback_destination() {
    let (db, mut client) = scratch("ivrhook_migrate_destinations").await;
    migrate_to(&mut client, 4).await.unwrap();
    client.batch_execute(VERSION_4_ROWS).await.unwrap();
    assert_eq!(migrate(&mut client).await.unwrap(), since(5));
    let store = PgStore::open(&db.url, Migrations::Require, 2)
        .await
        .unwrap();
    let (dead, _) = store.delivery(9).await.unwrap().unwrap();
    assert_eq!(
        (dead.destination.as_str(), dead.source, dead.state),
        (
            "app:app",
            crate::outbox::Source::Event(7),
            DeliveryState::Dead
        )
    );
    // A delivery without a source is refused.
    let neither = client
        .execute(
            "INSERT INTO deliveries (destination, app_id, call_id, next_attempt_at_ms,
                                     created_at_ms, updated_at_ms)
             VALUES ('x', 'a', 'c', 0, 0, 0)",
            &[],
        )
        .await
        .unwrap_err();
    assert!(
        format!("{neither:?}").contains("deliveries_one_source"),
        "{neither:?}"
    );
    let pending = store
        .claim(crate::outbox::ClaimRequest {
            destination: "app:app".into(),
            lane: crate::outbox::Lane::First,
            limit: 10,
            now_ms: 1,
            lease_until_ms: 100,
            owner: "n".into(),
            ordered: true,
            exclude: Vec::new(),
        })
        .await
        .unwrap();
    let claimed: Vec<i64> = pending.iter().map(|c| c.delivery_id).collect();
    assert_eq!(
        claimed,
        [10],
        "the pending delivery is claimed by its destination"
    );
    drop(client);
    store.close().await;
    db.drop_database().await.unwrap();
}

/// Version 7's reports: one forwarded, its delivery delivered with one
/// attempt in its log, and one that was not forwarded.
const VERSION_7_REPORTS: &str = "
    INSERT INTO reports (id, app_id, call_id, content_hash, event, status, received_at_ms, raw,
                         utc_offset, warnings)
        VALUES (1, 'app', 'c1', decode(repeat('01', 32), 'hex'), 'multrpt', 0, 1796385600000,
                '{\"callId\":\"c1\"}', '+08:00', '[]'),
               (2, 'app', 'c2', decode(repeat('02', 32), 'hex'), 'multrpt', 1, 1796385600001,
                '{\"callId\":\"c2\"}', '+08:00', '[]');
    INSERT INTO deliveries (id, report_id, destination, app_id, call_id, state, attempts,
                            next_attempt_at_ms, created_at_ms, updated_at_ms, finished_at_ms,
                            attempt_log)
        VALUES (11, 1, 'crm', 'app', 'c1', 'delivered', 1, 0, 1, 2, 2,
                '[{\"id\": 3, \"owner\": \"n1\", \"started_at_ms\": 1, \"duration_ms\": 1,
                   \"http_status\": 200, \"outcome\": \"delivered\"}]');
    SELECT setval('reports_id_seq', 2); SELECT setval('deliveries_id_seq', 11);";

/// Migrations 8–10 partition reports by day: a store of version 7 keeps every report,
/// delivery and attempt, a copy of an old report is still a duplicate, and new reports go to
/// their day, after the old ones in the feed.
#[tokio::test]
async fn migration_10_keeps_the_reports_stored_before_days() {
    let (db, mut client) = scratch("ivrhook_migrate_days").await;
    migrate_to(&mut client, 4).await.unwrap();
    client.batch_execute(VERSION_4_ROWS).await.unwrap();
    migrate_to(&mut client, 7).await.unwrap();
    client.batch_execute(VERSION_7_REPORTS).await.unwrap();
    // Received a minute ago: an upgrade on the day they came.
    let minute_ago = chrono::Utc::now().timestamp_millis() - 60_000;
    client
        .execute("UPDATE reports SET received_at_ms = $1", &[&minute_ago])
        .await
        .unwrap();
    assert_eq!(migrate(&mut client).await.unwrap(), since(8));
    let store = PgStore::open(&db.url, Migrations::Apply, 2).await.unwrap();

    let c1 = store
        .reports_for_call(&"c1".try_into().unwrap())
        .await
        .unwrap();
    let c2 = store
        .reports_for_call(&"c2".try_into().unwrap())
        .await
        .unwrap();
    assert_eq!((c1[0].id, c2[0].id, c2[0].status), (1, 2, Some(1)));
    let (dead, attempts) = store.delivery(9).await.unwrap().unwrap();
    assert_eq!((dead.state, attempts.len()), (DeliveryState::Dead, 2));
    let (forward, attempts) = store.delivery(11).await.unwrap().unwrap();
    assert_eq!(forward.source, crate::outbox::Source::Report(1));
    assert_eq!(
        (forward.state, attempts[0].id),
        (DeliveryState::Delivered, 3)
    );

    let copy = crate::NewReport {
        content_hash: [1; 32],
        ..crate::postgres::test_support::report("c1", chrono::Utc::now().timestamp_millis())
    };
    let again = store.insert_report(copy).await.unwrap();
    assert_eq!(again, crate::Inserted::Duplicate { id: 1, times: 1 });
    let new = crate::postgres::test_support::report("c3", chrono::Utc::now().timestamp_millis());
    let crate::Inserted::New { id, .. } = store.insert_report(new).await.unwrap() else {
        panic!("c3 is new")
    };
    assert!(id >= crate::postgres::days::FIRST_DAY_ID, "{id}");
    let feed: Vec<i64> = store
        .reports_after(0, 10)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(feed, [1, 2, id]);
    drop(client);
    store.close().await;
    db.drop_database().await.unwrap();
}

/// Migrations 11–13 partition deliveries by the day they finished: a store of version 10
/// keeps every delivery and attempt in `deliveries_pending`; its pending one is claimed and,
/// finished, moves to its day; its finished ones are pruned row by row, with their events.
#[tokio::test]
async fn migration_13_keeps_the_deliveries_stored_before_days() {
    let (db, mut client) = scratch("ivrhook_migrate_finished_days").await;
    migrate_to(&mut client, 4).await.unwrap();
    client.batch_execute(VERSION_4_ROWS).await.unwrap();
    migrate_to(&mut client, 7).await.unwrap();
    client.batch_execute(VERSION_7_REPORTS).await.unwrap();
    migrate_to(&mut client, 10).await.unwrap();
    assert_eq!(migrate(&mut client).await.unwrap(), since(11));
    let store = PgStore::open(&db.url, Migrations::Apply, 2).await.unwrap();
    let kind: i8 = client
        .query_one(
            "SELECT relkind::\"char\" FROM pg_class WHERE relname = 'deliveries'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(kind as u8, b'p', "deliveries is partitioned");
    let (dead, attempts) = store.delivery(9).await.unwrap().unwrap();
    assert_eq!((dead.state, attempts.len()), (DeliveryState::Dead, 2));
    let (forward, attempts) = store.delivery(11).await.unwrap().unwrap();
    assert_eq!(
        (forward.state, attempts[0].id),
        (DeliveryState::Delivered, 3)
    );

    // The pending one finishes on the first day that has tables.
    let first: i64 = client
        .query_one("SELECT ms FROM deliveries_days_from", &[])
        .await
        .unwrap()
        .get(0);
    let claim = crate::outbox::ClaimRequest {
        destination: "app:app".to_owned(),
        lane: crate::outbox::Lane::First,
        limit: 10,
        now_ms: 1,
        lease_until_ms: 60_000,
        owner: "a".to_owned(),
        ordered: true,
        exclude: Vec::new(),
    };
    assert_eq!(store.claim(claim).await.unwrap().len(), 1);
    let ended = crate::outbox::AttemptRecord {
        started_at_ms: first + 1_000,
        ..record(10, "a", "000000", Settle::Delivered)
    };
    store.record_attempt(ended).await.unwrap();
    let partition: String = client
        .query_one(
            "SELECT tableoid::regclass::text FROM deliveries WHERE id = 10",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let day = crate::postgres::days::Day::of_ms(first).unwrap();
    assert_eq!(partition, format!("{}_delivered", day.named("deliveries")));

    // The old finished ones go row by row, the dead one with its event.
    for (kind, id) in [(PruneKind::Dead, 9), (PruneKind::Delivered, 11)] {
        let request = PruneRequest {
            kind,
            before_ms: 100,
            after_id: 0,
            limit: 100,
            dry_run: false,
        };
        assert_eq!(store.prune(request).await.unwrap().removed, 1, "{kind:?}");
        assert!(store.delivery(id).await.unwrap().is_none(), "{id}");
    }
    let event: i64 = client
        .query_one("SELECT count(*) FROM outbound_events WHERE id = 7", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(event, 0, "the dead delivery's event goes with it");
    assert!(store.delivery(10).await.unwrap().is_some());
    drop(client);
    store.close().await;
    db.drop_database().await.unwrap();
}

/// The versions from `first` to the newest: what migrating a database at `first - 1` applies.
fn since(first: i64) -> Vec<i64> {
    (first..=super::MIGRATIONS.known()).collect()
}
