//! IVR analytics on PostgreSQL (`crate::analytics`).

use super::PgStore;
use crate::{
    activity::sql::text as placeholders,
    analytics::{read, sql, Count},
    StoreError,
};
use tokio_postgres::types::ToSql;

/// Serialises admissions of names across nodes, so a scope never passes its cap.
const ADMIT_LOCK: i64 = 0x69_76_72_68_6f_6f_6c;

fn text(s: &str) -> String {
    placeholders(s, true)
}

impl PgStore {
    pub(super) async fn add_analytics_counts(&self, counts: &[Count]) -> Result<(), StoreError> {
        let measures: Vec<&str> = counts.iter().map(|c| c.key.measure.as_str()).collect();
        let rows: Vec<Vec<&(dyn ToSql + Sync)>> = (counts.iter().zip(&measures))
            .map(|(c, measure)| {
                let k = &c.key;
                let row: Vec<&(dyn ToSql + Sync)> = vec![
                    &k.app_id,
                    &k.at_min,
                    &k.span_min,
                    &k.position,
                    &k.prompt,
                    measure,
                    &k.label,
                    &c.n,
                ];
                row
            })
            .collect();
        self.execute_each(&text(sql::ADD), &rows).await
    }

    pub(super) async fn analytics_counts(
        &self,
        app_id: &str,
        from_min: i64,
        to_min: i64,
    ) -> Result<Vec<Count>, StoreError> {
        let params: [&(dyn ToSql + Sync); 3] = [&app_id, &from_min, &to_min];
        let rows = self.rows(&text(sql::RANGE), &params, read).await?;
        Ok(rows.into_iter().flatten().collect())
    }

    /// One statement: each hour row is removed by exactly one node's roll, and its count
    /// moves into its day.
    pub(super) async fn roll_analytics_hours(
        &self,
        before_min: i64,
        offset_min: i64,
    ) -> Result<u64, StoreError> {
        let moved = format!(
            "WITH moved AS (DELETE FROM {} RETURNING app_id, at_min, position, prompt, what, label, n) {}",
            sql::HOURS_BEFORE,
            sql::ROLLED_UP.replace("@hours", "moved WHERE true"),
        );
        let client = self.client().await?;
        Ok(client
            .execute(&text(&moved), &[&before_min, &offset_min])
            .await?)
    }

    pub(super) async fn count_analytics(&self, before_min: i64) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let row = (client.query_one(&text(sql::COUNT_BEFORE), &[&before_min])).await?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    pub(super) async fn prune_analytics_counts(
        &self,
        before_min: i64,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let limit = i64::from(limit);
        Ok(client
            .execute(&text(sql::PRUNE), &[&before_min, &limit])
            .await?)
    }

    pub(super) async fn admit_analytics_names(
        &self,
        app_id: &str,
        scope: &str,
        names: &[String],
        cap: u32,
    ) -> Result<Vec<String>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&ADMIT_LOCK])
            .await?;
        let admit = tx.prepare_cached(&text(sql::ADMIT)).await?;
        let cap = i64::from(cap);
        for name in names {
            tx.execute(&admit, &[&app_id, &scope, name, &cap]).await?;
        }
        let rows = tx.query(&text(sql::NAMES), &[&app_id, &scope]).await?;
        tx.commit().await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}
