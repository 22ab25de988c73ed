//! The report feed: every stored report, in id order, for the business's own systems to
//! follow (long polls, named consumers, the event stream). A waiter sleeps until a report is
//! committed, on this node (`bump`, after its insert) or on another sharing the database
//! (PostgreSQL's NOTIFY, followed from the first wait on: a node nobody follows keeps no
//! listening connection for it), or until its wait runs out.

use crate::state::AppState;
use ivrhook_store::{StoreError, StoredReport};
use prometheus_client::metrics::gauge::Gauge;
use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};
use tokio::sync::{broadcast, watch};

/// The longest a long poll may wait.
pub const MAX_WAIT: Duration = Duration::from_secs(300);

#[derive(Debug)]
pub struct Feed {
    /// Bumped each time reports are committed.
    changed: Arc<watch::Sender<u64>>,
    /// Requests waiting for a report now (long polls, event streams).
    waiting: Gauge,
    /// Whether other nodes' reports are followed yet (`follow`).
    following: AtomicBool,
}

/// Counts a waiter while it lives.
struct Waiting<'a>(&'a Gauge);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Feed {
    pub fn new(waiting: Gauge) -> Feed {
        Feed {
            changed: Arc::new(watch::channel(0).0),
            waiting,
            following: AtomicBool::new(false),
        }
    }

    /// New reports are committed.
    pub fn bump(&self) {
        bump(&self.changed);
    }

    /// From now on, bumps the feed for every report another node announces (once; nothing
    /// to follow for a store no other process writes to).
    fn follow_others(&self, st: &AppState) {
        if self.following.swap(true, Ordering::AcqRel) {
            return;
        }
        let Some(mut announced) = st.store.new_reports() else {
            return;
        };
        let (changed, stop) = (Arc::clone(&self.changed), st.stopping.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    r = announced.recv() => match r {
                        Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => bump(&changed),
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                    () = stop.cancelled() => return,
                }
            }
        });
    }

    /// Reports after `after` (at most `limit`), waiting up to `wait` for the first to be
    /// committed when there is none yet (less when the server is stopping).
    pub async fn wait_after(
        &self,
        st: &AppState,
        after: i64,
        limit: u32,
        wait: Duration,
    ) -> Result<Vec<StoredReport>, StoreError> {
        let deadline = tokio::time::Instant::now() + wait;
        if !wait.is_zero() {
            self.follow_others(st);
        }
        // Subscribed before each read, so a commit between the read and the wait is seen.
        let mut changed = self.changed.subscribe();
        loop {
            let reports = st.store.reports_after(after, limit).await?;
            if !reports.is_empty() || wait.is_zero() {
                return Ok(reports);
            }
            self.waiting.inc();
            let _waiting = Waiting(&self.waiting);
            tokio::select! {
                r = changed.changed() => if r.is_err() { return Ok(reports) },
                () = tokio::time::sleep_until(deadline) => return Ok(reports),
                () = st.stopping.cancelled() => return Ok(reports),
            }
        }
    }
}

fn bump(changed: &watch::Sender<u64>) {
    changed.send_modify(|n| *n = n.wrapping_add(1));
}

/// Sets each named consumer's lag gauges from the store (at a scrape of `/metrics`).
pub async fn measure_consumers(st: &AppState) {
    let consumers = match st.store.consumers().await {
        Ok(c) => c,
        Err(e) => return tracing::warn!(error = ?e, "metrics: could not read the consumers"),
    };
    let now = chrono::Utc::now().timestamp_millis();
    for c in consumers {
        match st.store.reports_behind(c.cursor).await {
            Ok((behind, first)) => {
                let age = first.map_or(0, |at| now - at);
                st.metrics.consumer(&c.name, behind, age);
            }
            Err(e) => {
                tracing::warn!(error = ?e, consumer = %c.name, "metrics: could not measure a consumer")
            }
        }
    }
}
