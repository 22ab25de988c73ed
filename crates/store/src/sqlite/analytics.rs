//! IVR analytics on SQLite (`crate::analytics`).

use crate::{
    analytics::{read, sql, Count},
    rows,
};
use rusqlite::Connection;

pub(crate) fn add(conn: &Connection, counts: &[Count]) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(sql::ADD)?;
    for c in counts {
        let k = &c.key;
        stmt.execute(rusqlite::params![
            k.app_id,
            k.at_min,
            k.span_min,
            k.position,
            k.prompt,
            k.measure.as_str(),
            k.label,
            c.n
        ])?;
    }
    Ok(())
}

pub(crate) fn range(
    conn: &Connection,
    app_id: &str,
    from_min: i64,
    to_min: i64,
) -> rusqlite::Result<Vec<Count>> {
    let mut stmt = conn.prepare_cached(sql::RANGE)?;
    let found = stmt.query_map((app_id, from_min, to_min), |r| {
        read(r).map_err(rows::for_sqlite)
    })?;
    found.filter_map(Result::transpose).collect()
}

/// One transaction (the writer's): the days get their hours' sums, then the hours go.
pub(crate) fn roll(conn: &Connection, before_min: i64, offset_min: i64) -> rusqlite::Result<u64> {
    let rolled = sql::ROLLED_UP.replace("@hours", sql::HOURS_BEFORE);
    let days = conn
        .prepare_cached(&rolled)?
        .execute((before_min, offset_min))?;
    let delete = format!("DELETE FROM {}", sql::HOURS_BEFORE);
    conn.prepare_cached(&delete)?.execute([before_min])?;
    Ok(days as u64)
}

pub(crate) fn count_before(conn: &Connection, before_min: i64) -> rusqlite::Result<u64> {
    conn.prepare_cached(sql::COUNT_BEFORE)?
        .query_row([before_min], |r| r.get(0))
}

pub(crate) fn prune(conn: &Connection, before_min: i64, limit: u32) -> rusqlite::Result<u64> {
    let n = conn
        .prepare_cached(sql::PRUNE)?
        .execute((before_min, limit))?;
    Ok(n as u64)
}

/// One transaction (the writer's), so the cap holds with any number of callers.
pub(crate) fn admit(
    conn: &Connection,
    app_id: &str,
    scope: &str,
    names: &[String],
    cap: u32,
) -> rusqlite::Result<Vec<String>> {
    let mut admit = conn.prepare_cached(sql::ADMIT)?;
    for name in names {
        admit.execute((app_id, scope, name, cap))?;
    }
    let mut stmt = conn.prepare_cached(sql::NAMES)?;
    let found = stmt.query_map((app_id, scope), |r| r.get(0))?;
    found.collect()
}
