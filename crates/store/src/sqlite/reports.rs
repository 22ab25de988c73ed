//! Received reports and registered calls: the SQL, for the writer's jobs and the readers.

use crate::{rows, Inserted, NewReport, StoredReport};
use rusqlite::{Connection, Row};

pub(super) const INSERT_REPORT: &str = "
    INSERT INTO reports (app_id, call_id, content_hash, event, status, received_at_ms, peer,
                         raw, decoded, utc_offset, warnings)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, '', ?9, ?10)";

pub(super) const FIND_SAME: &str = "
    SELECT id FROM reports WHERE call_id = ?1 AND app_id = ?2 AND content_hash = ?3";

const COUNT_DUPLICATE: &str = "
    UPDATE reports SET duplicates = duplicates + 1, last_duplicate_at_ms = ?2
    WHERE id = ?1 RETURNING id, duplicates";

/// The same report is found through the callId's index (`reports_by_call`), which the insert
/// then updates on the page the lookup just read. Only the writer inserts, so nothing comes
/// between the two. A new report is one statement without `RETURNING` (its id is
/// `last_insert_rowid`): SQLite gathers returned rows in a temporary b-tree, created and
/// dropped per statement. A new report's forward deliveries follow it (the caller runs a
/// report with forwards in a savepoint); a duplicate gets none.
pub(crate) fn insert(conn: &Connection, r: &NewReport) -> rusqlite::Result<Inserted> {
    let at_ms = r.received_at.timestamp_millis();
    let (app, call) = (r.app_id.as_str(), r.call_id.as_str());
    let key = (call, app, &r.content_hash[..]);
    let same = conn
        .prepare_cached(FIND_SAME)?
        .query_row(key, |row| row.get::<_, i64>(0));
    match same {
        Ok(id) => {
            return conn
                .prepare_cached(COUNT_DUPLICATE)?
                .query_row((id, at_ms), |row| {
                    Ok(Inserted::Duplicate {
                        id: row.get(0)?,
                        times: row.get(1)?,
                    })
                })
        }
        Err(rusqlite::Error::QueryReturnedNoRows) => {}
        Err(e) => return Err(e),
    }
    let params = (
        app,
        call,
        &r.content_hash[..],
        &r.event,
        r.status,
        at_ms,
        &r.peer,
        &r.raw,
        &r.utc_offset,
        &r.warnings,
    );
    conn.prepare_cached(INSERT_REPORT)?.execute(params)?;
    let id = conn.last_insert_rowid();
    super::deadlines::reported(conn, app, call, at_ms)?;
    let leased = super::outbox::forward(conn, id, app, call, at_ms, &r.forwards)?;
    Ok(Inserted::New { id, leased })
}

const COLUMNS: &str = rows::REPORT;

fn report(row: &Row<'_>) -> rusqlite::Result<StoredReport> {
    rows::report(row).map_err(rows::for_sqlite)
}

pub(crate) fn for_call(conn: &Connection, call: &str) -> rusqlite::Result<Vec<StoredReport>> {
    let sql = format!(
        "SELECT {} FROM reports WHERE call_id = ?1 ORDER BY id",
        COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([call], report)?;
    rows.collect()
}

pub(crate) fn after(
    conn: &Connection,
    after: i64,
    limit: u32,
) -> rusqlite::Result<Vec<StoredReport>> {
    let sql = format!(
        "SELECT {} FROM reports WHERE id > ?1 ORDER BY id LIMIT ?2",
        COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map((after, limit), report)?;
    rows.collect()
}

pub(crate) fn before(
    conn: &Connection,
    before: i64,
    app: Option<&str>,
    limit: u32,
) -> rusqlite::Result<Vec<StoredReport>> {
    let sql = format!(
        "SELECT {} FROM reports WHERE id < ?1 AND (?2 IS NULL OR app_id = ?2)
         ORDER BY id DESC LIMIT ?3",
        COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map((before, app, limit), report)?;
    rows.collect()
}

/// The range scan of `reports_by_call` that holds every callId with `prefix`.
pub(crate) fn calls_with_prefix(
    conn: &Connection,
    prefix: &str,
    limit: u32,
) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT call_id FROM reports WHERE call_id >= ?1 AND call_id < ?2
         ORDER BY call_id LIMIT ?3",
    )?;
    let rows = stmt.query_map((prefix, crate::rows::prefix_end(prefix), limit), |r| {
        r.get(0)
    })?;
    rows.collect()
}

pub(crate) fn call_known(conn: &Connection, app: &str, call: &str) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM calls WHERE app_id = ?1 AND call_id = ?2")?;
    stmt.exists((app, call))
}

/// The id of the newest report (0 when there is none).
pub(crate) fn latest(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT COALESCE(MAX(id), 0) FROM reports")?
        .query_row([], |r| r.get(0))
}

pub(crate) fn consumer(conn: &Connection, name: &str) -> rusqlite::Result<Option<i64>> {
    use rusqlite::OptionalExtension;
    conn.prepare_cached("SELECT cursor FROM consumers WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()
}

/// Moves a consumer's cursor forward (never back); returns where it is.
pub(crate) fn ack(
    conn: &Connection,
    name: &str,
    cursor: i64,
    now_ms: i64,
) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO consumers (name, cursor, updated_at_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET cursor = MAX(cursor, excluded.cursor),
                                          updated_at_ms = excluded.updated_at_ms",
    )?
    .execute((name, cursor, now_ms))?;
    conn.prepare_cached("SELECT cursor FROM consumers WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
}

pub(crate) fn consumers(conn: &Connection) -> rusqlite::Result<Vec<crate::Consumer>> {
    conn.prepare_cached("SELECT name, cursor, updated_at_ms FROM consumers ORDER BY name")?
        .query_map([], |r| {
            Ok(crate::Consumer {
                name: r.get(0)?,
                cursor: r.get(1)?,
                updated_at_ms: r.get(2)?,
            })
        })?
        .collect()
}

/// Reports after `cursor` (how far behind a consumer is), and when the first of them arrived.
pub(crate) fn behind(conn: &Connection, cursor: i64) -> rusqlite::Result<(i64, Option<i64>)> {
    use rusqlite::OptionalExtension;
    let count = conn
        .prepare_cached("SELECT COUNT(*) FROM reports WHERE id > ?1")?
        .query_row([cursor], |r| r.get(0))?;
    let first = conn
        .prepare_cached("SELECT received_at_ms FROM reports WHERE id > ?1 ORDER BY id LIMIT 1")?
        .query_row([cursor], |r| r.get(0))
        .optional()?;
    Ok((count, first))
}
