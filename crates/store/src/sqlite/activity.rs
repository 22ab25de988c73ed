//! Activity counts on SQLite (`crate::activity`).

use crate::{
    activity::{read, sql, Count},
    rows,
};
use rusqlite::Connection;

fn text(s: &str) -> String {
    sql::text(s, false)
}

pub(crate) fn add(conn: &Connection, counts: &[Count]) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(&text(sql::ADD))?;
    for c in counts {
        let k = &c.key;
        stmt.execute(rusqlite::params![
            k.at_min,
            k.span_min,
            k.app_id,
            k.what.as_str(),
            k.destination,
            k.label,
            c.n
        ])?;
    }
    Ok(())
}

pub(crate) fn range(conn: &Connection, from_min: i64, to_min: i64) -> rusqlite::Result<Vec<Count>> {
    let mut stmt = conn.prepare_cached(&text(sql::RANGE))?;
    let found = stmt.query_map((from_min, to_min), |r| read(r).map_err(rows::for_sqlite))?;
    found.filter_map(Result::transpose).collect()
}

/// One transaction (the writer's): the hours get their minutes' sums, then the minutes go.
pub(crate) fn roll(conn: &Connection, before_min: i64) -> rusqlite::Result<u64> {
    let rolled = sql::ROLLED_UP.replace("@minutes", sql::MINUTES_BEFORE);
    let hours = conn.prepare_cached(&rolled)?.execute([before_min])?;
    let delete = format!("DELETE FROM {}", sql::MINUTES_BEFORE);
    conn.prepare_cached(&delete)?.execute([before_min])?;
    Ok(hours as u64)
}

pub(crate) fn prune(conn: &Connection, before_min: i64, limit: u32) -> rusqlite::Result<u64> {
    let n = conn
        .prepare_cached(&text(sql::PRUNE))?
        .execute((before_min, limit))?;
    Ok(n as u64)
}
