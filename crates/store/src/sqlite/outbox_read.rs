//! The outbox's reads: listings, a delivery with its attempts, due times and counts.

use crate::outbox::{
    AttemptRow, DeliveryFilter, DeliveryRow, DeliveryState, DueSummary, Lane, OutboundRow,
};
use rusqlite::{Connection, OptionalExtension, Row};

const COLUMNS: &str = "d.id, d.event_id, d.app_id, d.call_id, d.state, d.attempts,
    d.next_attempt_at_ms, d.created_at_ms, d.updated_at_ms, d.finished_at_ms, d.last_error";

fn delivery(r: &Row<'_>) -> rusqlite::Result<DeliveryRow> {
    let state: String = r.get(4)?;
    Ok(DeliveryRow {
        id: r.get(0)?,
        event_id: r.get(1)?,
        app_id: r.get(2)?,
        call_id: r.get(3)?,
        state: DeliveryState::parse(&state).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                4,
                rusqlite::types::Type::Text,
                format!("unknown state {state:?}").into(),
            )
        })?,
        attempts: r.get(5)?,
        next_attempt_at_ms: r.get(6)?,
        created_at_ms: r.get(7)?,
        updated_at_ms: r.get(8)?,
        finished_at_ms: r.get(9)?,
        last_error: r.get(10)?,
    })
}

pub(crate) fn one(conn: &Connection, id: i64) -> rusqlite::Result<Option<DeliveryRow>> {
    let sql = format!("SELECT {COLUMNS} FROM deliveries d WHERE d.id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([id], delivery)
        .optional()
}

pub(crate) fn list(conn: &Connection, f: &DeliveryFilter) -> rusqlite::Result<Vec<DeliveryRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM deliveries d
         WHERE d.id > ?1 AND (?2 IS NULL OR d.app_id = ?2) AND (?3 IS NULL OR d.state = ?3)
         ORDER BY d.id LIMIT ?4"
    );
    let params = (
        f.after,
        &f.app_id,
        f.state.map(DeliveryState::as_str),
        f.limit,
    );
    conn.prepare_cached(&sql)?
        .query_map(params, delivery)?
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
        "SELECT {COLUMNS}, e.body FROM outbound_events e JOIN deliveries d ON d.event_id = e.id
         WHERE e.call_id = ?1 ORDER BY e.id"
    );
    conn.prepare_cached(&sql)?
        .query_map([call], |r| {
            Ok(OutboundRow {
                delivery: delivery(r)?,
                body: r.get(11)?,
            })
        })?
        .collect()
}

pub(crate) fn due_summary(conn: &Connection) -> rusqlite::Result<Vec<DueSummary>> {
    conn.prepare_cached(
        "SELECT app_id, lane, MIN(next_attempt_at_ms) FROM deliveries
         WHERE state = 'pending' GROUP BY app_id, lane",
    )?
    .query_map([], |r| {
        let lane: i64 = r.get(1)?;
        Ok(DueSummary {
            app_id: r.get(0)?,
            lane: if lane == 0 { Lane::First } else { Lane::Retry },
            next_attempt_at_ms: r.get(2)?,
        })
    })?
    .collect()
}

pub(crate) fn next_due(
    conn: &Connection,
    app: &str,
    lane: Lane,
    after_ms: i64,
) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(
        "SELECT MIN(next_attempt_at_ms) FROM deliveries
         WHERE state = 'pending' AND app_id = ?1 AND lane = ?2 AND next_attempt_at_ms > ?3",
    )?
    .query_row((app, lane.as_int(), after_ms), |r| r.get(0))
}

pub(crate) fn counts(conn: &Connection) -> rusqlite::Result<Vec<(String, DeliveryState, i64)>> {
    conn.prepare_cached(
        "SELECT app_id, state, COUNT(*) FROM deliveries
         WHERE state IN ('pending', 'dead') GROUP BY app_id, state",
    )?
    .query_map([], |r| {
        let state: String = r.get(1)?;
        Ok((
            r.get(0)?,
            DeliveryState::parse(&state).unwrap_or(DeliveryState::Pending),
            r.get(2)?,
        ))
    })?
    .collect()
}
