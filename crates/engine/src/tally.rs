//! Activity counted for the store (`ivrhook_store::activity`), for the whole cluster and
//! across restarts. Counts add up in memory and [`Tally::run`] writes them once a second, one
//! upsert per key: never a write per report. A node that dies loses at most its last second
//! of counts. The same task rolls minutes older than two days into hours.

use ivrhook_store::{
    activity::{Count, CountKey, What, MINUTES_KEPT},
    outbox::Settle,
    Store,
};
use std::{collections::HashMap, sync::Mutex, time::Duration};
use tokio_util::sync::CancellationToken;

/// How long counts wait in memory.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// How often minutes older than [`MINUTES_KEPT`] are rolled into hours.
const ROLL_EVERY: Duration = Duration::from_secs(600);

/// Counts not yet written.
#[derive(Debug, Default)]
pub struct Tally {
    counts: Mutex<HashMap<CountKey, i64>>,
}

impl Tally {
    /// A report of `app` answered `code` at `now_ms`.
    pub fn received(&self, now_ms: i64, app: &str, code: &str) {
        self.add(now_ms, app, What::Received, "", code);
    }

    /// A duplicate report of `app` at `now_ms`.
    pub fn duplicate(&self, now_ms: i64, app: &str) {
        self.add(now_ms, app, What::Duplicate, "", "");
    }

    /// An attempt of `app`'s to `destination` settled as `settle` at `now_ms`, answered
    /// `answer`.
    pub fn attempt(
        &self,
        now_ms: i64,
        app: &str,
        destination: &str,
        settle: &Settle,
        answer: &str,
    ) {
        let outcome = match settle {
            Settle::Delivered => "delivered",
            Settle::Retry { .. } => "retried",
            Settle::Dead { .. } => "dead",
        };
        self.add(now_ms, app, What::Attempt, destination, outcome);
        self.add(now_ms, app, What::Answer, destination, answer);
    }

    fn add(&self, now_ms: i64, app: &str, what: What, destination: &str, label: &str) {
        let key = CountKey {
            at_min: now_ms.div_euclid(60_000),
            span_min: 1,
            app_id: app.to_owned(),
            what,
            destination: destination.to_owned(),
            label: label.to_owned(),
        };
        *self.locked().entry(key).or_default() += 1;
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, HashMap<CountKey, i64>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes what is counted; on failure keeps it for the next try.
    pub async fn flush(&self, store: &dyn Store) {
        let taken = std::mem::take(&mut *self.locked());
        if taken.is_empty() {
            return;
        }
        let counts: Vec<Count> = (taken.into_iter())
            .map(|(key, n)| Count { key, n })
            .collect();
        if let Err(e) = store.add_activity(&counts).await {
            tracing::warn!(error = %e, keys = counts.len(), "activity counts not written; tried again");
            let mut kept = self.locked();
            for c in counts {
                *kept.entry(c.key).or_default() += c.n;
            }
        }
    }

    /// Flushes every [`FLUSH_EVERY`] and rolls old minutes into hours, until `stop` (the
    /// server flushes once more after its last attempt).
    pub async fn run(&self, store: &dyn Store, stop: CancellationToken) {
        let mut flush = tokio::time::interval(FLUSH_EVERY);
        let mut roll = tokio::time::interval(ROLL_EVERY);
        loop {
            tokio::select! {
                _ = flush.tick() => self.flush(store).await,
                _ = roll.tick() => roll_old_minutes(store).await,
                () = stop.cancelled() => return,
            }
        }
    }
}

/// Rolls the whole hours that ended more than [`MINUTES_KEPT`] ago.
async fn roll_old_minutes(store: &dyn Store) {
    let now_min = chrono::Utc::now().timestamp_millis().div_euclid(60_000);
    let before = (now_min - MINUTES_KEPT).div_euclid(60) * 60;
    if let Err(e) = store.roll_activity(before).await {
        tracing::warn!(error = %e, "activity minutes not rolled into hours; tried again later");
    }
}
