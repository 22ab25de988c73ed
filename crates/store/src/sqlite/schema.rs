//! Connection settings and versioned migrations for the SQLite file.

use crate::{versions::Versions, StoreError};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::Path;

/// Migrations in order; a version is applied once and recorded in `schema_migrations`.
pub(super) const MIGRATIONS: Versions = Versions(&[
    (1, include_str!("migrations/0001_init.sql")),
    (2, include_str!("migrations/0002_outbox.sql")),
    (3, include_str!("migrations/0003_decoded_at_read.sql")),
    (4, include_str!("migrations/0004_checks_without_lists.sql")),
    (5, include_str!("migrations/0005_destinations.sql")),
    (6, include_str!("migrations/0006_dedupe_by_call.sql")),
    (7, include_str!("migrations/0007_paused_destinations.sql")),
    (8, include_str!("migrations/0008_call_deadlines.sql")),
    (9, include_str!("migrations/0009_recordings.sql")),
    (10, include_str!("migrations/0010_activity.sql")),
    (11, include_str!("migrations/0011_analytics.sql")),
]);

/// How long a connection waits for a lock another holds.
pub(crate) const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Opens the writer's connection: WAL so readers never block the writer, and
/// `synchronous = NORMAL` because durability comes from the fsync thread (`durable`), which
/// syncs the WAL before any commit in it is acknowledged.
pub(crate) fn connect(path: &Path) -> Result<Connection, StoreError> {
    let open = |source| StoreError::Open {
        path: path.to_owned(),
        source,
    };
    let conn = Connection::open(path).map_err(open)?;
    // Takes effect only on a new file (before its first table): pruned pages can then be
    // given back to the file system (`Store::reclaim`). An older file reuses them instead.
    conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")
        .map_err(open)?;
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
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open)?;
    Ok(conn)
}

/// The WAL beside a database file.
pub(crate) fn wal_path(db: &Path) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    std::path::PathBuf::from(name)
}

/// The WAL file, opened for the fsync thread. It exists once the writer has written.
pub(crate) fn wal_file(db: &Path) -> Result<std::fs::File, StoreError> {
    let path = wal_path(db);
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
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// Refuses a file whose schema is older or newer than this build's, changing nothing.
pub(crate) fn require_current(conn: &Connection) -> Result<(), StoreError> {
    let tracked: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations')",
        [],
        |r| r.get(0),
    )?;
    let found: i64 = if tracked {
        conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?
    } else {
        0
    };
    MIGRATIONS.require_current(found)
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
    MIGRATIONS.not_newer(current)?;
    // A migration that rebuilds a table drops the old one, which foreign keys would refuse
    // (dropping a parent deletes its rows first). SQLite's own procedure: enforcement off
    // around the transaction (it cannot change inside one), and a check before each commit
    // that every reference still holds.
    let enforced: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    let result = apply(conn, current);
    conn.pragma_update(None, "foreign_keys", enforced)?;
    result
}

