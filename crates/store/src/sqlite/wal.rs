//! The WAL's bound. Passive checkpoints (`checkpoint`) copy frames beside the writer but
//! cannot restart the WAL while the writer keeps appending, so under sustained load the file
//! would grow for as long as the load lasts. Before each batch the writer looks at the file's
//! size; past the budget's trigger it checkpoints with `TRUNCATE` itself, between batches,
//! which empties the file. Requests wait meanwhile, the receiver's queue fills, and past
//! `queue_capacity` it answers `108102`: the platform's signal to slow down.

use crate::{CheckpointMode, StoreEvents};
use rusqlite::Connection;
use std::{
    fs::File,
    time::{Duration, Instant},
};

/// `[sqlite] max_wal`'s default.
pub const DEFAULT_MAX_WAL: u64 = 128 << 20;

/// The WAL left once writes stop: a quarter of the bound, at most 16 MiB. Larger, it is
/// emptied; this much the next writes reuse without growing the file.
pub(crate) fn idle_size(max_wal: u64) -> u64 {
    (max_wal / 4).min(16 << 20)
}

/// How much room the WAL has for the next batch, learnt from the batches seen.
#[derive(Debug, Clone)]
pub(crate) struct WalBudget {
    max: u64,
    /// The most one job has grown the file lately, averaged over its batch (decays, so an
    /// outlier is forgotten over a few hundred batches).
    per_job: u64,
}

impl WalBudget {
    /// What a job is assumed to take at least: a table page and an index page, with room.
    const PER_JOB_FLOOR: u64 = 8 << 10;

    pub fn new(max: u64) -> WalBudget {
        WalBudget { max, per_job: 0 }
    }

    fn per_job(&self) -> u64 {
        self.per_job.max(Self::PER_JOB_FLOOR)
    }

    /// Past half the bound the writer tries to empty the WAL between batches.
    pub fn wants_checkpoint(&self, size: u64) -> bool {
        size >= self.max / 2
    }

    /// Jobs the next batch may take with the WAL at `size`: as many as fit in the room left
    /// at twice what a job has taken lately. Zero: nothing may be written before a
    /// checkpoint empties the file.
    pub fn batch_limit(&self, size: u64, max_batch: usize) -> usize {
        let room = self.max.saturating_sub(size);
        let fits = room / (2 * self.per_job());
        usize::try_from(fits).map_or(max_batch, |n| n.min(max_batch))
    }

    /// A batch of `jobs` grew the file from `before` to `after` bytes.
    pub fn grew(&mut self, before: u64, after: u64, jobs: usize) {
        let decayed = self.per_job - self.per_job / 256;
        let each = after.saturating_sub(before) / jobs.max(1) as u64;
        self.per_job = decayed.max(each);
    }
}

/// A checkpoint tried between batches below the bound waits this long at most for a reader
/// or a passive checkpoint, so that requests are not held for long; after one that did not
/// finish, batches go on for `SOFT_PAUSE` before the next try.
const SOFT_WAIT: Duration = Duration::from_millis(100);
const SOFT_PAUSE: Duration = Duration::from_secs(1);
/// A checkpoint the bound needs waits this long for readers, then tries again.
const HARD_WAIT: Duration = Duration::from_secs(5);

/// What the writer needs to keep the WAL within its bound.
pub(crate) struct Bound {
    wal: File,
    budget: WalBudget,
    events: std::sync::Arc<dyn StoreEvents>,
    waits: WaitLog,
    soft_failed_at: Option<Instant>,
}

impl Bound {
    pub fn new(wal: File, max: u64, events: std::sync::Arc<dyn StoreEvents>) -> Bound {
        Bound {
            wal,
            budget: WalBudget::new(max),
            events,
            waits: WaitLog::default(),
            soft_failed_at: None,
        }
    }

    pub fn size(&self) -> u64 {
        self.wal.metadata().map_or(0, |m| m.len())
    }

    pub fn max(&self) -> u64 {
        self.budget.max
    }

    pub fn grew(&mut self, before: u64, after: u64, jobs: usize) {
        self.budget.grew(before, after, jobs);
        self.events.wal_bytes(after);
    }

