//! The outbox's writes, run as jobs on the writer thread.

use crate::{
    outbox::{
        AttemptRecord, ClaimRequest, Claimed, EventIds, Lane, LeaseOffer, NewEvent, Recorded,
        RetryRange, Submitted,
    },
    rows, Forward, Leased,
};
use rusqlite::{Connection, OptionalExtension};

// The statements a delivery runs, named so that a test can check that none of them builds a
// temporary b-tree (`schema::tests::hot_writes_build_no_temporary_btree`).
pub(super) const INSERT_EVENT: &str = "
    INSERT INTO outbound_events (app_id, call_id, idempotency_key, body, created_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING";
pub(super) const INSERT_DELIVERY: &str = "
    INSERT INTO deliveries (event_id, destination, app_id, call_id, next_attempt_at_ms,
                            created_at_ms, updated_at_ms, lease_owner, lease_expires_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)";
pub(super) const INSERT_FORWARD: &str = "
    INSERT INTO deliveries (report_id, destination, app_id, call_id, next_attempt_at_ms,
                            created_at_ms, updated_at_ms, lease_owner, lease_expires_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)";
/// Whether a call has a pending delivery to a destination (a new one of an ordered
/// destination waits for it). In the writer's transaction, so events earlier in the same
/// group count.
pub(super) const CALL_PENDING: &str = "
    SELECT EXISTS (SELECT 1 FROM deliveries INDEXED BY deliveries_ordering
                   WHERE state = 'pending' AND destination = ?1 AND call_id = ?2)";
pub(super) const LEASE: &str = "
    UPDATE deliveries SET lease_owner = ?1, lease_expires_at_ms = ?2, updated_at_ms = ?3
    WHERE id = ?4";
pub(super) const INSERT_ATTEMPT: &str = "
    INSERT INTO attempts (delivery_id, owner, started_at_ms, duration_ms, http_status, code,
                          body_excerpt, error, warning, outcome)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
pub(super) const MOVE: &str = "
    UPDATE deliveries
    SET state = ?1, next_attempt_at_ms = ?2,
        unknown_call_answers = unknown_call_answers + ?3, finished_at_ms = ?4,
        last_error = ?5, attempts = attempts + 1, lane = 1, lease_owner = NULL,
        lease_expires_at_ms = 0, updated_at_ms = ?6
    WHERE id = ?7 AND lease_owner = ?8 AND state = 'pending'";
/// The next pending delivery of a finished delivery's call to its destination, in the call's
/// order.
pub(super) const NEXT_OF_CALL: &str = "
    SELECT p.lane, p.next_attempt_at_ms
    FROM deliveries f JOIN deliveries p INDEXED BY deliveries_ordering
      ON p.state = 'pending' AND p.destination = f.destination AND p.call_id = f.call_id
         AND p.id > f.id
    WHERE f.id = ?1
    ORDER BY p.id LIMIT 1";

/// The event and its delivery, together (the caller runs this in a savepoint).
///
/// The ids come from `last_insert_rowid`, not `RETURNING`: SQLite gathers a statement's
/// `RETURNING` rows in a temporary b-tree of its own, created and dropped each time, a large
/// share of a delivery's work.
pub(crate) fn submit(conn: &Connection, e: &NewEvent) -> rusqlite::Result<Submitted> {
    let inserted = conn.prepare_cached(INSERT_EVENT)?.execute((
        e.app_id.as_str(),
        e.call_id.as_str(),
        &e.idempotency_key,
        &e.body,
        e.created_at_ms,
    ))?;
    if inserted == 0 {
        let ids = conn
            .prepare_cached(
                "SELECT e.id, d.id FROM outbound_events e JOIN deliveries d ON d.event_id = e.id
                 WHERE e.app_id = ?1 AND e.idempotency_key = ?2",
            )?
            .query_row((e.app_id.as_str(), &e.idempotency_key), |r| {
                Ok(EventIds {
                    event_id: r.get(0)?,
                    delivery_id: r.get(1)?,
                })
            })?;
        return Ok(Submitted::Existing(ids));
    }
    let event_id = conn.last_insert_rowid();
    let lease = taken(conn, e.lease.as_ref(), &e.destination, e.call_id.as_str())?;
    conn.prepare_cached(INSERT_DELIVERY)?.execute((
        event_id,
        &e.destination,
        e.app_id.as_str(),
        e.call_id.as_str(),
        e.first_attempt_at_ms,
        e.created_at_ms,
        lease.map(|l| l.owner.as_str()),
        lease.map_or(0, |l| l.until_ms),
    ))?;
    let ids = EventIds {
        event_id,
        delivery_id: conn.last_insert_rowid(),
    };
    Ok(match lease {
        Some(_) => Submitted::Leased(ids),
        None => Submitted::New(ids),
    })
}

// INDEXED BY pins the plan: statistics can never turn a claim into a scan of the backlog,
// and a missing index fails loudly when the statement is prepared. The rows are read, then
// leased one by one by primary key, in the writer's transaction (nothing else writes between
// the two): an `UPDATE … WHERE id IN (…) RETURNING` costs three temporary b-trees a claim (the
// id list, the excluded list, the returned rows), each created and dropped, where a lease by
// primary key costs one b-tree seek.
//
// The claimed columns are `rows::CLAIMED`, the delivery named `c`: its event or its report is
// joined by primary key.
pub(super) static CLAIM: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {}
         FROM deliveries c INDEXED BY deliveries_due
              LEFT JOIN outbound_events e ON e.id = c.event_id
              LEFT JOIN reports r ON r.id = c.report_id
         WHERE c.state = 'pending' AND c.destination = ?1 AND c.lane = ?2
           AND c.next_attempt_at_ms <= ?3 AND c.lease_expires_at_ms <= ?3
           AND (?4 = 0 OR NOT EXISTS (
               SELECT 1 FROM deliveries p INDEXED BY deliveries_ordering
               WHERE p.state = 'pending' AND p.destination = c.destination
                 AND p.call_id = c.call_id AND p.id < c.id))
         ORDER BY c.next_attempt_at_ms, c.id
         LIMIT ?5",
        rows::CLAIMED
    )
});

