//! Paused destinations on PostgreSQL: a change is announced, so that every node re-reads them
//! at once.

use super::PgStore;
use crate::StoreError;

impl PgStore {
    pub(super) async fn set_paused(
        &self,
        destination: &str,
        at_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let changed = match at_ms {
            Some(at) => {
                let sql = "INSERT INTO paused_destinations (destination, paused_at_ms)
                           VALUES ($1, $2) ON CONFLICT (destination) DO NOTHING";
                client.execute(sql, &[&destination, &at]).await?
            }
            None => {
                let sql = "DELETE FROM paused_destinations WHERE destination = $1";
                client.execute(sql, &[&destination]).await?
            }
        };
        if changed == 1 {
            self.announce("");
        }
        Ok(changed == 1)
    }

    pub(super) async fn paused(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let sql = "SELECT destination, paused_at_ms FROM paused_destinations ORDER BY destination";
        let rows = self.client().await?.query(sql, &[]).await?;
        (rows.iter())
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }
}
