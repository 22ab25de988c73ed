//! Kept recordings on SQLite (`crate::recordings`).

use crate::recordings::{sql, KeptRecording, OldCursor};
use rusqlite::{Connection, Row};

fn text(s: &str) -> String {
    sql::text(s, false)
}

fn read(r: &Row<'_>) -> rusqlite::Result<KeptRecording> {
    Ok(KeptRecording {
        app_id: r.get(0)?,
        call_id: r.get(1)?,
        link: r.get(2)?,
        report_id: r.get(3)?,
        key: r.get(4)?,
        size: r.get(5)?,
        sha256: r.get(6)?,
        content_type: r.get(7)?,
        kept_at_ms: r.get(8)?,
    })
}

pub(crate) fn keep(conn: &Connection, k: &KeptRecording) -> rusqlite::Result<()> {
    conn.prepare_cached(&text(sql::KEEP))?
        .execute(rusqlite::params![
            k.app_id,
            k.call_id,
            k.link,
            k.report_id,
            k.key,
            k.size,
            k.sha256,
            k.content_type,
            k.kept_at_ms
        ])?;
    Ok(())
}

pub(crate) fn one(
    conn: &Connection,
    (app, call, link): (&str, &str, &str),
) -> rusqlite::Result<Option<KeptRecording>> {
    let mut stmt = conn.prepare_cached(&text(sql::ONE))?;
    let mut rows = stmt.query_map((app, call, link), read)?;
    rows.next().transpose()
}

pub(crate) fn of_call(conn: &Connection, call: &str) -> rusqlite::Result<Vec<KeptRecording>> {
    let mut stmt = conn.prepare_cached(&text(sql::OF_CALL))?;
    let rows = stmt.query_map([call], read)?;
    rows.collect()
}

pub(crate) fn old(
    conn: &Connection,
    before_ms: i64,
    after: &OldCursor,
    limit: u32,
) -> rusqlite::Result<Vec<(KeptRecording, bool)>> {
    let mut stmt = conn.prepare_cached(&text(sql::OLD))?;
    let (at, app, call, link) = after;
    let rows = stmt.query_map((before_ms, at, app, call, link, limit), |r| {
        Ok((read(r)?, r.get(9)?))
    })?;
    rows.collect()
}

pub(crate) fn forget(conn: &Connection, k: &KeptRecording) -> rusqlite::Result<bool> {
    let n = (conn.prepare_cached(&text(sql::FORGET))?)
        .execute((&k.app_id, &k.call_id, &k.link, &k.key))?;
    Ok(n == 1)
}
