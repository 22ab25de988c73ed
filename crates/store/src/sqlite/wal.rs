//! The WAL's bound. Passive checkpoints (`checkpoint`) copy frames beside the writer but
//! cannot restart the WAL while the writer keeps appending, so under sustained load the file
//! would grow for as long as the load lasts. SQLite tells the writer after each commit how many
//! frames the WAL holds (`wal_hook`), and it sizes each batch to the room left. Past half the
//! bound the checkpoint thread asks for a restart right after a passive checkpoint, when little
//! is left to copy, and the writer restarts the WAL between two batches (the checkpoint thread
//! would have to catch the writer between transactions), so that the next commit writes from
//! the file's start; a reader on an older snapshot makes it give up after about 50 ms and wait
//! a second before the next try. When not even one job fits, the writer restarts the WAL and
//! waits for that however long it takes: requests wait meanwhile, the receiver's queue fills,
//! and past `queue_capacity` it answers `108102`: the platform's signal to slow down.

use crate::{CheckpointMode, StoreEvents};
use rusqlite::{hooks::Wal, Connection};
use std::{
    cell::Cell,
    fs::File,
    os::raw::c_int,
    sync::atomic::{AtomicBool, Ordering},
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

    /// Jobs the next batch may take with `size` bytes of the WAL in use: as many as fit in
    /// the room left, less a sixteenth of the bound kept in reserve, at twice what a job has
    /// taken lately. Zero: nothing may be written before a checkpoint restarts the WAL.
    pub fn batch_limit(&self, size: u64, max_batch: usize) -> usize {
        let room = (self.max - self.max / 16).saturating_sub(size);
        let fits = room / (2 * self.per_job());
        usize::try_from(fits).map_or(max_batch, |n| n.min(max_batch))
    }

    /// A batch of `jobs` wrote `bytes` to the WAL.
    pub fn wrote(&mut self, bytes: u64, jobs: usize) {
        let decayed = self.per_job - self.per_job / 256;
        self.per_job = decayed.max(bytes / jobs.max(1) as u64);
    }
}

/// Past this many bytes of WAL in use the checkpoint thread asks the writer to restart it.
pub(crate) fn restart_at(max_wal: u64) -> u64 {
    max_wal / 2
}

/// The writer's wait for a lock: short sleeps, so that it goes on as soon as a checkpoint
/// lets go (SQLite's own handler sleeps up to 100 ms at a time), for `SPINS` of them.
fn spin(count: c_int) -> bool {
    std::thread::sleep(Duration::from_micros(100));
    count < SPINS.get()
}

/// About five seconds of the writer's short sleeps: for its transactions, and for a restart
/// the bound needs.
const LONG_WAIT: c_int = 40_000;
/// A restart asked for below the bound waits about 50 ms for readers at most; after one that
/// did not finish, the writer ignores the asks for `SOFT_PAUSE`, so that a long reader (a
/// backup) costs it a try a second rather than one after every passive checkpoint.
const SOFT_WAIT: c_int = 500;
const SOFT_PAUSE: Duration = Duration::from_secs(1);

thread_local! {
    /// How many short sleeps the writer's busy handler takes before giving up.
    static SPINS: Cell<c_int> = const { Cell::new(LONG_WAIT) };
    /// Frames in the WAL after the writer's last commit (the hook runs on the writer thread).
    static FRAMES: Cell<u64> = const { Cell::new(0) };
}

fn note_frames(_: &Wal, frames: c_int) -> rusqlite::Result<()> {
    FRAMES.set(u64::try_from(frames).unwrap_or(0));
    Ok(())
}

/// What the writer needs to keep the WAL within its bound. Lives on the writer thread.
pub(crate) struct Bound {
    wal: File,
    /// A frame's bytes in the WAL: a page and its header.
    frame: u64,
    budget: WalBudget,
    events: std::sync::Arc<dyn StoreEvents>,
    waits: WaitLog,
    /// Set by the checkpoint thread when a restart would find little left to copy.
    restart: std::sync::Arc<AtomicBool>,
    soft_failed_at: Option<Instant>,
    /// Until when a restart leaves the file at its size (`keep_size`).
    size_kept_until: Option<Instant>,
}

impl Bound {
    /// Takes over `conn`'s WAL hook (which also turns SQLite's own auto-checkpoints off).
    pub fn new(
        conn: &Connection,
        wal: &File,
        max: u64,
        restart: std::sync::Arc<AtomicBool>,
        events: std::sync::Arc<dyn StoreEvents>,
    ) -> Result<Bound, crate::StoreError> {
        let wal = wal
            .try_clone()
            .map_err(|e| crate::StoreError::Task(format!("opening the WAL for its bound: {e}")))?;
        let page: u64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        conn.wal_hook(Some(note_frames));
        conn.busy_handler(Some(spin))?;
        let frame = page + 24;
        let size = wal.metadata().map_or(0, |m| m.len());
        FRAMES.set(size.saturating_sub(32) / frame);
        Ok(Bound {
            wal,
            frame,
            budget: WalBudget::new(max),
            events,
            waits: WaitLog::default(),
            restart,
            soft_failed_at: None,
            size_kept_until: None,
        })
    }

