//! Activity counts on PostgreSQL (`crate::activity`).

use super::PgStore;
use crate::{
    activity::{read, sql, Count},
    StoreError,
};

fn text(s: &str) -> String {
    sql::text(s, true)
}

impl PgStore {
    pub(super) async fn add_counts(&self, counts: &[Count]) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let stmt = tx.prepare_cached(&text(sql::ADD)).await?;
        for c in counts {
            let k = &c.key;
            let what = k.what.as_str();
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 7] = [
                &k.at_min,
                &k.span_min,
                &k.app_id,
                &what,
                &k.destination,
                &k.label,
                &c.n,
            ];
            tx.execute(&stmt, &params).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn activity_counts(
        &self,
        from_min: i64,
        to_min: i64,
    ) -> Result<Vec<Count>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(&text(sql::RANGE), &[&from_min, &to_min])
            .await?;
        rows.iter()
            .map(read)
            .filter_map(Result::transpose)
            .collect()
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
