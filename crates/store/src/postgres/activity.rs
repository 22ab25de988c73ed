//! Activity counts on PostgreSQL (`crate::activity`).

use super::PgStore;
use crate::{
    activity::{read, sql, Count},
    StoreError,
};
use tokio_postgres::types::ToSql;

fn text(s: &str) -> String {
    sql::text(s, true)
}

impl PgStore {
    pub(super) async fn add_counts(&self, counts: &[Count]) -> Result<(), StoreError> {
        let whats: Vec<&str> = counts.iter().map(|c| c.key.what.as_str()).collect();
        let rows: Vec<Vec<&(dyn ToSql + Sync)>> = (counts.iter().zip(&whats))
            .map(|(c, what)| {
                let k = &c.key;
                let row: Vec<&(dyn ToSql + Sync)> = vec![
                    &k.at_min,
                    &k.span_min,
                    &k.app_id,
                    what,
                    &k.destination,
                    &k.label,
                    &c.n,
                ];
                row
            })
            .collect();
        self.execute_each(&text(sql::ADD), &rows).await
    }

    pub(super) async fn activity_counts(
        &self,
        from_min: i64,
        to_min: i64,
    ) -> Result<Vec<Count>, StoreError> {
        let params: [&(dyn ToSql + Sync); 2] = [&from_min, &to_min];
        let rows = self.rows(&text(sql::RANGE), &params, read).await?;
        Ok(rows.into_iter().flatten().collect())
    }

    /// One statement: each minute row is removed by exactly one node's roll (a concurrent
    /// one waits on its lock, then finds it gone), and its count moves into its hour.
    pub(super) async fn roll_counts(&self, before_min: i64) -> Result<u64, StoreError> {
        let moved = format!(
            "WITH moved AS (DELETE FROM {} RETURNING at_min, app_id, what, destination, label, n) {}",
            text(sql::MINUTES_BEFORE),
            sql::ROLLED_UP.replace("@minutes", "moved WHERE true"),
        );
        let client = self.client().await?;
        Ok(client.execute(&moved, &[&before_min]).await?)
    }

    pub(super) async fn prune_counts(
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
}