/// Leases due deliveries; the lease is part of the batch's commit.
pub(crate) fn claim(conn: &Connection, c: &ClaimRequest) -> rusqlite::Result<Vec<Claimed>> {
    // The excluded deliveries are dropped here rather than in SQL: reading as many more rows
    // as there are exclusions leaves the same first `limit` rows as a `NOT IN` would.
    let read = i64::from(c.limit) + c.exclude.len() as i64;
    let params = (&c.destination, c.lane.as_int(), c.now_ms, c.ordered, read);
    let mut claimed: Vec<Claimed> = conn
        .prepare_cached(&CLAIM)?
        .query_map(params, |r| rows::claimed(r).map_err(rows::for_sqlite))?
        .filter(|r| {
            r.as_ref()
                .map_or(true, |d| !c.exclude.contains(&d.delivery_id))
        })
        .take(c.limit as usize)
        .collect::<rusqlite::Result<_>>()?;
    let mut lease = conn.prepare_cached(LEASE)?;
    for d in &claimed {
        lease.execute((&c.owner, c.lease_until_ms, c.now_ms, d.delivery_id))?;
    }
    // Sent in the order the deliveries were created.
    claimed.sort_by_key(|c| c.delivery_id);
    Ok(claimed)
}

/// The attempt row, then the delivery's move if `owner` still holds its lease; a delivery that
/// finished reports the next pending delivery of its call (`Recorded`).
pub(crate) fn record(conn: &Connection, a: &AttemptRecord) -> rusqlite::Result<Recorded> {
    let m = a.delivery_move();
    conn.prepare_cached(INSERT_ATTEMPT)?.execute((
        a.delivery_id,
        &a.owner,
        a.started_at_ms,
        a.duration_ms,
        a.http_status,
        &a.code,
        &a.body_excerpt,
        &a.error,
        &a.warning,
        m.outcome,
    ))?;
    // Without RETURNING (see `submit`); the call is found by primary key when it is needed.
    let moved = conn.prepare_cached(MOVE)?.execute((
        m.state,
        m.next_attempt_at_ms,
        m.unknown_call,
        m.finished_at_ms,
        m.last_error,
        m.now_ms,
        a.delivery_id,
        &a.owner,
    ))?;
    if moved == 0 || m.finished_at_ms.is_none() {
        return Ok(Recorded::default());
    }
    let next = conn
        .prepare_cached(NEXT_OF_CALL)?
        .query_row([a.delivery_id], |r| {
            Ok((Lane::from_int(r.get(0)?), r.get(1)?))
        })
        .optional()?;
    Ok(Recorded { next_of_call: next })
}