    /// Bytes of the WAL its frames take (the file may be longer, left from before a restart).
    fn in_use(&self) -> u64 {
        match FRAMES.get() {
            0 => 0,
            frames => 32 + frames * self.frame,
        }
    }

    /// After a batch of `jobs` that began with `frames_before` frames in the WAL.
    pub fn after_batch(&mut self, frames_before: u64, jobs: usize) {
        let after = FRAMES.get();
        // Fewer frames than before: the commit restarted the WAL from its beginning.
        let frames = after.checked_sub(frames_before).unwrap_or(after);
        let bytes = frames * self.frame;
        self.budget.wrote(bytes, jobs);
        self.events.wal_written(bytes);
        self.events
            .wal_bytes(self.wal.metadata().map_or(0, |m| m.len()));
    }

    /// Before a batch: restart the WAL when the checkpoint thread asks, or when not even one
    /// job fits (then waiting until that is done: a reader on an old snapshot can hold it for
    /// a while). Returns the frames in the WAL and how many jobs the batch may take.
    pub fn before_batch(&mut self, conn: &Connection, max_batch: usize) -> (u64, usize) {
        let limit = self.budget.batch_limit(self.in_use(), max_batch);
        let paused = (self.soft_failed_at).is_some_and(|at| at.elapsed() < SOFT_PAUSE);
        let asked = self.restart.load(Ordering::Relaxed);
        if (self.size_kept_until).is_some_and(|until| Instant::now() >= until) {
            self.keep_size(conn, false);
        }
        if limit > 0 && (!asked || paused) {
            if asked {
                self.restart.store(false, Ordering::Relaxed);
            }
            return (FRAMES.get(), limit);
        }
        let started = Instant::now();
        SPINS.set(if limit > 0 { SOFT_WAIT } else { LONG_WAIT });
        let mut restarted = checkpoint(conn, "RESTART", None);
        SPINS.set(LONG_WAIT);
        while !restarted && limit == 0 {
            std::thread::sleep(Duration::from_millis(10));
            restarted = checkpoint(conn, "RESTART", None);
        }
        self.restart.store(false, Ordering::Relaxed);
        self.soft_failed_at = (!restarted).then(Instant::now);
        if !restarted {
            return (FRAMES.get(), limit);
        }
        FRAMES.set(0);
        self.keep_size(conn, true);
        let held = started.elapsed();
        self.events.checkpoint(CheckpointMode::Restart, held);
        if limit == 0 {
            self.waits.waited(held, self.budget.max);
        }
        (0, self.budget.batch_limit(0, max_batch))
    }

    /// While the writer restarts the WAL for the bound (sustained load), a restart leaves the
    /// file at its size: the next commits overwrite blocks already allocated, so neither
    /// their writes nor the fsyncs after them change the file's size. `KEEP_SIZE` after the
    /// last such restart, a restart cuts the file back to `idle_size` again (and once writes
    /// stop, the checkpoint thread empties it).
    fn keep_size(&mut self, conn: &Connection, keep: bool) {
        let limit = if keep {
            self.budget.max
        } else {
            idle_size(self.budget.max)
        };
        if keep != self.size_kept_until.is_some() {
            if let Err(e) = conn.pragma_update(None, "journal_size_limit", limit) {
                tracing::warn!(error = %e, "setting the WAL's size limit failed");
            }
        }
        self.size_kept_until = keep.then(|| Instant::now() + KEEP_SIZE);
    }
}

/// How long after the writer's last restart for the bound the WAL keeps its size.
const KEEP_SIZE: Duration = Duration::from_secs(5);

/// A checkpoint in `mode` (`RESTART` or `TRUNCATE`) that copies every frame and lets the next
/// commit write from the WAL's start (`TRUNCATE` also empties the file). False when a reader
/// or another checkpoint kept it from finishing within `wait` (`None`: the connection's own
/// busy handler decides).
pub(crate) fn checkpoint(conn: &Connection, mode: &str, wait: Option<Duration>) -> bool {
    let run = || {
        if let Some(wait) = wait {
            conn.busy_timeout(wait)?;
        }
        let sql = format!("PRAGMA wal_checkpoint({mode})");
        let busy = conn.query_row(&sql, [], |r| r.get::<_, i64>(0));
        if wait.is_some() {
            conn.busy_timeout(super::schema::BUSY_TIMEOUT)?;
        }
        busy
    };
    match run() {
        Ok(busy) => busy == 0,
        Err(e) => {
            tracing::warn!(error = %e, mode, "WAL checkpoint failed; will try again");
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
#[path = "wal_tests.rs"]
mod tests;
