//! Reports partitioned by the day they were received (migration 10): a day's partition, named
//! `reports_YYYYMMDD`, holds the ids from the day's number times 2^32 up, drawn from its own
//! sequence. Partitions are created ahead (`prepare`) and on demand by a receiving node that
//! finds its day's missing (`ensure`); retention drops them whole (`day_drop`).

use crate::StoreError;
use tokio_postgres::{Client, GenericClient, Transaction};

const MS_PER_DAY: i64 = 86_400_000;

/// Ids below this belong to `reports_before_days`, the reports stored before migration 10.
pub(crate) const FIRST_DAY_ID: i64 = 1 << 40;

/// Advisory lock class for creating and dropping partitions (with the day as second key).
const LOCK_CLASS: i32 = 0x6976_7270; // "ivrp"

/// How many days past today `prepare` creates.
const AHEAD: i64 = 2;

/// Days since 1970-01-01, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Day(i64);

impl Day {
    /// The day holding `ms`; an error for a time before 1971, whose ids would fall among
    /// those of `reports_before_days`.
    pub fn of_ms(ms: i64) -> Result<Day, StoreError> {
        let day = Day(ms.div_euclid(MS_PER_DAY));
        if day.first_id() < FIRST_DAY_ID {
            return Err(StoreError::BadClock { ms });
        }
        Ok(day)
    }

    /// The day a report id belongs to (`None`: stored before days).
    pub fn of_id(id: i64) -> Option<Day> {
        (id >= FIRST_DAY_ID).then_some(Day(id >> 32))
    }

    pub fn first_id(self) -> i64 {
        self.0 << 32
    }

    pub fn end_id(self) -> i64 {
        (self.0 + 1) << 32
    }

    pub fn start_ms(self) -> i64 {
        self.0 * MS_PER_DAY
    }

    /// When the next day starts.
    pub fn end_ms(self) -> i64 {
        (self.0 + 1) * MS_PER_DAY
    }

    pub fn before(self) -> Day {
        Day(self.0 - 1)
    }

    pub fn after(self, days: i64) -> Day {
        Day(self.0 + days)
    }

    /// The reports' partition's name, e.g. `reports_20261204`.
    pub fn table(self) -> String {
        self.named("reports")
    }

    /// The day's table of `table`, e.g. `deliveries_20261204`.
    pub fn named(self, table: &str) -> String {
        let date = chrono::DateTime::from_timestamp(self.0 * 86_400, 0).unwrap_or_default();
        format!("{table}_{}", date.format("%Y%m%d"))
    }

    /// The day a reports' partition's name says.
    fn of_table(name: &str) -> Option<Day> {
        Day::of_name("reports", name)
    }

    /// The day a name made by `named(table)` says.
    pub fn of_name(table: &str, name: &str) -> Option<Day> {
        let digits = name.strip_prefix(table)?.strip_prefix('_')?;
        let date = chrono::NaiveDate::parse_from_str(digits, "%Y%m%d").ok()?;
        let ms = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis();
        Some(Day(ms / MS_PER_DAY))
    }
}

/// Creates the partitions of reports and of finished deliveries of today and the next
/// `AHEAD` days that are missing.
pub(crate) async fn prepare(client: &mut Client, now_ms: i64) -> Result<(), StoreError> {
    let today = Day::of_ms(now_ms)?;
    for n in 0..=AHEAD {
        ensure(client, today.after(n)).await?;
        super::finished_days::ensure(client, today.after(n)).await?;
    }
    Ok(())
}

