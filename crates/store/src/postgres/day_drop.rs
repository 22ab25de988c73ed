//! Dropping a day's partition of reports, for retention: the reports that must stay move to
//! `reports_kept` as it is detached, then the table is dropped.

use super::days::{day_transaction, Day};
use crate::StoreError;
use tokio_postgres::{Client, GenericClient};

/// Removes `day`'s partition: detaches it in one short transaction that first copies into
/// `reports_kept` its reports that must stay (those with a pending delivery, and the one
/// holding the newest delivery, as on SQLite, so both keep the same rows), then drops it.
/// The drop commits on its own: a large table's files take seconds to remove, and a
/// detached table's drop holds nothing the receiver needs. Returns the rows removed, as
/// `doomed_rows` counts them (none for a table left detached by an earlier pass that stopped
/// between the two).
pub(crate) async fn drop_day(client: &mut Client, day: Day) -> Result<u64, StoreError> {
    let table = day.table();
    let started = std::time::Instant::now();
    let (rows, kept) = detach(client, day).await?;
    let detach_ms = started.elapsed().as_millis() as u64;
    client
        .batch_execute(&format!("DROP TABLE IF EXISTS {table}"))
        .await?;
    let drop_ms = started.elapsed().as_millis() as u64 - detach_ms;
    tracing::info!(partition = %table, kept, detach_ms, drop_ms, "dropped a day's partition of reports");
    Ok(rows.saturating_sub(kept))
}

/// Detaches `day`'s partition if it is attached, keeping what must stay; the rows it held
/// and those kept.
async fn detach(client: &mut Client, day: Day) -> Result<(u64, u64), StoreError> {
    let table = day.table();
    // The detach waits for the statements using `reports` to end, and holds new ones back
    // while it waits: behind a long reader (a backup) it gives up, to be tried next pass,
    // rather than hold the receiver.
    let tx = day_transaction(client, day, "500ms").await?;
    if !attached(&tx, &table).await? {
        return Ok((0, 0));
    }
    let rows = rows(&tx, &table).await?;
    tx.batch_execute(&format!("ALTER TABLE reports DETACH PARTITION {table}"))
        .await?;
    let kept = tx
        .execute(
            &format!("INSERT INTO reports_kept SELECT * FROM {table} WHERE id IN ({KEPT})"),
            &[&day.first_id(), &day.end_id()],
        )
        .await?;
    tx.commit().await?;
    Ok((rows, kept))
}

async fn attached(client: &impl GenericClient, table: &str) -> Result<bool, StoreError> {
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_inherits
                            WHERE inhrelid = to_regclass($1) AND inhparent = 'reports'::regclass)",
            &[&table],
        )
        .await?;
    Ok(row.get(0))
}

/// The ids of a day's reports (`$1` to `$2`) that retention keeps past their day. Pending
/// deliveries are few and all in `deliveries_ordering` (`finished_at_ms IS NULL`); the day's
/// finished ones, which may be millions, are not read.
const KEPT: &str = "SELECT report_id FROM deliveries_pending WHERE finished_at_ms IS NULL
                        AND report_id >= $1 AND report_id < $2
                    UNION SELECT report_id FROM deliveries
                        WHERE id = (SELECT max(id) FROM deliveries)";

/// The rows `drop_day` would remove. A partition PostgreSQL has counted (autovacuum analyses
/// a table as it fills) is taken at the planner's count: counting would read the whole day.
pub(crate) async fn doomed_rows(client: &impl GenericClient, day: Day) -> Result<u64, StoreError> {
    let table = day.table();
    let kept: i64 = client
        .query_one(
            &format!("SELECT count(*) FROM {table} WHERE id IN ({KEPT})"),
            &[&day.first_id(), &day.end_id()],
        )
        .await?
        .get(0);
    Ok(rows(client, &table).await?.saturating_sub(kept as u64))
}

pub(super) async fn rows(client: &impl GenericClient, table: &str) -> Result<u64, StoreError> {
    let estimate: f32 = client
        .query_one(
            "SELECT reltuples FROM pg_class WHERE oid = $1::text::regclass",
            &[&table],
        )
        .await?
        .get(0);
    if estimate >= 0.0 {
        return Ok(estimate as u64);
    }
    let counted: i64 = client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await?
        .get(0);
    Ok(counted as u64)
}
