//! Activity counts on SQLite (`crate::activity`).

use crate::activity::{sql, Count, CountKey, What};
use rusqlite::{Connection, Row};

fn text(s: &str) -> String {
    sql::text(s, false)
}

/// A count, or `None` for one a newer build wrote (a `what` this one does not know).
fn read(r: &Row<'_>) -> rusqlite::Result<Option<Count>> {
    let what: String = r.get(3)?;
    let Some(what) = What::parse(&what) else {
        return Ok(None);
    };
    let key = CountKey {
        at_min: r.get(0)?,
        span_min: r.get(1)?,
        app_id: r.get(2)?,
        what,
        destination: r.get(4)?,
        label: r.get(5)?,
    };
    Ok(Some(Count { key, n: r.get(6)? }))
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
    let rows = stmt.query_map((from_min, to_min), read)?;
    rows.filter_map(Result::transpose).collect()
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
