//! Registered calls' deadlines on SQLite (`crate::deadlines`).

use crate::deadlines::{deadline, sql, CallDeadline, Settle};
use ivrhook_protocol::{AppId, CallId};
use rusqlite::{Connection, Row};

fn text(s: &str) -> String {
    sql::text(s, false)
}

fn read(row: &Row<'_>) -> rusqlite::Result<Result<CallDeadline, crate::StoreError>> {
    let times = [row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?];
    Ok(deadline(row.get(0)?, row.get(1)?, times))
}

/// Flattens a row mapping's two layers of errors into the store's.
fn rows(
    found: rusqlite::Result<Vec<Result<CallDeadline, crate::StoreError>>>,
) -> Result<Vec<CallDeadline>, crate::StoreError> {
    found?.into_iter().collect()
}

pub(crate) fn register(
    conn: &Connection,
    (app, call): (&str, &str),
    at_ms: i64,
    due_ms: Option<i64>,
) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(&text(sql::REGISTER))?
        .execute((app, call, at_ms, due_ms))?;
    Ok(n == 1)
}

/// The receiver's write: the report's registered call is reported.
pub(crate) fn reported(
    conn: &Connection,
    app: &str,
    call: &str,
    at_ms: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(&text(sql::REPORTED))?
        .execute((app, call, at_ms))?;
    Ok(())
}

pub(crate) fn one(
    conn: &Connection,
    app: &str,
    call: &str,
) -> Result<Option<CallDeadline>, crate::StoreError> {
    let mut stmt = conn.prepare_cached(&text(sql::ONE))?;
    let found = stmt
        .query_map((app, call), read)?
        .collect::<rusqlite::Result<Vec<_>>>();
    Ok(rows(found)?.into_iter().next())
}

pub(crate) fn unsettled(
    conn: &Connection,
    now_ms: i64,
    limit: u32,
) -> Result<Vec<(Settle, CallDeadline)>, crate::StoreError> {
    let mut out = Vec::new();
    let mut due = conn.prepare_cached(&text(sql::DUE))?;
    let found = due.query_map((now_ms, limit), |r| Ok((read(r)?, r.get::<_, bool>(6)?)))?;
    for row in found {
        let (d, reported) = row?;
        let settle = if reported {
            Settle::Reported
        } else {
            Settle::Overdue
        };
        out.push((settle, d?));
    }
    let mut late = conn.prepare_cached(&text(sql::LATE))?;
    let found = late
        .query_map([limit], read)?
        .collect::<rusqlite::Result<Vec<_>>>();
    out.extend(rows(found)?.into_iter().map(|d| (Settle::Resolved, d)));
    Ok(out)
}

pub(crate) fn settle(
    conn: &Connection,
    calls: &[(Settle, AppId, CallId)],
    now_ms: i64,
) -> rusqlite::Result<Vec<(AppId, CallId)>> {
    let mut marked = Vec::new();
    for (s, app, call) in calls {
        let n = (conn.prepare_cached(&text(sql::settle(*s)))?).execute((
            app.as_str(),
            call.as_str(),
            now_ms,
        ))?;
        if n == 1 {
            marked.push((app.clone(), call.clone()));
        }
    }
    Ok(marked)
}

pub(crate) fn counts(conn: &Connection) -> Result<Vec<(AppId, u64)>, crate::StoreError> {
    let mut stmt = conn.prepare_cached(&text(sql::COUNTS))?;
    let found = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for row in found {
        let (app, n) = row?;
        let app = AppId::try_from(app)
            .map_err(|e| crate::StoreError::Corrupt(format!("calls.app_id: {e}")))?;
        out.push((app, n.max(0) as u64));
    }
    Ok(out)
}

pub(crate) fn list(
    conn: &Connection,
    app: Option<&str>,
    (after_ms, after_call): (i64, &str),
    limit: u32,
) -> Result<Vec<CallDeadline>, crate::StoreError> {
    let mut stmt = conn.prepare_cached(&text(sql::LIST))?;
    let found = stmt
        .query_map((app, after_ms, after_call, limit), read)?
        .collect::<rusqlite::Result<Vec<_>>>();
    rows(found)
}
