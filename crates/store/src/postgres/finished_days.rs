//! Finished deliveries partitioned by the day (UTC) they finished (migration 13): a day's
//! table, `deliveries_YYYYMMDD`, is split by state into `…_delivered` and `…_dead`. Pending
//! deliveries stay in `deliveries_pending`. Days are created ahead with the reports'
//! (`days::prepare`); retention drops a day's table of one state whole (`drop_state`), with
//! the events its deliveries sent.

use super::{
    day_drop::rows,
    days::{day_transaction, exists, Day},
};
use crate::{outbox::AttemptRecord, StoreError};
use deadpool_postgres::Pool;
use tokio_postgres::{error::SqlState, Client, GenericClient};

/// The states a finished delivery is in, each a table of its day.
pub(crate) const STATES: [&str; 2] = ["delivered", "dead"];

/// Events removed per statement while a day's table is dropped.
const EVENTS_PER_STEP: i64 = 10_000;

/// Creates `day`'s tables unless they exist, or the day is before the first that can have
/// them (`deliveries_days_from`, migration 11). Attaching locks `deliveries` only against
/// other schema changes, so deliveries go on meanwhile.
pub(crate) async fn ensure(client: &mut Client, day: Day) -> Result<(), StoreError> {
    let table = day.named("deliveries");
    let tx = day_transaction(client, day, "5s").await?;
    if exists(&tx, &table).await? || day.start_ms() < first_ms(&tx).await? {
        return Ok(());
    }
    let like = "LIKE deliveries INCLUDING DEFAULTS INCLUDING CONSTRAINTS";
    let mut sql = format!("CREATE TABLE {table} ({like}) PARTITION BY LIST (state);");
    for state in STATES {
        sql += &format!(
            "CREATE TABLE {table}_{state} ({like}, PRIMARY KEY (id));
             ALTER TABLE {table} ATTACH PARTITION {table}_{state} FOR VALUES IN ('{state}');"
        );
    }
    sql += &format!(
        "ALTER TABLE deliveries ATTACH PARTITION {table} FOR VALUES FROM ({}) TO ({});",
        day.start_ms(),
        day.end_ms()
    );
    tx.batch_execute(&sql).await?;
    tx.commit().await?;
    tracing::info!(partition = %table, "created a day's partitions of finished deliveries");
    Ok(())
}

/// Whether `e` says a finished delivery's day has no table (the pruning node, which creates
/// them ahead, has not run for days).
pub(crate) fn no_day_for(e: &StoreError) -> bool {
    matches!(e, StoreError::Postgres(e) if e.as_db_error().is_some_and(|d| {
        d.code() == &SqlState::CHECK_VIOLATION && d.message().starts_with("no partition of relation")
    }))
}

/// Creates the tables of the days the records finish on.
pub(crate) async fn ensure_for(pool: &Pool, records: &[&AttemptRecord]) -> Result<(), StoreError> {
    let mut days: Vec<Day> = records
        .iter()
        .filter_map(|r| r.delivery_move().finished_at_ms)
        .filter_map(|ms| Day::of_ms(ms).ok())
        .collect();
    days.sort();
    days.dedup();
    let mut client = pool.get().await?;
    for day in days {
        ensure(&mut client, day).await?;
    }
    Ok(())
}

async fn first_ms(client: &impl GenericClient) -> Result<i64, StoreError> {
    let row = client
        .query_one("SELECT ms FROM deliveries_days_from", &[])
        .await?;
    Ok(row.get(0))
}

/// The days whose table of `state` is no longer attached: left by a drop that stopped
/// after detaching it.
pub(crate) async fn detached(
    client: &impl GenericClient,
    state: &str,
) -> Result<Vec<Day>, StoreError> {
    let rows = client
        .query(
            "SELECT left(c.relname::text, 19) FROM pg_class c
             WHERE c.relkind = 'r' AND c.relname ~ ('^deliveries_[0-9]{8}_' || $1 || '$')
               AND c.relnamespace = (SELECT relnamespace FROM pg_class
                                     WHERE oid = 'deliveries'::regclass)
               AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)",
            &[&state],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| Day::of_name("deliveries", r.get(0)))
        .collect())
}

/// The rows `drop_state` would remove.
pub(crate) async fn doomed_rows(
    client: &impl GenericClient,
    day: Day,
    state: &str,
) -> Result<u64, StoreError> {
    let table = format!("{}_{state}", day.named("deliveries"));
    if !exists(client, &table).await? {
        return Ok(0);
    }
    rows(client, &table).await
}

/// Removes `day`'s table of `state`: detaches it (a lock on the day's table only), removes
/// the events its deliveries sent (one event, one delivery), drops it; then drops the day's
/// table once it holds no state. Returns the deliveries removed.
pub(crate) async fn drop_state(
    client: &mut Client,
    day: Day,
    state: &str,
) -> Result<u64, StoreError> {
    let parent = day.named("deliveries");
    let table = format!("{parent}_{state}");
    let tx = day_transaction(client, day, "500ms").await?;
    if !exists(&tx, &table).await? {
        return Ok(0);
    }
    let removed = rows(&tx, &table).await?;
    if attached_to(&tx, &table, &parent).await? {
        tx.batch_execute(&format!("ALTER TABLE {parent} DETACH PARTITION {table}"))
            .await?;
    }
    tx.commit().await?;
    remove_events(client, &table).await?;
    client
        .batch_execute(&format!("DROP TABLE IF EXISTS {table}"))
        .await?;
    drop_if_empty(client, day).await?;
    tracing::info!(partition = %table, removed, "dropped a day's partition of finished deliveries");
    Ok(removed)
}

async fn attached_to(
    client: &impl GenericClient,
    table: &str,
    parent: &str,
) -> Result<bool, StoreError> {
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_inherits
                            WHERE inhrelid = to_regclass($1) AND inhparent = to_regclass($2))",
            &[&table, &parent],
        )
        .await?;
    Ok(row.get(0))
}

/// Removes the events sent by the deliveries of a detached table, a step at a time.
async fn remove_events(client: &Client, table: &str) -> Result<(), StoreError> {
    let sql = format!(
        "WITH step AS (SELECT event_id FROM {table} WHERE event_id > $1
                       ORDER BY event_id LIMIT $2),
              gone AS (DELETE FROM outbound_events WHERE id IN (SELECT event_id FROM step))
         SELECT max(event_id) FROM step"
    );
    let mut after = i64::MIN;
    while let Some(last) = client
        .query_one(&sql, &[&after, &EVENTS_PER_STEP])
        .await?
        .get::<_, Option<i64>>(0)
    {
        after = last;
    }
    Ok(())
}

/// Drops `day`'s table once neither state's is left in it. Dropping a partition of
/// `deliveries` holds it alone for a moment: half a second at most behind its readers.
async fn drop_if_empty(client: &mut Client, day: Day) -> Result<(), StoreError> {
    let parent = day.named("deliveries");
    let tx = day_transaction(client, day, "500ms").await?;
    let empty: bool = tx
        .query_one(
            "SELECT to_regclass($1) IS NOT NULL AND NOT EXISTS
                 (SELECT 1 FROM pg_inherits WHERE inhparent = to_regclass($1))",
            &[&parent],
        )
        .await?
        .get(0);
    if empty {
        tx.batch_execute(&format!("DROP TABLE {parent}")).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
#[path = "finished_days_tests.rs"]
mod tests;