    /// Before a batch: past half the bound, try to empty the WAL; when not even one job fits,
    /// wait until it is empty (a reader on an old snapshot can hold it for a while). Returns
    /// the WAL's size and how many jobs the batch may take.
    pub fn before_batch(&mut self, conn: &Connection, max_batch: usize) -> (u64, usize) {
        let size = self.size();
        let limit = self.budget.batch_limit(size, max_batch);
        let paused = (self.soft_failed_at).is_some_and(|at| at.elapsed() < SOFT_PAUSE);
        if !self.budget.wants_checkpoint(size) || (paused && limit > 0) {
            return (size, limit);
        }
        let started = Instant::now();
        let mut emptied = limit > 0 && truncate(conn, SOFT_WAIT);
        self.soft_failed_at = (!emptied).then(Instant::now);
        while !emptied && self.budget.batch_limit(self.size(), max_batch) == 0 {
            emptied = truncate(conn, HARD_WAIT);
        }
        let size = self.size();
        if emptied {
            let held = started.elapsed();
            self.events.checkpoint(CheckpointMode::Truncate, held);
            self.events.wal_bytes(size);
            self.waits.waited(held, self.budget.max);
        }
        (size, self.budget.batch_limit(size, max_batch).max(1))
    }
}

/// A `TRUNCATE` checkpoint: every frame copied, the file emptied. False when a reader or
/// another checkpoint kept it from finishing within `wait`.
pub(crate) fn truncate(conn: &Connection, wait: Duration) -> bool {
    let run = || {
        conn.busy_timeout(wait)?;
        let busy = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            r.get::<_, i64>(0)
        });
        conn.busy_timeout(super::schema::BUSY_TIMEOUT)?;
        busy
    };
    match run() {
        Ok(busy) => busy == 0,
        Err(e) => {
            tracing::warn!(error = %e, "WAL checkpoint (TRUNCATE) failed; will try again");
            false
        }
    }
}

/// The writer's waits for checkpoints: the first is logged, then at most one line a minute
/// with what the waits since added up to.
#[derive(Debug, Default)]
struct WaitLog {
    logged_at: Option<Instant>,
    count: u32,
    total: Duration,
}

impl WaitLog {
    const EVERY: Duration = Duration::from_secs(60);

    fn waited(&mut self, held: Duration, max: u64) {
        self.count += 1;
        self.total += held;
        if self.logged_at.is_some_and(|at| at.elapsed() < Self::EVERY) {
            return;
        }
        tracing::info!(
            checkpoints = self.count,
            waited_ms = self.total.as_millis() as u64,
            max_wal = max,
            "the writer waited for WAL checkpoints to keep the WAL within sqlite.max_wal: \
             writes arrive faster than checkpoints beside the writer copy them"
        );
        *self = WaitLog {
            logged_at: Some(Instant::now()),
            ..WaitLog::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_takes_what_fits_at_twice_the_largest_job_lately() {
        let mut b = WalBudget::new(16 << 20);
        assert_eq!(
            b.batch_limit(0, 512),
            512,
            "room for 1024 jobs at the floor"
        );
        assert_eq!(b.batch_limit(12 << 20, 512), 256);
        assert_eq!(b.batch_limit((16 << 20) - (16 << 10), 512), 1);
        assert_eq!(b.batch_limit((16 << 20) - 1000, 512), 0);
        // Batches of 100 jobs that took 64 KiB each.
        b.grew(0, 6_400 << 10, 100);
        assert_eq!(b.batch_limit(8 << 20, 512), 64);
        assert_eq!(b.batch_limit(16 << 20, 512), 0);
    }

    #[test]
    fn the_largest_job_is_forgotten_over_hundreds_of_batches() {
        let mut b = WalBudget::new(128 << 20);
        b.grew(0, 64 << 10, 1);
        for _ in 0..100 {
            b.grew(0, 0, 1);
        }
        assert!(b.per_job > 40 << 10, "{}", b.per_job);
        for _ in 0..2000 {
            b.grew(0, 0, 1);
        }
        assert_eq!(b.per_job(), WalBudget::PER_JOB_FLOOR);
    }

    #[test]
    fn checkpoints_start_at_half_the_bound() {
        let b = WalBudget::new(16 << 20);
        assert!(!b.wants_checkpoint((8 << 20) - 1));
        assert!(b.wants_checkpoint(8 << 20));
    }
}
