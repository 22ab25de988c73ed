//! Pruning on PostgreSQL goes a day at a time: the first step of a pass drops each day's
//! partition that is wholly older than the cutoff: of reports (`day_drop`), then the
//! finished deliveries of the reports it dropped; of delivered or dead deliveries
//! (`finished_days`). The rows stored before days, the reports kept past their day and the
//! deliveries that finished into `deliveries_pending` are walked row by row: a step reads its
//! rows, then deletes them in one short transaction that checks again what may have changed
//! meanwhile (a retried dead delivery is pending again and stays; a report whose delivery
//! became pending stays).

use super::{
    day_drop,
    days::{self, Day, FIRST_DAY_ID},
    finished_days, PgStore,
};
use crate::{
    retention::{walk, PruneKind, PruneRequest, PruneStep},
    StoreError,
};

// The report holding the newest delivery is kept as on SQLite, so both prune the same rows.
// Only the partitions that are not days are read.
const REPORTS: &str = "SELECT r.id, r.received_at_ms, EXISTS (SELECT 1 FROM deliveries d
                           WHERE d.report_id = r.id AND (d.state = 'pending'
                              OR d.id = (SELECT max(id) FROM deliveries)))
                       FROM (SELECT id, received_at_ms FROM reports_before_days
                             UNION ALL SELECT id, received_at_ms FROM reports_kept) r
                       WHERE r.id > $1 AND r.id < (SELECT max(id) FROM reports)
                       ORDER BY r.id LIMIT $2";
/// Finished deliveries whose report was dropped with its day, a step at a time.
const ORPHANS: &str = "DELETE FROM deliveries WHERE id IN (
                           SELECT d.id FROM deliveries d
                           WHERE d.report_id >= $1 AND d.report_id < $2
                             AND d.finished_at_ms IS NOT NULL
                             AND NOT EXISTS (SELECT 1 FROM reports_kept k WHERE k.id = d.report_id)
                           LIMIT $3)";
// The states are literals, so the planner may use the index of finished deliveries.
const DELIVERED: &str = "SELECT id, finished_at_ms, false FROM deliveries_pending
                         WHERE state = 'delivered' AND id > $1 ORDER BY id LIMIT $2";
const DEAD: &str = "SELECT id, finished_at_ms, false FROM deliveries_pending
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
        if r.after_id == 0 {
            step.removed += match r.kind {
                PruneKind::Reports => self.drop_days(r).await?,
                _ => self.drop_finished_days(r).await?,
            };
        }
        Ok(step)
    }

    /// Drops (or, in a dry run, counts) the days wholly older than the cutoff, except the
    /// newest report's; then removes the dropped reports' finished deliveries.
    async fn drop_days(&self, r: &PruneRequest) -> Result<u64, StoreError> {
        let mut client = self.client().await?;
        let pg: &tokio_postgres::Client = &client;
        let newest: Option<i64> = pg
            .query_one("SELECT max(id) FROM reports", &[])
            .await?
            .get(0);
        let newest = newest.and_then(Day::of_id);
        let mut old: Vec<Day> = days::attached(pg)
            .await?
            .into_iter()
            .filter(|d| d.end_ms() <= r.before_ms && newest.is_none_or(|n| *d < n))
            .collect();
        if !r.dry_run {
            old.extend(days::detached(pg).await?);
        }
        let mut removed = 0;
        for day in old {
            removed += if r.dry_run {
                day_drop::doomed_rows(&**client, day).await?
            } else {
                day_drop::drop_day(&mut client, day).await?
            };
        }
        if !r.dry_run {
            let pg: &tokio_postgres::Client = &client;
            let first = days::attached(pg).await?.first().map(|d| d.first_id());
            remove_orphans(&client, first.unwrap_or(i64::MAX), r.limit).await?;
        }
        Ok(removed)
    }

    /// Drops (or, in a dry run, counts) the tables of the kind's state of the days wholly
    /// older than the cutoff.
    async fn drop_finished_days(&self, r: &PruneRequest) -> Result<u64, StoreError> {
        let state = r.kind.as_str();
        let mut client = self.client().await?;
        let mut old: Vec<Day> = days::attached_to(&**client, "deliveries")
            .await?
            .into_iter()
            .filter(|d| d.end_ms() <= r.before_ms)
            .collect();
        if !r.dry_run {
            old.extend(finished_days::detached(&**client, state).await?);
        }
        let mut removed = 0;
        for day in old {
            removed += if r.dry_run {
                finished_days::doomed_rows(&**client, day, state).await?
            } else {
                finished_days::drop_state(&mut client, day, state).await?
            };
        }
        Ok(removed)
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
            // The two partitions the walk reads, each by name: a delete through `reports`
            // would look for each id in every day's partition.
            let mut removed = 0;
            for table in ["reports_before_days", "reports_kept"] {
                removed += tx
                    .execute(
                        &format!(
                            "DELETE FROM {table} r WHERE r.id = ANY($1)
                               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.report_id = r.id)"
                        ),
                        &[&ids],
                    )
                    .await?;
            }
            removed
        } else {
            let state = kind.as_str();
            let gone = tx
                .query(
                    "DELETE FROM deliveries_pending WHERE id = ANY($1) AND state = $2
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

/// Removes finished deliveries of dropped reports (ids from `FIRST_DAY_ID` below `end`),
/// `limit` per transaction.
async fn remove_orphans(
    client: &deadpool_postgres::Object,
    end: i64,
    limit: u32,
) -> Result<(), StoreError> {
    let stmt = client.prepare_cached(ORPHANS).await?;
    let limit = i64::from(limit);
    while client
        .execute(&stmt, &[&FIRST_DAY_ID, &end, &limit])
        .await?
        > 0
    {}
    Ok(())
}
