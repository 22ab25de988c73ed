//! The outbox's reads: listings, a delivery with its attempts, due times and counts.

use crate::outbox::{
    AttemptRow, DeliveryFilter, DeliveryRow, DeliveryState, DueSummary, Lane, OutboundRow,
};
use rusqlite::{Connection, OptionalExtension, Row, ToSql};

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

/// The statement is built for the filters given, so each combination uses its index.
pub(crate) fn list(conn: &Connection, f: &DeliveryFilter) -> rusqlite::Result<Vec<DeliveryRow>> {
    let mut sql = format!("SELECT {COLUMNS} FROM deliveries d WHERE d.id > ?");
    let mut params: Vec<&dyn ToSql> = vec![&f.after];
    if let Some(app) = &f.app_id {
        sql.push_str(" AND d.app_id = ?");
        params.push(app);
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

/// The earliest due time of each app's lanes: one index seek each, however large the backlog.
pub(crate) fn earliest_due(
    conn: &Connection,
    apps: &[String],
) -> rusqlite::Result<Vec<DueSummary>> {
    let mut out = Vec::new();
    for app in apps {
        for lane in [Lane::First, Lane::Retry] {
            if let Some(at) = next_due(conn, app, lane, i64::MIN)? {
                out.push(DueSummary {
                    app_id: app.clone(),
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
