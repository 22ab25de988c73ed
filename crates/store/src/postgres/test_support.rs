//! What the PostgreSQL unit tests share: a young table with a backlog, one event per call,
//! and an attempt record.
#![allow(clippy::unwrap_used)]

use super::{scratch::ScratchDatabase, PgStore};
use crate::Migrations;
use crate::{
    outbox::{AttemptRecord, NewEvent, Settle, Submitted},
    NewReport, Store,
};

/// 5,000 pending deliveries of app `app` (destination `app:app`), all due at 0, on a table
/// never analysed.
pub(crate) const YOUNG_BACKLOG: &str = "
    INSERT INTO outbound_events (app_id, call_id, body, created_at_ms)
    SELECT 'app', 'c' || n, 'x', 0 FROM generate_series(1, 5000) n;
    INSERT INTO deliveries (event_id, destination, app_id, call_id, next_attempt_at_ms,
                            created_at_ms, updated_at_ms)
    SELECT id, 'app:' || app_id, app_id, call_id, 0, 0, 0 FROM outbound_events;";

/// Statistics that say nothing is pending: every delivery finished, then `ANALYZE` (what
/// autovacuum records after a quiet spell). Pending rows that arrive later are not in them.
pub(crate) const NOTHING_PENDING: &str = "
    UPDATE deliveries SET state = 'delivered', finished_at_ms = 1;
    ANALYZE deliveries;";

/// A new pending delivery for each event, due at 0.
pub(crate) const MORE_PENDING: &str = "
    INSERT INTO deliveries (event_id, destination, app_id, call_id, next_attempt_at_ms,
                            created_at_ms, updated_at_ms)
    SELECT id, 'app:' || app_id, app_id, call_id, 0, 0, 0 FROM outbound_events;";

/// Empty tables, never analysed.
pub(crate) const EMPTY: &str = "TRUNCATE outbound_events, deliveries CASCADE";

/// A new table of 200 rows, never analysed: one that a node's first statements planned on
/// (an empty table is planned as ten pages; this one is planned as what it is, a few).
pub(crate) const FEW_ROWS: &str = "
    TRUNCATE outbound_events, deliveries CASCADE;
    INSERT INTO outbound_events (app_id, call_id, body, created_at_ms)
    SELECT 'app', 'f' || n, 'x', 0 FROM generate_series(1, 200) n;
    INSERT INTO deliveries (event_id, destination, app_id, call_id, next_attempt_at_ms,
                            created_at_ms, updated_at_ms)
    SELECT id, 'app:' || app_id, app_id, call_id, 0, 0, 0 FROM outbound_events;";

/// What a kept plan may have been made from, as (case, before, after) for `kept_plan`. Run in
/// this order on one fresh database: the third case plans on the backlog the second left.
pub(crate) const PLAN_CASES: [(&str, &str, &str); 4] = [
    (
        "a new table of a few rows that grew",
        FEW_ROWS,
        YOUNG_BACKLOG,
    ),
    ("an empty table that grew", EMPTY, YOUNG_BACKLOG),
    ("a young table with a backlog", "", ""),
    (
        "statistics with nothing pending",
        NOTHING_PENDING,
        MORE_PENDING,
    ),
];

/// Checks that every kept plan of `sql` (see `PLAN_CASES`) probes `deliveries_ordering` with an
/// index condition on each of `by`, and scans no delivery: the lease check of an ordered
/// delivery costs one probe, not a read of every unfinished delivery.
pub(crate) async fn assert_ordering_probed(
    client: &tokio_postgres::Client,
    sql: &str,
    args: &str,
    by: &[&str],
) {
    for (case, before, after) in PLAN_CASES {
        let plan = kept_plan(client, sql, args, before, after).await;
        let probe = plan
            .lines()
            .position(|l| l.contains("deliveries_pending_ordering"))
            .unwrap_or_else(|| panic!("{case}: the ordering index is not read:\n{plan}"));
        let condition = plan.lines().nth(probe + 1).unwrap_or_default();
        assert!(
            condition.contains("Index Cond") && by.iter().all(|b| condition.contains(b)),
            "{case}:\n{plan}"
        );
        assert!(!plan.contains("Seq Scan on deliveries"), "{case}:\n{plan}");
    }
}

/// The plan that `sql`, prepared once `before` has run, still uses after `after`: under
/// `force_generic_plan`, the plan a connection's prepared statement settles on and keeps while
/// the table grows (only DDL and `ANALYZE` make it plan again).
pub(crate) async fn kept_plan(
    client: &tokio_postgres::Client,
    sql: &str,
    args: &str,
    before: &str,
    after: &str,
) -> String {
    client
        .batch_execute(&format!(
            "{before}; SET plan_cache_mode = force_generic_plan; PREPARE kept AS {sql};"
        ))
        .await
        .unwrap();
    let explain = format!("EXPLAIN EXECUTE kept({args})");
    // The first execution makes the plan; the second shows the one kept.
    client.batch_execute(&explain).await.unwrap();
    client.batch_execute(after).await.unwrap();
    let rows = client.query(&explain, &[]).await.unwrap();
    client
        .batch_execute("DEALLOCATE kept; RESET plan_cache_mode;")
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Submits an event of app `app` for `call`, due at 0; returns its delivery's id.
pub(crate) async fn submit(store: &PgStore, call: &str) -> i64 {
    let event = NewEvent {
        app_id: "app".try_into().unwrap(),
        destination: "app:app".into(),
        call_id: call.try_into().unwrap(),
        idempotency_key: None,
        body: b"{}".to_vec(),
        created_at_ms: 0,
        first_attempt_at_ms: 0,
        lease: None,
    };
    match store.submit_event(event).await.unwrap() {
        Submitted::New(ids) => ids.delivery_id,
        other => panic!("{other:?}"),
    }
}

/// An attempt by `owner` answered HTTP 200 with `code`.
pub(crate) fn record(delivery_id: i64, owner: &str, code: &str, settle: Settle) -> AttemptRecord {
    AttemptRecord {
        delivery_id,
        owner: owner.to_owned(),
        started_at_ms: 10,
        duration_ms: 5,
        http_status: Some(200),
        code: Some(code.to_owned()),
        body_excerpt: None,
        error: None,
        warning: None,
        settle,
    }
}

/// A fresh database named after `name`, migrated, and a store on it with `pool_size`
/// connections. The caller closes the store and drops the database.
pub(crate) async fn scratch_store(name: &str, pool_size: usize) -> (ScratchDatabase, PgStore) {
    let db = ScratchDatabase::for_tests(name)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let store = PgStore::open(&db.url, Migrations::Apply, pool_size)
        .await
        .unwrap();
    (db, store)
}

/// A report of app `app` for `call`, received at `at_ms`.
pub(crate) fn report(call: &str, at_ms: i64) -> NewReport {
    NewReport {
        app_id: "app".try_into().unwrap(),
        call_id: call.try_into().unwrap(),
        event: "multrpt".into(),
        status: Some(0),
        content_hash: [call.len() as u8; 32],
        received_at: chrono::DateTime::from_timestamp_millis(at_ms).unwrap(),
        peer: None,
        raw: format!("{{\"callId\":\"{call}\"}}").into_bytes(),
        utc_offset: "+08:00".into(),
        warnings: "[]".into(),
        forwards: Vec::new(),
    }
}