fn apply(conn: &Connection, current: i64) -> Result<Vec<i64>, StoreError> {
    let mut applied = Vec::new();
    let mut at = current;
    while let Some((version, sql)) = MIGRATIONS.next(at, MIGRATIONS.known())? {
        at = version;
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        let broken: Option<String> = tx
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()?;
        if let Some(table) = broken {
            return Err(StoreError::Corrupt(format!(
                "migration {version} left rows of {table} pointing at rows that do not exist; \
                 nothing was changed"
            )));
        }
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?1, ?2)",
            (version, chrono::Utc::now().timestamp_millis()),
        )?;
        tx.commit()?;
        tracing::info!(version, "applied database migration");
        applied.push(version);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file at `version`, as an older ivrhook left it.
    fn at_version(conn: &Connection, version: i64) {
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,
                                             applied_at_ms INTEGER NOT NULL)",
        )
        .unwrap();
        for (v, sql) in MIGRATIONS.0.iter().filter(|(v, _)| *v <= version) {
            conn.execute_batch(sql).unwrap();
            conn.execute("INSERT INTO schema_migrations VALUES (?1, 0)", [v])
                .unwrap();
        }
    }

    /// Opcodes of a statement that create a temporary b-tree.
    fn temporary_btrees(conn: &Connection, sql: &str) -> usize {
        let mut stmt = conn.prepare(&format!("EXPLAIN {sql}")).unwrap();
        let unbound = vec![rusqlite::types::Null; stmt.parameter_count()];
        let ops: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(unbound), |r| r.get(1))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        ops.iter().filter(|op| *op == "OpenEphemeral").count()
    }

    /// SQLite builds a temporary b-tree (created, filled, dropped) for a statement's
    /// `RETURNING` rows, for an `IN (SELECT …)` or `json_each` list, and for a CHECK written
    /// as an IN list, each a large share of a small statement's work. None of the statements
    /// a report or a delivery runs every time may build one.
    #[test]
    fn hot_writes_build_no_temporary_btree() {
        use super::super::{outbox, reports};
        let dir = tempfile::tempdir().unwrap();
        let conn = connect(&dir.path().join("h.db")).unwrap();
        migrate(&conn).unwrap();
        for (name, sql) in [
            ("INSERT_REPORT", reports::INSERT_REPORT),
            ("FIND_SAME", reports::FIND_SAME),
            ("INSERT_EVENT", outbox::INSERT_EVENT),
            ("INSERT_DELIVERY", outbox::INSERT_DELIVERY),
            ("INSERT_FORWARD", outbox::INSERT_FORWARD),
            ("CALL_PENDING", outbox::CALL_PENDING),
            ("CLAIM", outbox::CLAIM.as_str()),
            ("LEASE", outbox::LEASE),
            ("INSERT_ATTEMPT", outbox::INSERT_ATTEMPT),
            ("MOVE", outbox::MOVE),
            ("NEXT_OF_CALL", outbox::NEXT_OF_CALL),
        ] {
            assert_eq!(temporary_btrees(&conn, sql), 0, "{name}");
        }
    }

    /// A report's duplicate is found through the callId's index, never by a scan.
    #[test]
    fn the_same_report_is_found_through_the_call_index() {
        let dir = tempfile::tempdir().unwrap();
        let conn = connect(&dir.path().join("q.db")).unwrap();
        migrate(&conn).unwrap();
        let sql = format!("EXPLAIN QUERY PLAN {}", super::super::reports::FIND_SAME);
        let plan: String = conn
            .query_row(&sql, ("c", "a", [0u8; 32]), |r| r.get(3))
            .unwrap();
        assert!(plan.contains("USING INDEX reports_by_call"), "{plan}");
    }

    #[test]
    fn migration_4_keeps_every_row_and_checks_states_without_a_temporary_btree() {
        let dir = tempfile::tempdir().unwrap();
        let conn = connect(&dir.path().join("m.db")).unwrap();
        at_version(&conn, 3);
        conn.execute_batch(
            "INSERT INTO outbound_events VALUES (7, 'app', 'c', NULL, x'00', 1);
             INSERT INTO deliveries (id, event_id, app_id, call_id, state, lane, attempts,
                                     next_attempt_at_ms, created_at_ms, updated_at_ms,
                                     finished_at_ms, last_error)
                 VALUES (9, 7, 'app', 'c', 'dead', 1, 3, 5, 1, 6, 6, 'gone');
             INSERT INTO attempts (id, delivery_id, owner, started_at_ms, duration_ms, outcome)
                 VALUES (11, 9, 'n1', 2, 3, 'dead');",
        )
        .unwrap();
        let insert = "INSERT INTO deliveries (event_id, app_id, call_id, next_attempt_at_ms,
                                              created_at_ms, updated_at_ms)
                      VALUES (7, 'app', 'c', 0, 0, 0)";
        assert_eq!(
            temporary_btrees(&conn, insert),
            1,
            "version 3 checks through one"
        );

        assert_eq!(migrate(&conn).unwrap(), since(4));
        let delivery: (i64, String, i64, i64, String) = conn
            .query_row(
                "SELECT event_id, state, lane, attempts, last_error FROM deliveries WHERE id = 9",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(delivery, (7, "dead".into(), 1, 3, "gone".into()));
        let attempt: (i64, String) = conn
            .query_row(
                "SELECT delivery_id, outcome FROM attempts WHERE id = 11",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(attempt, (9, "dead".into()));
        assert_eq!(temporary_btrees(&conn, insert), 0);
        let record =
            "INSERT INTO attempts (delivery_id, owner, started_at_ms, duration_ms, outcome)
                      VALUES (9, 'n1', 0, 0, 'retry')";
        assert_eq!(temporary_btrees(&conn, record), 0);

        // The constraints still refuse what they refused.
        let bad_state = conn.execute("UPDATE deliveries SET state = 'lost' WHERE id = 9", []);
        assert!(format!("{:?}", bad_state.unwrap_err()).contains("CHECK constraint failed"));
        let bad_outcome = conn.execute(&record.replace("'retry'", "'maybe'"), []);
        assert!(format!("{:?}", bad_outcome.unwrap_err()).contains("CHECK constraint failed"));
        let bad_lane = conn.execute("UPDATE deliveries SET lane = 2 WHERE id = 9", []);
        assert!(format!("{:?}", bad_lane.unwrap_err()).contains("CHECK constraint failed"));
        // The indexes are back.
        let indexes: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN
                 ('deliveries_due', 'deliveries_ordering', 'deliveries_by_state',
                  'deliveries_by_event', 'attempts_by_delivery')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(indexes, 5);
    }

    /// Migration 5: an existing delivery goes to its app's callback destination and keeps its
    /// event; a delivery has exactly one source.
    #[test]
    fn migration_5_sends_existing_deliveries_to_their_apps_callback_destination() {
        let dir = tempfile::tempdir().unwrap();
        let conn = connect(&dir.path().join("m5.db")).unwrap();
        at_version(&conn, 4);
        conn.execute_batch(
            "INSERT INTO outbound_events VALUES (7, 'app', 'c', NULL, x'00', 1);
             INSERT INTO deliveries (id, event_id, app_id, call_id, state, lane, attempts,
                                     next_attempt_at_ms, created_at_ms, updated_at_ms)
                 VALUES (9, 7, 'app', 'c', 'pending', 1, 3, 5, 1, 6);
             INSERT INTO attempts (id, delivery_id, owner, started_at_ms, duration_ms, outcome)
                 VALUES (11, 9, 'n1', 2, 3, 'retry');",
        )
        .unwrap();
        assert_eq!(migrate(&conn).unwrap(), since(5));
        let row: (i64, Option<i64>, String, i64) = conn
            .query_row(
                "SELECT event_id, report_id, destination, attempts FROM deliveries WHERE id = 9",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(row, (7, None, "app:app".into(), 3));
        let neither = conn.execute(
            "INSERT INTO deliveries (destination, app_id, call_id, next_attempt_at_ms,
                                     created_at_ms, updated_at_ms)
             VALUES ('x', 'a', 'c', 0, 0, 0)",
            [],
        );
        assert!(format!("{:?}", neither.unwrap_err()).contains("CHECK constraint failed"));
        let consumers: i64 = conn
            .query_row("SELECT count(*) FROM consumers", [], |r| r.get(0))
            .unwrap();
        assert_eq!(consumers, 0);
    }

    #[test]
    fn a_migration_that_would_leave_a_dangling_reference_changes_nothing_and_says_where() {
        let dir = tempfile::tempdir().unwrap();
        let conn = connect(&dir.path().join("b.db")).unwrap();
        at_version(&conn, 3);
        // An attempt whose delivery is gone, written with enforcement off.
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        conn.execute_batch(
            "INSERT INTO attempts (delivery_id, owner, started_at_ms, duration_ms, outcome)
             VALUES (404, 'n1', 0, 0, 'retry')",
        )
        .unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();

        let err = migrate(&conn).unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt(m) if m.contains("migration 4") && m.contains("attempts")),
            "{err:?}"
        );
        let version: i64 = conn
            .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(version, 3);
        let sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'deliveries'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(sql.contains("state IN ("), "the old table stays: {sql}");
        let enforced: bool = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert!(enforced, "enforcement is back on after a failed migration");
    }

    /// The versions from `first` to the newest: what migrating a file at `first - 1` applies.
    fn since(first: i64) -> Vec<i64> {
        (first..=MIGRATIONS.known()).collect()
    }
}
