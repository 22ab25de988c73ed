//! Pruning on PostgreSQL: a step reads its rows, then deletes them in one short transaction
//! that checks again what may have changed meanwhile (a retried dead delivery is pending
//! again and stays; a report whose delivery became pending stays).

use super::PgStore;
use crate::{
    retention::{walk, PruneKind, PruneRequest, PruneStep},
    StoreError,
};

// The report holding the newest delivery is kept as on SQLite, so both prune the same rows.
const REPORTS: &str = "SELECT r.id, r.received_at_ms, EXISTS (SELECT 1 FROM deliveries d
                           WHERE d.report_id = r.id AND (d.state = 'pending'
                              OR d.id = (SELECT max(id) FROM deliveries)))
                       FROM reports r WHERE r.id > $1 AND r.id < (SELECT max(id) FROM reports)
                       ORDER BY r.id LIMIT $2";
// The states are literals, so the planner may use the index of finished deliveries.
const DELIVERED: &str = "SELECT id, finished_at_ms, false FROM deliveries
                         WHERE state = 'delivered' AND id > $1 ORDER BY id LIMIT $2";
const DEAD: &str = "SELECT id, finished_at_ms, false FROM deliveries
                    WHERE state = 'dead' AND id > $1 ORDER BY id LIMIT $2";

impl PgStore {
    pub(super) async fn prune_step(&self, r: &PruneRequest) -> Result<PruneStep, StoreError> {
        let sql = match r.kind {
            PruneKind::Reports => REPORTS,
            PruneKind::Delivered => DELIVERED,
            PruneKind::Dead => DEAD,
        };
        let limit = i64::from(r.limit);
        let rows = self
            .rows(sql, &[&r.after_id, &limit], |row| {
                Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
            })
            .await?;
        let mut doomed = Vec::new();
        let mut step = walk(&rows, r, |id| {
            doomed.push(id);
            Ok(true)
        })?;
        if !doomed.is_empty() {
            step.removed = self.remove(r.kind, &doomed).await?;
        }
        Ok(step)
    }

    async fn remove(&self, kind: PruneKind, ids: &[i64]) -> Result<u64, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let removed = if kind == PruneKind::Reports {
            tx.execute(
                "DELETE FROM deliveries d WHERE d.report_id = ANY($1) AND NOT EXISTS
                     (SELECT 1 FROM deliveries p WHERE p.report_id = d.report_id
                        AND p.state = 'pending')",
                &[&ids],
            )
            .await?;
            tx.execute(
                "DELETE FROM reports r WHERE r.id = ANY($1)
                   AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.report_id = r.id)",
                &[&ids],
            )
            .await?
        } else {
            let state = kind.as_str();
            let gone = tx
                .query(
                    "DELETE FROM deliveries WHERE id = ANY($1) AND state = $2
                     RETURNING event_id",
                    &[&ids, &state],
                )
                .await?;
            let events: Vec<i64> = gone.iter().filter_map(|r| r.get(0)).collect();
            tx.execute(
                "DELETE FROM outbound_events e WHERE e.id = ANY($1)
                   AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)",
                &[&events],
            )
            .await?;
            gone.len() as u64
        };
        tx.commit().await?;
        Ok(removed)
    }
}
