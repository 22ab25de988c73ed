//! The counts kept for the whole cluster: activity (the overview) and, when enabled, IVR
//! analytics. Each is written once a second; the server flushes both once more at shutdown,
//! after its last report and attempt.

use crate::state::AppState;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Writes the counts each second, until `stop`.
pub(crate) async fn run(state: Arc<AppState>, stop: CancellationToken) {
    let analytics = (state.analytics.clone()).map(|analytics| {
        let (store, stop) = (Arc::clone(&state.store), stop.clone());
        tokio::spawn(async move { analytics.run(store.as_ref(), stop).await })
    });
    let tally = Arc::clone(state.metrics.engine.tally());
    tally.run(state.store.as_ref(), stop).await;
    if let Some(analytics) = analytics {
        let _ = analytics.await;
    }
}

/// Writes what is counted and not yet written.
pub(crate) async fn flush(state: &AppState) {
    let store = state.store.as_ref();
    state.metrics.engine.tally().flush(store).await;
    if let Some(analytics) = &state.analytics {
        analytics.flush(store).await;
    }
}
