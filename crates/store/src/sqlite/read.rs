//! Read-only queries, on a small pool of connections used from blocking threads.

use crate::{StoreError, StoredReport};
use rusqlite::{Connection, Row};
use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

/// Idle connections kept for reuse; more are opened under load and closed afterwards.
const MAX_IDLE: usize = 8;

#[derive(Debug)]
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub fn new(path: PathBuf) -> Self {
        Readers {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `query` on a pooled connection, on a blocking thread.
    pub async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        query: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let me = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let pooled = me.idle.lock().ok().and_then(|mut idle| idle.pop());
            let conn = match pooled {
                Some(c) => c,
                None => super::schema::connect_reader(&me.path)?,
            };
            let result = query(&conn);
            if let Ok(mut idle) = me.idle.lock() {
                if idle.len() < MAX_IDLE {
                    idle.push(conn);
                }
            }
            Ok(result?)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

const COLUMNS: &str =
    "id, app_id, call_id, event, status, received_at_ms, peer, raw, decoded, warnings, duplicates";

fn report(row: &Row<'_>) -> rusqlite::Result<StoredReport> {
    let json = |i: usize| -> rusqlite::Result<serde_json::Value> {
        let text: String = row.get(i)?;
        serde_json::from_str(&text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    let ms: i64 = row.get(5)?;
    Ok(StoredReport {
        id: row.get(0)?,
        app_id: row.get(1)?,
        call_id: row.get(2)?,
        event: row.get(3)?,
        status: row.get(4)?,
        received_at: chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default(),
        peer: row.get(6)?,
        raw: row.get(7)?,
        decoded: json(8)?,
        warnings: json(9)?,
        duplicates: row.get(10)?,
    })
}

pub(crate) fn for_call(conn: &Connection, call: &str) -> rusqlite::Result<Vec<StoredReport>> {
    let sql = format!("SELECT {COLUMNS} FROM reports WHERE call_id = ?1 ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([call], report)?;
    rows.collect()
}

pub(crate) fn after(
    conn: &Connection,
    after: i64,
    limit: u32,
) -> rusqlite::Result<Vec<StoredReport>> {
    let sql = format!("SELECT {COLUMNS} FROM reports WHERE id > ?1 ORDER BY id LIMIT ?2");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map((after, limit), report)?;
    rows.collect()
}

pub(crate) fn call_known(conn: &Connection, app: &str, call: &str) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM calls WHERE app_id = ?1 AND call_id = ?2")?;
    stmt.exists((app, call))
}
