//! Versioned migrations for PostgreSQL, applied under an advisory lock so that several nodes
//! starting at once apply each version exactly once.

use crate::{versions::Versions, StoreError};
use tokio_postgres::{Client, GenericClient};

/// Migrations in order; a version is applied once and recorded in `schema_migrations`.
pub(crate) const MIGRATIONS: Versions = Versions(&[
    (1, include_str!("migrations/0001_init.sql")),
    (2, include_str!("migrations/0002_claim_index_order.sql")),
    (
        3,
        include_str!("migrations/0003_deliveries_queue_settings.sql"),
    ),
    (
        4,
        include_str!("migrations/0004_one_index_per_question.sql"),
    ),
    (
        5,
        include_str!("migrations/0005_attempts_in_delivery_row.sql"),
    ),
    (
        6,
        include_str!("migrations/0006_identifiers_compare_bytes.sql"),
    ),
    (7, include_str!("migrations/0007_destinations.sql")),
    (
        8,
        include_str!("migrations/0008_reports_ids_before_days.sql"),
    ),
    (
        9,
        include_str!("migrations/0009_reports_before_days_validated.sql"),
    ),
    (10, include_str!("migrations/0010_reports_by_day.sql")),
    (
        11,
        include_str!("migrations/0011_deliveries_finished_before_days.sql"),
    ),
    (
        12,
        include_str!("migrations/0012_deliveries_finished_before_days_validated.sql"),
    ),
    (13, include_str!("migrations/0013_deliveries_by_day.sql")),
    (14, include_str!("migrations/0014_paused_destinations.sql")),
    (15, include_str!("migrations/0015_call_deadlines.sql")),
    (16, include_str!("migrations/0016_recordings.sql")),
    (17, include_str!("migrations/0017_activity.sql")),
    (18, include_str!("migrations/0018_analytics.sql")),
]);

/// The advisory lock key (any constant unique to ivrhook): "ivrhook" in ASCII.
const LOCK_KEY: i64 = 0x69_76_72_68_6f_6f_6b;

/// The version the database is at (0 when ivrhook never ran on it).
pub(crate) async fn current(client: &impl GenericClient) -> Result<i64, StoreError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = client
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

/// Applies every migration newer than the database; returns the versions applied.
pub(crate) async fn migrate(client: &mut Client) -> Result<Vec<i64>, StoreError> {
    migrate_to(client, MIGRATIONS.known()).await
}

/// Applies the migrations newer than the database up to `last` (tests build older schemas
/// with it, to upgrade them with data in).
///
/// Each version commits on its own, so a migration that must scan a large table beside the
/// running nodes (taking a lock that lets their writes through) is not followed, in the same
/// transaction, by one whose stronger lock would then be held through that scan.
pub(crate) async fn migrate_to(client: &mut Client, last: i64) -> Result<Vec<i64>, StoreError> {
    let mut applied = Vec::new();
    while let Some(version) = apply_next(client, last).await? {
        tracing::info!(version, "applied database migration");
        applied.push(version);
    }
    Ok(applied)
}

/// Applies the version after the database's, if there is one up to `last`.
async fn apply_next(client: &mut Client, last: i64) -> Result<Option<i64>, StoreError> {
    let tx = client.transaction().await?;
    // Held to the end of the transaction: a second node waits here, then finds it applied.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await?;
    if current(&tx).await? == 0 {
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version       BIGINT PRIMARY KEY,
                 applied_at_ms BIGINT NOT NULL
             )",
        )
        .await?;
    }
    let at: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .get(0);
    let Some((version, sql)) = MIGRATIONS.next(at, last)? else {
        return Ok(None);
    };
    tx.batch_execute(sql).await?;
    tx.execute(
        "INSERT INTO schema_migrations (version, applied_at_ms) VALUES ($1, $2)",
        &[&version, &chrono::Utc::now().timestamp_millis()],
    )
    .await?;
    tx.commit().await?;
    Ok(Some(version))
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
