//! Pruning by `[retention]`: passes over each kind of row, in steps of a few hundred rows, each
//! its own short write, with a pause between them so the traffic's writes go first. Run every
//! `retention.every` by a delivering node, with the store's preparation for the next days, and
//! on demand by `ivrhook prune`.

use crate::{config::Retention, metrics::Metrics, state::AppState};
use ivrhook_engine::recordings::Vault;
use ivrhook_store::{
    retention::{PruneKind, PruneRequest},
    Store, StoreError,
};
use std::{sync::Arc, time::Duration};
use tokio_util::sync::CancellationToken;

/// What `[retention] recordings` prunes, as the metrics and `ivrhook prune` name it.
pub const RECORDINGS: &str = "recordings";
/// What `[retention] activity` prunes, likewise: the overview's counts, and the analytics'.
pub const ACTIVITY: &str = "activity";
/// The analytics' counts, also pruned by `[retention] activity`.
pub const ANALYTICS: &str = "analytics";

/// Rows per step: a step holds SQLite's writer for a few milliseconds.
const STEP: u32 = 500;
/// Between steps, so that the receiver's writes are not queued behind a long pass.
const PAUSE: Duration = Duration::from_millis(5);

/// Removes (or, with `dry_run`, counts) every row `retention` says is old at `now_ms`, and
/// the kept recordings with their objects in `recordings`; what was removed, by kind.
pub async fn prune(
    store: &dyn Store,
    retention: &Retention,
    recordings: Option<&Vault>,
    now_ms: i64,
    dry_run: bool,
    metrics: Option<&Metrics>,
) -> Result<Vec<(&'static str, u64)>, StoreError> {
    let mut removed = Vec::new();
    for kind in PruneKind::ALL {
        let Some(keep) = retention.of(kind) else {
            continue;
        };
        let before_ms = now_ms.saturating_sub(keep.as_millis() as i64);
        let mut request = PruneRequest {
            kind,
            before_ms,
            after_id: 0,
            limit: STEP,
            dry_run,
        };
        let mut total = 0;
        loop {
            let step = store.prune(request).await?;
            total += step.removed;
            if let Some(m) = metrics {
                m.pruned(kind.as_str(), step.removed);
            }
            let Some(next) = step.next_after else { break };
            request.after_id = next;
            tokio::time::sleep(PAUSE).await;
        }
        removed.push((kind.as_str(), total));
    }
    if let (Some(keep), Some(vault)) = (retention.recordings, recordings) {
        let before_ms = now_ms.saturating_sub(keep.as_millis() as i64);
        let total = prune_recordings(store, vault, before_ms, dry_run, metrics).await?;
        removed.push((RECORDINGS, total));
    }
    if let Some(keep) = retention.activity {
        let before_min = now_ms.saturating_sub(keep.as_millis() as i64) / 60_000;
        let total = prune_counts(store, Counts::Activity, before_min, dry_run, metrics).await?;
        removed.push((ACTIVITY, total));
        let total = prune_counts(store, Counts::Analytics, before_min, dry_run, metrics).await?;
        removed.push((ANALYTICS, total));
    }
    if !dry_run {
        store.reclaim().await?;
    }
    Ok(removed)
}

/// Kept recordings pruned: each object removed, then its row (a pass that stops between the
/// two finds the row again, its object already gone). A recording whose call has a fetch
/// pending is kept. An object the store cannot remove stops the pass, to be tried again.
async fn prune_recordings(
    store: &dyn Store,
    vault: &Vault,
    before_ms: i64,
    dry_run: bool,
    metrics: Option<&Metrics>,
) -> Result<u64, StoreError> {
    let (mut after, mut total) = (None, 0);
    loop {
        let page = store.old_recordings(before_ms, after, STEP).await?;
        let Some((last, _)) = page.last() else {
            return Ok(total);
        };
        after = Some(last.cursor());
        for (kept, _) in page.iter().filter(|(_, pending)| !pending) {
            if dry_run {
                total += 1;
                continue;
            }
            if let Err(e) = vault.delete(&kept.key).await {
                tracing::warn!(key = kept.key, error = %e, "a recording's object could not be removed; pruning recordings is tried again later");
                return Ok(total);
            }
            if store.forget_recording(kept).await? {
                total += 1;
                if let Some(m) = metrics {
                    m.pruned(RECORDINGS, 1);
                }
            }
        }
        tokio::time::sleep(PAUSE).await;
    }
}

/// The counts `[retention] activity` keeps.
#[derive(Clone, Copy)]
enum Counts {
    Activity,
    Analytics,
}

/// Counts before `before_min` pruned, oldest first (counted only, with `dry_run`).
async fn prune_counts(
    store: &dyn Store,
    counts: Counts,
    before_min: i64,
    dry_run: bool,
    metrics: Option<&Metrics>,
) -> Result<u64, StoreError> {
    if dry_run {
        return match counts {
            Counts::Activity => Ok(store.activity(i64::MIN, before_min).await?.len() as u64),
            Counts::Analytics => store.count_analytics_before(before_min).await,
        };
    }
    let mut total = 0;
    loop {
        let (removed, kind) = match counts {
            Counts::Activity => (store.prune_activity(before_min, STEP).await?, ACTIVITY),
            Counts::Analytics => (store.prune_analytics(before_min, STEP).await?, ANALYTICS),
        };
        total += removed;
        if let Some(m) = metrics {
            m.pruned(kind, removed);
        }
        if removed < u64::from(STEP) {
            return Ok(total);
        }
        tokio::time::sleep(PAUSE).await;
    }
}

/// Every `retention.every` until `shutdown`: makes the store ready for the next days, and
/// prunes when anything is to be pruned.
pub(crate) async fn run(state: Arc<AppState>, shutdown: CancellationToken) {
    let retention = state.config.retention;
    let prunes = PruneKind::ALL.iter().any(|k| retention.of(*k).is_some())
        || retention.recordings.is_some()
        || retention.activity.is_some();
    loop {
        let now = chrono::Utc::now().timestamp_millis();
        if let Err(e) = state.store.prepare_ahead(now).await {
            tracing::warn!(error = ?e, "preparing the store for the next days failed; it is tried again later");
        }
        tokio::select! {
            () = tokio::time::sleep(retention.every) => {}
            () = shutdown.cancelled() => return,
        }
        if prunes {
            pass(&state, &retention).await;
        }
    }
}

/// One pass of pruning, logged.
async fn pass(state: &AppState, retention: &Retention) {
    let now = chrono::Utc::now().timestamp_millis();
    let pass = prune(
        state.store.as_ref(),
        retention,
        state.config.recordings.vault.as_ref(),
        now,
        false,
        Some(&state.metrics),
    );
    match pass.await {
        Ok(removed) => {
            let removed: Vec<String> = (removed.iter())
                .filter(|(_, n)| *n > 0)
                .map(|(k, n)| format!("{n} {k}"))
                .collect();
            if !removed.is_empty() {
                tracing::info!(removed = %removed.join(", "), "pruned old rows");
            }
        }
        Err(e) => tracing::warn!(error = ?e, "pruning failed; it is tried again later"),
    }
}