pub(crate) fn release_all_leases(conn: &Connection) -> rusqlite::Result<u64> {
    let n = conn.execute(
        "UPDATE deliveries SET lease_owner = NULL, lease_expires_at_ms = 0
         WHERE state = 'pending' AND lease_owner IS NOT NULL",
        [],
    )?;
    Ok(n as u64)
}

/// Sends a dead or pending delivery now. A dead one starts a new round of its schedule (its
/// attempts stay in the attempts table); a pending one keeps its place in the round.
const RETRY_NOW: &str = "
    UPDATE deliveries
    SET next_attempt_at_ms = ?1, updated_at_ms = ?1,
        attempts = CASE state WHEN 'dead' THEN 0 ELSE attempts END,
        unknown_call_answers = CASE state WHEN 'dead' THEN 0 ELSE unknown_call_answers END,
        lane = CASE state WHEN 'dead' THEN 0 ELSE lane END,
        state = 'pending', finished_at_ms = NULL";

pub(crate) fn retry_one(conn: &Connection, id: i64, now_ms: i64) -> rusqlite::Result<bool> {
    let sql = format!("{RETRY_NOW} WHERE id = ?2 AND state IN ('dead', 'pending')");
    Ok(conn.prepare_cached(&sql)?.execute((now_ms, id))? == 1)
}

pub(crate) fn retry_range(conn: &Connection, r: &RetryRange, now_ms: i64) -> rusqlite::Result<u64> {
    let sql = format!(
        "{RETRY_NOW} WHERE destination = ?2 AND created_at_ms >= ?3 AND created_at_ms < ?4
                       AND {}",
        r.states.condition()
    );
    Ok(conn
        .prepare_cached(&sql)?
        .execute((now_ms, &r.destination, r.from_ms, r.to_ms))? as u64)
}

pub(crate) fn count_range(conn: &Connection, r: &RetryRange) -> rusqlite::Result<u64> {
    let sql = format!(
        "SELECT COUNT(*) FROM deliveries WHERE destination = ?1 AND created_at_ms >= ?2
           AND created_at_ms < ?3 AND {}",
        r.states.condition()
    );
    conn.prepare_cached(&sql)?
        .query_row((&r.destination, r.from_ms, r.to_ms), |row| row.get(0))
}

/// The lease offer, if the store takes it: an ordered destination's delivery may go now only
/// when no earlier delivery of its call to the destination is pending (in the writer's
/// transaction, so writes earlier in the same group count).
fn taken<'a>(
    conn: &Connection,
    offer: Option<&'a LeaseOffer>,
    destination: &str,
    call: &str,
) -> rusqlite::Result<Option<&'a LeaseOffer>> {
    match offer {
        Some(o) if o.ordered => {
            let waits: bool = conn
                .prepare_cached(CALL_PENDING)?
                .query_row((destination, call), |r| r.get(0))?;
            Ok(Some(o).filter(|_| !waits))
        }
        offer => Ok(offer),
    }
}

/// A new report's forward deliveries, in the order given (a call's later report gets later
/// ids, which is the order its deliveries go in); returns those that took their lease.
pub(crate) fn forward(
    conn: &Connection,
    report_id: i64,
    app: &str,
    call: &str,
    created_at_ms: i64,
    forwards: &[Forward],
) -> rusqlite::Result<Vec<Leased>> {
    let mut leased = Vec::new();
    for f in forwards {
        let lease = taken(conn, f.lease.as_ref(), &f.destination, call)?;
        conn.prepare_cached(INSERT_FORWARD)?.execute((
            report_id,
            &f.destination,
            app,
            call,
            f.first_attempt_at_ms,
            created_at_ms,
            lease.map(|l| l.owner.as_str()),
            lease.map_or(0, |l| l.until_ms),
        ))?;
        if lease.is_some() {
            leased.push(Leased {
                destination: f.destination.clone(),
                delivery_id: conn.last_insert_rowid(),
            });
        }
    }
    Ok(leased)
}

