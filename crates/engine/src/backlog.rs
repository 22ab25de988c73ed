//! Each destination's backlog (its pending deliveries), as this node knows it: the store's
//! count, read every second or so by [`Engine::watch_backlogs`], plus what this node added and
//! finished since. On one node that is exact; with several sharing PostgreSQL, the others'
//! work shows at the next count. The same count feeds the per-destination gauges.

use crate::{Engine, Inner};
use ivrhook_store::outbox::DeliveryState;
use std::{
    sync::atomic::{AtomicI64, Ordering},
    time::{Duration, Instant},
};
use tokio_util::sync::CancellationToken;

/// The shortest and longest wait between counts; a slow count (a large backlog) waits ten
/// times as long as it took, so counting never takes more than a tenth of the database.
const MIN_INTERVAL: Duration = Duration::from_secs(1);
const MAX_INTERVAL: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
pub(crate) struct Backlog {
    pending: AtomicI64,
    /// Every change this node made, ever: a count keeps those made while it was read.
    changes: AtomicI64,
}

impl Backlog {
    pub fn pending(&self) -> i64 {
        self.pending.load(Ordering::Relaxed)
    }

    /// `n` deliveries added (or, negative, finished) by this node.
    pub fn change(&self, n: i64) {
        self.changes.fetch_add(n, Ordering::Relaxed);
        self.pending.fetch_add(n, Ordering::Relaxed);
    }

    /// Takes the store's count, read after `changes_before` was: changes made while it was
    /// read may be in it or not, and are kept (a backlog counted high for a second is safer
    /// than one counted low).
    fn counted(&self, count: i64, changes_before: i64) {
        let since = self.changes.load(Ordering::Relaxed) - changes_before;
        self.pending.store(count + since.max(0), Ordering::Relaxed);
    }
}

impl Engine {
    /// Counts every destination's deliveries now and then until `shutdown`: the backlogs the
    /// receiver's backpressure reads, and the per-destination gauges.
    pub async fn watch_backlogs(&self, shutdown: CancellationToken) {
        loop {
            let started = Instant::now();
            count(&self.inner).await;
            let wait = (started.elapsed() * 10).clamp(MIN_INTERVAL, MAX_INTERVAL);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = shutdown.cancelled() => return,
            }
        }
    }
}

async fn count(inner: &Inner) {
    let before: Vec<i64> = inner
        .destinations
        .iter()
        .map(|d| d.backlog.changes.load(Ordering::Relaxed))
        .collect();
    let counts = match inner.store.delivery_counts().await {
        Ok(c) => c,
        Err(e) => return tracing::warn!(error = ?e, "could not count deliveries; will try again"),
    };
    let now = inner.clock.now_ms();
    for (dest, before) in inner.destinations.iter().zip(before) {
        let of = |state| {
            counts
                .iter()
                .find(|c| c.destination == dest.name() && c.state == state)
        };
        let pending = of(DeliveryState::Pending);
        dest.backlog.counted(pending.map_or(0, |c| c.count), before);
        let oldest = pending.map_or(0, |c| now - c.oldest_created_at_ms);
        let dead = of(DeliveryState::Dead).map_or(0, |c| c.count);
        dest.metrics.counted(dest.backlog.pending(), dead, oldest);
        if dest.name() == crate::recordings::RECORDINGS {
            (inner.metrics.recordings).counted(dest.backlog.pending(), dead, oldest);
        }
        let pending = dest.backlog.pending().max(0) as u64;
        inner.alerter.backlog(dest, pending, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_keeps_the_changes_made_while_it_was_read() {
        let b = Backlog::default();
        b.change(3);
        let before = b.changes.load(Ordering::Relaxed);
        b.change(2); // committed while the count ran: maybe in it, maybe not
        b.counted(4, before);
        assert_eq!(b.pending(), 6, "counted high rather than low");
        let before = b.changes.load(Ordering::Relaxed);
        b.counted(1, before);
        assert_eq!(
            b.pending(),
            1,
            "the store's count wins once nothing changed"
        );
        b.change(-1);
        assert_eq!(b.pending(), 0);
    }
}