/// Creates `day`'s partition with its sequence and dedupe key, unless it exists. Attaching
/// locks `reports` only against other schema changes, so receiving goes on meanwhile.
pub(crate) async fn ensure(client: &mut Client, day: Day) -> Result<(), StoreError> {
    let table = day.table();
    let tx = day_transaction(client, day, "5s").await?;
    if exists(&tx, &table).await? {
        return Ok(());
    }
    let (first, end) = (day.first_id(), day.end_id());
    tx.batch_execute(&format!(
        "CREATE SEQUENCE {table}_id AS BIGINT MINVALUE {first} MAXVALUE {last} START {first};
         CREATE TABLE {table} (LIKE reports INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
         ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval('{table}_id');
         ALTER SEQUENCE {table}_id OWNED BY {table}.id;
         CREATE UNIQUE INDEX {table}_dedupe ON {table} (call_id, app_id, content_hash);
         ALTER TABLE reports ATTACH PARTITION {table} FOR VALUES FROM ({first}) TO ({end});",
        last = end - 1,
    ))
    .await?;
    tx.commit().await?;
    tracing::info!(partition = %table, "created a day's partition of reports");
    Ok(())
}

/// The partitions a report received on `day` may have an earlier copy in: the day before's,
/// and `reports_before_days` while its newest report was received within that window (on the
/// day of the upgrade and the next).
pub(crate) async fn earlier(client: &Client, day: Day) -> Result<Vec<String>, StoreError> {
    let before = day.before();
    let mut tables = Vec::new();
    if exists(client, &before.table()).await? {
        tables.push(before.table());
    }
    let newest: Option<i64> = client
        .query_opt(
            "SELECT received_at_ms FROM reports_before_days ORDER BY id DESC LIMIT 1",
            &[],
        )
        .await?
        .map(|row| row.get(0));
    if newest.is_some_and(|ms| ms >= before.start_ms()) {
        tables.push("reports_before_days".to_owned());
    }
    Ok(tables)
}

/// A transaction holding `day`'s advisory lock (one node creates or drops a day at a time),
/// whose statements wait at most `lock_timeout` for a table's lock.
pub(super) async fn day_transaction<'a>(
    client: &'a mut Client,
    day: Day,
    lock_timeout: &str,
) -> Result<Transaction<'a>, StoreError> {
    let tx = client.transaction().await?;
    tx.batch_execute(&format!("SET LOCAL lock_timeout = '{lock_timeout}'"))
        .await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&LOCK_CLASS, &(day.0 as i32)],
    )
    .await?;
    Ok(tx)
}

pub(super) async fn exists(client: &impl GenericClient, table: &str) -> Result<bool, StoreError> {
    let row = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .await?;
    Ok(row.get(0))
}

/// Day tables no longer attached to `reports`: left by a drop that stopped after detaching.
pub(crate) async fn detached(client: &impl GenericClient) -> Result<Vec<Day>, StoreError> {
    let rows = client
        .query(
            "SELECT c.relname::text FROM pg_class c
             WHERE c.relkind = 'r' AND c.relname ~ '^reports_[0-9]{8}$'
               AND c.relnamespace = (SELECT relnamespace FROM pg_class
                                     WHERE oid = 'reports'::regclass)
               AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| Day::of_table(r.get(0)))
        .collect())
}

/// The day partitions attached to `reports`, oldest first.
pub(crate) async fn attached(client: &impl GenericClient) -> Result<Vec<Day>, StoreError> {
    attached_to(client, "reports").await
}

/// The days with partitions attached to `table`, named by `Day::named(table)`, oldest first.
pub(crate) async fn attached_to(
    client: &impl GenericClient,
    table: &str,
) -> Result<Vec<Day>, StoreError> {
    let rows = client
        .query(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = $1::text::regclass",
            &[&table],
        )
        .await?;
    let mut days: Vec<Day> = rows
        .iter()
        .filter_map(|r| Day::of_name(table, r.get(0)))
        .collect();
    days.sort();
    Ok(days)
}

#[cfg(test)]
#[path = "days_tests.rs"]
pub(crate) mod on_postgres;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_day_names_its_partition_and_its_ids() {
        // 2026-12-04T23:59:59.999Z and the next millisecond.
        let last = Day::of_ms(1_796_428_799_999).unwrap();
        let next = Day::of_ms(1_796_428_800_000).unwrap();
        assert_eq!(last.table(), "reports_20261204");
        assert_eq!(next.table(), "reports_20261205");
        assert_eq!(last.end_id(), next.first_id());
        assert_eq!(last.end_ms(), 1_796_428_800_000);
        assert_eq!(Day::of_table("reports_20261205"), Some(next));
        assert_eq!(Day::of_id(next.first_id()), Some(next));
        assert_eq!(Day::of_id(FIRST_DAY_ID - 1), None);
        assert_eq!(Day::of_table("reports_kept"), None);
        assert!(Day::of_ms(0).is_err(), "1970 is refused");
    }
}
