//! The outbox's reads: listings, a delivery with its attempts, due times and counts.

use crate::{
    outbox::{
        AttemptRow, DeliveryFilter, DeliveryRow, DeliveryState, DestinationCount, DueSummary, Lane,
        OutboundRow,
    },
    rows,
};
use rusqlite::{Connection, OptionalExtension, Row, ToSql};

fn delivery(r: &Row<'_>) -> rusqlite::Result<DeliveryRow> {
    rows::delivery(r).map_err(rows::for_sqlite)
}

pub(crate) fn one(conn: &Connection, id: i64) -> rusqlite::Result<Option<DeliveryRow>> {
    let sql = format!(
        "SELECT {} FROM deliveries d WHERE d.id = ?1",
        rows::DELIVERY
    );
    conn.prepare_cached(&sql)?
        .query_row([id], delivery)
        .optional()
}

/// The statement is built for the filters given, so each combination uses its index.
pub(crate) fn list(conn: &Connection, f: &DeliveryFilter) -> rusqlite::Result<Vec<DeliveryRow>> {
    let mut sql = format!("SELECT {} FROM deliveries d WHERE d.id > ?", rows::DELIVERY);
    let mut params: Vec<&dyn ToSql> = vec![&f.after];
    if let Some(app) = &f.app_id {
        sql.push_str(" AND d.app_id = ?");
        params.push(app);
    }
    if let Some(destination) = &f.destination {
        sql.push_str(" AND d.destination = ?");
        params.push(destination);
    }
    let state = f.state.map(DeliveryState::as_str);
    if let Some(state) = &state {
        sql.push_str(" AND d.state = ?");
        params.push(state);
    }
    sql.push_str(" ORDER BY d.id LIMIT ?");
    params.push(&f.limit);
    conn.prepare_cached(&sql)?
        .query_map(params.as_slice(), delivery)?
        .collect()
}

pub(crate) fn attempts(conn: &Connection, delivery_id: i64) -> rusqlite::Result<Vec<AttemptRow>> {
    conn.prepare_cached(
        "SELECT id, started_at_ms, duration_ms, http_status, code, body_excerpt, error, warning, outcome
         FROM attempts WHERE delivery_id = ?1 ORDER BY id",
    )?
    .query_map([delivery_id], |r| {
        Ok(AttemptRow {
            id: r.get(0)?,
            started_at_ms: r.get(1)?,
            duration_ms: r.get(2)?,
            http_status: r.get(3)?,
            code: r.get(4)?,
            body_excerpt: r.get(5)?,
            error: r.get(6)?,
            warning: r.get(7)?,
            outcome: r.get(8)?,
        })
    })?
    .collect()
}

pub(crate) fn for_call(conn: &Connection, call: &str) -> rusqlite::Result<Vec<OutboundRow>> {
    let sql = format!(
        "SELECT {}, e.body FROM outbound_events e JOIN deliveries d ON d.event_id = e.id
         WHERE e.call_id = ?1 ORDER BY e.id",
        rows::DELIVERY
    );
    conn.prepare_cached(&sql)?
        .query_map([call], |r| {
            Ok(OutboundRow {
                delivery: delivery(r)?,
                body: r.get(13)?,
            })
        })?
        .collect()
}

/// A call's forward deliveries: each report of the call, each of its destinations.
pub(crate) fn forwards_for_call(
    conn: &Connection,
    call: &str,
) -> rusqlite::Result<Vec<DeliveryRow>> {
    let sql = format!(
        "SELECT {} FROM reports r JOIN deliveries d ON d.report_id = r.id
         WHERE r.call_id = ?1 ORDER BY d.id",
        rows::DELIVERY
    );
    conn.prepare_cached(&sql)?
        .query_map([call], delivery)?
        .collect()
}

/// The earliest due time of each destination's lanes: one index seek each, however large the
/// backlog.
pub(crate) fn earliest_due(
    conn: &Connection,
    destinations: &[String],
) -> rusqlite::Result<Vec<DueSummary>> {
    let mut out = Vec::new();
    for destination in destinations {
        for lane in [Lane::First, Lane::Retry] {
            if let Some(at) = next_due(conn, destination, lane, i64::MIN)? {
                out.push(DueSummary {
                    destination: destination.clone(),
                    lane,
                    next_attempt_at_ms: at,
                });
            }
        }
    }
    Ok(out)
}

pub(crate) fn next_due(
    conn: &Connection,
    destination: &str,
    lane: Lane,
    after_ms: i64,
) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(
        "SELECT MIN(next_attempt_at_ms) FROM deliveries
         WHERE state = 'pending' AND destination = ?1 AND lane = ?2 AND next_attempt_at_ms > ?3",
    )?
    .query_row((destination, lane.as_int(), after_ms), |r| r.get(0))
}

pub(crate) fn earlier_pending(
    conn: &Connection,
    destination: &str,
    call: &str,
    delivery_id: i64,
) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(
        "SELECT MIN(id) FROM deliveries INDEXED BY deliveries_ordering
         WHERE state = 'pending' AND destination = ?1 AND call_id = ?2 AND id < ?3",
    )?
    .query_row((destination, call, delivery_id), |r| r.get(0))
}

/// Pending and dead deliveries per destination, with the oldest of each.
pub(crate) fn counts(conn: &Connection) -> rusqlite::Result<Vec<DestinationCount>> {
    conn.prepare_cached(
        "SELECT destination, state, COUNT(*), MIN(created_at_ms) FROM deliveries
         WHERE state IN ('pending', 'dead') GROUP BY destination, state",
    )?
    .query_map([], |r| rows::count(r).map_err(rows::for_sqlite))?
    .collect()
}
