//! Connection settings and versioned migrations for the SQLite file.

use crate::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// Migrations in order; a version is applied once and recorded in `schema_migrations`.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_init.sql")),
    (2, include_str!("migrations/0002_outbox.sql")),
];

/// Opens a connection with the settings durability depends on: WAL so readers never block
/// the writer, and `synchronous = FULL` so a commit is on disk (not just in the OS cache)
/// before any request it holds is answered.
pub(crate) fn connect(path: &Path) -> Result<Connection, StoreError> {
    let open = |source| StoreError::Open {
        path: path.to_owned(),
        source,
    };
    let conn = Connection::open(path).map_err(open)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(open)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(open)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(open)?;
    Ok(conn)
}

/// A read-only connection for the pool.
pub(crate) fn connect_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|source| StoreError::Open {
        path: path.to_owned(),
        source,
    })?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

pub(crate) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version       INTEGER PRIMARY KEY,
             applied_at_ms INTEGER NOT NULL
         )",
    )?;
    let current: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    let known = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?1, ?2)",
            (version, chrono::Utc::now().timestamp_millis()),
        )?;
        tx.commit()?;
        tracing::info!(version, "applied database migration");
    }
    Ok(())
}