#[cfg(test)]
mod plans {
    //! Every query the engine runs in a loop searches an index made for it; none scans the
    //! table, so a backlog of millions costs the same per claim as a backlog of ten.

    use super::CLAIM;
    use rusqlite::Connection;

    fn plan(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Vec<String> {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        stmt.query_map(params, |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn assert_indexed(steps: &[String], index: &str) {
        assert!(
            steps.iter().any(|s| s.contains(index)),
            "{index} not used: {steps:#?}"
        );
        for s in steps {
            let scans_deliveries = s.starts_with("SCAN c")
                || s.starts_with("SCAN d")
                || s.starts_with("SCAN p")
                || s == "SCAN deliveries";
            assert!(!scans_deliveries, "table scan in {steps:#?}");
        }
    }

    #[test]
    fn hot_queries_use_their_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let conn = super::super::schema::connect(&dir.path().join("p.db")).unwrap();
        super::super::schema::migrate(&conn).unwrap();
        let claim = plan(&conn, &CLAIM, ("app:a", 0, 1, 1, 10));
        assert_indexed(&claim, "deliveries_due");
        assert_indexed(&claim, "deliveries_ordering");
        assert_indexed(&claim, "SEARCH e USING INTEGER PRIMARY KEY");
        assert_indexed(&claim, "SEARCH r USING INTEGER PRIMARY KEY");
        let call_pending = plan(&conn, super::CALL_PENDING, ("app:a", "c"));
        assert_indexed(&call_pending, "deliveries_ordering");
        let next_of_call = plan(&conn, super::NEXT_OF_CALL, [1]);
        assert_indexed(&next_of_call, "deliveries_ordering");
        assert!(
            !next_of_call.iter().any(|s| s.contains("TEMP B-TREE")),
            "the next of a call is sorted: {next_of_call:#?}"
        );
        assert!(
            !claim.iter().any(|s| s.contains("TEMP B-TREE")),
            "the claim sorts or gathers in a temporary b-tree: {claim:#?}"
        );
        let next = plan(
            &conn,
            "SELECT MIN(next_attempt_at_ms) FROM deliveries
             WHERE state = 'pending' AND destination = ?1 AND lane = ?2 AND next_attempt_at_ms > ?3",
            ("app:a", 0, 0),
        );
        assert_indexed(&next, "deliveries_due");
        let by_state = plan(
            &conn,
            "SELECT id FROM deliveries d WHERE d.id > ? AND d.state = ? ORDER BY d.id LIMIT 10",
            (0, "dead"),
        );
        assert_indexed(&by_state, "deliveries_by_state");
        let by_app_and_state = plan(
            &conn,
            "SELECT id FROM deliveries d WHERE d.id > ? AND d.app_id = ? AND d.state = ? ORDER BY d.id LIMIT 10",
            (0, "app", "dead"),
        );
        assert_indexed(&by_app_and_state, "deliveries_by_state");
        // A delivery by its source reads its partial index, on both sides of the join.
        let by_event = plan(
            &conn,
            "SELECT e.id, d.id FROM outbound_events e JOIN deliveries d ON d.event_id = e.id
             WHERE e.app_id = ?1 AND e.idempotency_key = ?2",
            ("app", "k"),
        );
        assert_indexed(&by_event, "deliveries_by_event");
        let by_report = plan(
            &conn,
            &format!(
                "SELECT {} FROM reports r JOIN deliveries d ON d.report_id = r.id
                 WHERE r.call_id = ?1 ORDER BY d.id",
                crate::rows::DELIVERY
            ),
            ["c"],
        );
        assert_indexed(&by_report, "deliveries_by_report");
        let retry_range = plan(
            &conn,
            "UPDATE deliveries SET next_attempt_at_ms = 1 WHERE destination = ?1
             AND created_at_ms >= ?2 AND created_at_ms < ?3 AND state IN ('dead', 'pending')",
            ("app", 0, 1),
        );
        assert_indexed(&retry_range, "deliveries_by_state");
    }
}
