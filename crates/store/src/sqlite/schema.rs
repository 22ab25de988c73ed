//! Connection settings and versioned migrations for the SQLite file.

use crate::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// Migrations in order; a version is applied once and recorded in `schema_migrations`.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_init.sql")),
    (2, include_str!("migrations/0002_outbox.sql")),
    (3, include_str!("migrations/0003_decoded_at_read.sql")),
];

/// Opens the writer's connection: WAL so readers never block the writer, and
/// `synchronous = NORMAL` because durability comes from the fsync thread (`durable`), which
/// syncs the WAL before any commit in it is acknowledged.
pub(crate) fn connect(path: &Path) -> Result<Connection, StoreError> {
    let open = |source| StoreError::Open {
        path: path.to_owned(),
        source,
    };
    let conn = Connection::open(path).map_err(open)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(open)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Lock {
            path: path.to_owned(),
            reason: format!("the database cannot use WAL mode here (journal_mode is {mode})"),
        });
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(open)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(open)?;
    Ok(conn)
}

/// The WAL file, opened for the fsync thread. It exists once the writer has written.
pub(crate) fn wal_file(db: &Path) -> Result<std::fs::File, StoreError> {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    let path = std::path::PathBuf::from(name);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| StoreError::Lock {
            path,
            reason: format!("cannot open the WAL for fsync: {e}"),
        })
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

/// Applies every migration newer than the file; returns the versions applied.
pub(crate) fn migrate(conn: &Connection) -> Result<Vec<i64>, StoreError> {
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
    let mut applied = Vec::new();
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?1, ?2)",
            (version, chrono::Utc::now().timestamp_millis()),
        )?;
        tx.commit()?;
        tracing::info!(version, "applied database migration");
        applied.push(*version);
    }
    Ok(applied)
}
