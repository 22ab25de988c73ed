//! Pruning on SQLite: one step is one job on the writer thread (a savepoint in its group
//! commit), so a step holds the write lock for a few hundred row deletions at most.

use crate::{
    retention::{walk, PruneKind, PruneRequest, PruneStep},
    StoreError,
};
use rusqlite::{Connection, OptionalExtension};

type Row = (i64, Option<i64>, bool);

/// The step's rows, oldest first: id, time, and whether something keeps it (a pending
/// delivery, or the newest one).
fn scan(conn: &Connection, r: &PruneRequest) -> rusqlite::Result<Vec<Row>> {
    let row = |row: &rusqlite::Row| Ok((row.get(0)?, row.get(1)?, row.get(2)?));
    let state = match r.kind {
        PruneKind::Reports => {
            return conn
                .prepare_cached(
                    "SELECT r.id, r.received_at_ms, EXISTS (SELECT 1 FROM deliveries d
                         WHERE d.report_id = r.id AND (d.state = 'pending'
                            OR d.id = (SELECT MAX(id) FROM deliveries)))
                     FROM reports r WHERE r.id > ?1 AND r.id < (SELECT MAX(id) FROM reports)
                     ORDER BY r.id LIMIT ?2",
                )?
                .query_map((r.after_id, r.limit), row)?
                .collect()
        }
        PruneKind::Delivered => "delivered",
        PruneKind::Dead => "dead",
    };
    conn.prepare_cached(
        "SELECT id, finished_at_ms, 0 FROM deliveries INDEXED BY deliveries_by_state
         WHERE state = ?3 AND id > ?1 AND id < (SELECT MAX(id) FROM deliveries)
         ORDER BY id LIMIT ?2",
    )?
    .query_map((r.after_id, r.limit, state), row)?
    .collect()
}

pub(crate) fn step(conn: &Connection, r: &PruneRequest) -> Result<PruneStep, StoreError> {
    let rows = scan(conn, r)?;
    walk(&rows, r, |id| match r.kind {
        PruneKind::Reports => remove_report(conn, id),
        PruneKind::Delivered | PruneKind::Dead => remove_delivery(conn, id),
    })
}

/// The report with its finished deliveries and their attempts (the scan kept the report
/// holding the newest delivery, whose id must not be handed out again).
fn remove_report(conn: &Connection, id: i64) -> Result<bool, StoreError> {
    conn.prepare_cached(
        "DELETE FROM attempts WHERE delivery_id IN
             (SELECT id FROM deliveries WHERE report_id = ?1)",
    )?
    .execute([id])?;
    conn.prepare_cached("DELETE FROM deliveries WHERE report_id = ?1")?
        .execute([id])?;
    conn.prepare_cached("DELETE FROM reports WHERE id = ?1")?
        .execute([id])?;
    Ok(true)
}

/// The delivery, its attempts, and the event it sent (unless that is the newest event).
fn remove_delivery(conn: &Connection, id: i64) -> Result<bool, StoreError> {
    let event: Option<i64> = conn
        .prepare_cached("SELECT event_id FROM deliveries WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .flatten();
    conn.prepare_cached("DELETE FROM attempts WHERE delivery_id = ?1")?
        .execute([id])?;
    conn.prepare_cached("DELETE FROM deliveries WHERE id = ?1")?
        .execute([id])?;
    if let Some(event) = event {
        conn.prepare_cached(
            "DELETE FROM outbound_events WHERE id = ?1
               AND id < (SELECT MAX(id) FROM outbound_events)
               AND NOT EXISTS (SELECT 1 FROM deliveries WHERE event_id = ?1)",
        )?
        .execute([event])?;
    }
    Ok(true)
}
