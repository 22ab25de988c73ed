//! A file the previous version made (schema version 5, with a report, its forward, an event,
//! their deliveries and attempts) opened by this version: every row is found through the
//! store, and the old report's duplicate is still recognised.
#![allow(clippy::unwrap_used)] // a test that unwraps fails with the cause, as it should

use super::{schema::MIGRATIONS, SqliteStore};
use crate::{outbox::DeliveryFilter, Inserted, NewReport, Store};
use ivrhook_protocol::{AppId, CallId};
use rusqlite::Connection;

/// The rows as version 5 wrote them.
const OLD_ROWS: &str = "
    INSERT INTO reports (id, app_id, call_id, content_hash, event, status, received_at_ms,
                         peer, raw, decoded, warnings, utc_offset)
        VALUES (3, 'app', 'c1', x'0101010101010101010101010101010101010101010101010101010101010101',
                'multrpt', 0, 1700000000000, '10.0.0.1:9', CAST('{\"callId\":\"c1\"}' AS BLOB),
                '', '[]', '+08:00');
    INSERT INTO outbound_events VALUES (7, 'app', 'c1', 'k1', x'7b7d', 1700000000001);
    INSERT INTO deliveries (id, event_id, report_id, destination, app_id, call_id, state,
                            attempts, next_attempt_at_ms, created_at_ms, updated_at_ms,
                            finished_at_ms, last_error)
        VALUES (9, 7, NULL, 'app:app', 'app', 'c1', 'delivered', 1, 0, 1, 2, 2, NULL),
               (10, NULL, 3, 'crm', 'app', 'c1', 'dead', 2, 0, 1, 4, 4, 'HTTP 500');
    INSERT INTO attempts (id, delivery_id, owner, started_at_ms, duration_ms, http_status,
                          code, outcome)
        VALUES (11, 9, 'n1', 2, 5, 200, '000000', 'delivered'),
               (12, 10, 'n1', 3, 5, 500, NULL, 'retry'),
               (13, 10, 'n1', 4, 5, 500, NULL, 'dead');";

fn version_5_file(path: &std::path::Path) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,
                                         applied_at_ms INTEGER NOT NULL)",
    )
    .unwrap();
    for (v, sql) in MIGRATIONS.0.iter().filter(|(v, _)| *v <= 5) {
        conn.execute_batch(sql).unwrap();
        conn.execute("INSERT INTO schema_migrations VALUES (?1, 0)", [v])
            .unwrap();
    }
    conn.execute_batch(OLD_ROWS).unwrap();
}

fn same_report_again() -> NewReport {
    NewReport {
        app_id: AppId::try_from("app").unwrap(),
        call_id: CallId::try_from("c1").unwrap(),
        event: "multrpt".into(),
        status: Some(0),
        content_hash: [1; 32],
        received_at: chrono::DateTime::from_timestamp_millis(1_700_000_100_000).unwrap(),
        peer: None,
        raw: br#"{"callId":"c1"}"#.to_vec(),
        utc_offset: "+08:00".into(),
        warnings: "[]".into(),
        forwards: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_of_the_previous_version_keeps_every_row_and_its_dedupe() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    version_5_file(&path);
    let store = SqliteStore::open(&path, None).unwrap();
    let call = CallId::try_from("c1").unwrap();

    let reports = store.reports_for_call(&call).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!((reports[0].id, reports[0].status), (3, Some(0)));
    assert_eq!(reports[0].raw, br#"{"callId":"c1"}"#);

    let all = DeliveryFilter {
        limit: 10,
        ..DeliveryFilter::default()
    };
    let deliveries = store.deliveries(all).await.unwrap();
    let ids: Vec<_> = deliveries
        .iter()
        .map(|d| (d.id, d.destination.as_str()))
        .collect();
    assert_eq!(ids, [(9, "app:app"), (10, "crm")]);
    let (dead, attempts) = store.delivery(10).await.unwrap().unwrap();
    assert_eq!(dead.last_error.as_deref(), Some("HTTP 500"));
    let outcomes: Vec<_> = attempts
        .iter()
        .map(|a| (a.id, a.outcome.as_str()))
        .collect();
    assert_eq!(outcomes, [(12, "retry"), (13, "dead")]);
    let (_, attempts) = store.delivery(9).await.unwrap().unwrap();
    assert_eq!(attempts[0].code.as_deref(), Some("000000"));
    assert_eq!(store.outbound_for_call(&call).await.unwrap().len(), 1);

    let again = store.insert_report(same_report_again()).await.unwrap();
    assert_eq!(again, Inserted::Duplicate { id: 3, times: 1 });
    let mut other = same_report_again();
    other.content_hash = [2; 32];
    assert!(matches!(
        store.insert_report(other).await.unwrap(),
        Inserted::New { id: 4, .. }
    ));
    store.close().await;
}
