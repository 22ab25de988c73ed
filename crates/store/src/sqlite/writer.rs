//! The group-commit writer: one thread, one connection, many operations per transaction.
//!
//! It blocks for the first job, then takes whatever else is already queued (up to
//! `MAX_BATCH`), runs them all in one `BEGIN IMMEDIATE … COMMIT`, and only then answers
//! each. Under load batches grow by themselves; when idle a lone job commits at once.
//! A job of several statements must land whole or not at all while the rest of its batch
//! goes on. A savepoint per job would do that, but it copies every page the job touches into
//! SQLite's statement journal; so a batch runs without them, and only when such a job fails
//! midway is the batch rolled back and run again with a savepoint around each job. Answers
//! wait for the WAL's fsync (see `durable`), which runs beside the next batch instead of in
//! front of it.

use crate::{StoreError, StoreEvents};
use rusqlite::{Connection, TransactionBehavior};
use std::{sync::Arc, thread::JoinHandle};
use tokio::sync::{mpsc, oneshot};

/// Bounds a transaction so one commit never holds thousands of requests waiting.
const MAX_BATCH: usize = 512;

/// A unit of work for the writer thread. Its work is a function of the database alone, so
/// that a batch can be run again.
pub(crate) trait Job: Send {
    /// Runs inside the batch's transaction, keeping its result for the answer. Unguarded, a
    /// job of several statements that fails returns `false`: its first statements may have
    /// landed, and the batch must be run again, guarded.
    fn run(&mut self, conn: &Connection, guarded: bool) -> bool;
    /// What answers the caller after the commit.
    fn answer(self: Box<Self>) -> Box<dyn Answer>;
    /// The batch failed: its transaction did not commit.
    fn abort(self: Box<Self>, error: Arc<rusqlite::Error>);
}

/// Answers a job's caller once its committed batch is synced, or is known not to be.
pub(crate) trait Answer: Send {
    fn send(self: Box<Self>, unsynced: Option<&SyncError>);
}

/// Why a committed batch is not durable: its fsync failed.
pub(crate) type SyncError = Arc<std::io::Error>;

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// Where callers hand jobs to the writer thread.
pub(crate) type Jobs = mpsc::UnboundedSender<Box<dyn Job>>;

struct Work<T, F> {
    work: F,
    reply: Reply<T>,
    atomic: bool,
    result: Option<rusqlite::Result<T>>,
}

struct Outcome<T> {
    /// `None` only for a job the batch never ran, which `commit` does not answer this way.
    result: Option<rusqlite::Result<T>>,
    reply: Reply<T>,
}

impl<T, F> Job for Work<T, F>
where
    T: Send + 'static,
    F: Fn(&Connection) -> rusqlite::Result<T> + Send + 'static,
{
    fn run(&mut self, conn: &Connection, guarded: bool) -> bool {
        let result = if self.atomic && guarded {
            savepoint(conn, &self.work)
        } else {
            // A single statement that fails is rolled back alone by SQLite.
            (self.work)(conn)
        };
        let landed_whole = !self.atomic || guarded || result.is_ok();
        self.result = Some(result);
        landed_whole
    }

    fn answer(self: Box<Self>) -> Box<dyn Answer> {
        Box::new(Outcome {
            result: self.result,
            reply: self.reply,
        })
    }

    fn abort(self: Box<Self>, error: Arc<rusqlite::Error>) {
        let _ = self.reply.send(Err(StoreError::Write(error)));
    }
}

fn savepoint<T>(
    conn: &Connection,
    work: impl Fn(&Connection) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    // Cached statements: parsing these three on every job showed in the profile.
    let run = |sql: &str| conn.prepare_cached(sql)?.execute([]).map(drop);
    run("SAVEPOINT job")?;
    let result = work(conn);
    if result.is_err() {
        run("ROLLBACK TO job")?;
    }
    run("RELEASE job")?;
    result
}

impl<T: Send> Answer for Outcome<T> {
    fn send(self: Box<Self>, unsynced: Option<&SyncError>) {
        let answer = match (self.result, unsynced) {
            (None, _) => Err(StoreError::Task("the writer never ran this write".into())),
            (Some(Err(e)), _) => Err(StoreError::Write(Arc::new(e))),
            (Some(Ok(_)), Some(e)) => Err(StoreError::Sync(Arc::clone(e))),
            (Some(Ok(v)), None) => Ok(v),
        };
        let _ = self.reply.send(answer);
    }
}

/// Packs `work` as a job; `atomic` marks several statements that land together or not at all.
pub(crate) fn job<T, F>(
    work: F,
    atomic: bool,
) -> (Box<dyn Job>, oneshot::Receiver<Result<T, StoreError>>)
where
    T: Send + 'static,
    F: Fn(&Connection) -> rusqlite::Result<T> + Send + 'static,
{
    let (reply, answer) = oneshot::channel();
    (
        Box::new(Work {
            work,
            reply,
            atomic,
            result: None,
        }),
        answer,
    )
}

/// Starts the writer thread; an error setting it up (its WAL bound, checkpoint and fsync
/// threads) is the caller's, so a store that could take no writes does not open.
pub(crate) fn spawn(
    conn: Connection,
    wal: std::fs::File,
    max_wal: u64,
    events: Arc<dyn StoreEvents>,
) -> Result<(Jobs, JoinHandle<()>), StoreError> {
    let (tx, rx) = mpsc::unbounded_channel();
    let (ready, started) = std::sync::mpsc::sync_channel(1);
    let handle = std::thread::Builder::new()
        .name("ivrhook-sqlite-writer".into())
        .spawn(move || match Helpers::start(&conn, wal, max_wal, &events) {
            Ok(helpers) => {
                let _ = ready.send(Ok(()));
                run(conn, rx, helpers, events);
            }
            Err(e) => {
                let _ = ready.send(Err(e));
            }
        })
        .map_err(|e| StoreError::Task(format!("starting the writer thread: {e}")))?;
    match started.recv() {
        Ok(Ok(())) => Ok((tx, handle)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(StoreError::Task(
            "the writer thread stopped at start".into(),
        )),
    }
}

/// What the writer works with beside its connection. Made on the writer's thread: the WAL
/// hook that counts frames runs there.
struct Helpers {
    bound: super::wal::Bound,
    checkpointer: Option<super::checkpoint::Checkpointer>,
    syncer: super::durable::Syncer,
}

impl Helpers {
    fn start(
        conn: &Connection,
        wal: std::fs::File,
        max_wal: u64,
        events: &Arc<dyn StoreEvents>,
    ) -> Result<Helpers, StoreError> {
        let restart = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let bound = super::wal::Bound::new(
            conn,
            &wal,
            max_wal,
            Arc::clone(&restart),
            Arc::clone(events),
        )?;
        let checkpointer = match conn.path().filter(|p| !p.is_empty()) {
            Some(p) => Some(super::checkpoint::Checkpointer::start(
                std::path::Path::new(p),
                max_wal,
                restart,
                Arc::clone(events),
            )?),
            None => None,
        };
        // Plans that never depend on bound values: otherwise SQLite prepares a statement
        // again whenever it binds one its plan read (the claim's `LIMIT ?`). The writer's
        // statements pin their indexes, so the values have nothing to choose.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        // Whenever the WAL restarts from its beginning, SQLite cuts the file back to this.
        conn.pragma_update(None, "journal_size_limit", super::wal::idle_size(max_wal))?;
        let syncer = super::durable::Syncer::start(wal)
            .map_err(|e| StoreError::Task(format!("starting the fsync thread: {e}")))?;
        Ok(Helpers {
            bound,
            checkpointer,
            syncer,
        })
    }
}

fn run(
    mut conn: Connection,
    mut rx: mpsc::UnboundedReceiver<Box<dyn Job>>,
    helpers: Helpers,
    events: Arc<dyn StoreEvents>,
) {
    let Helpers {
        mut bound,
        checkpointer,
        syncer,
    } = helpers;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        let (frames, limit) = bound.before_batch(&conn, MAX_BATCH);
        batch.push(first);
        while batch.len() < limit {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let size = batch.len();
        if let Some(answers) = commit(&mut conn, &mut batch) {
            syncer.after_next_sync(answers);
        }
        bound.after_batch(frames, size);
        events.batch(size);
    }
    syncer.finish();
    if let Some(c) = checkpointer {
        c.finish();
    }
    tracing::debug!("store writer stopped: every queued write is committed and synced");
}

/// Runs and commits a batch. On success returns the answers, to be sent once the WAL is
/// synced; on failure answers everyone with the error at once.
fn commit(conn: &mut Connection, jobs: &mut Vec<Box<dyn Job>>) -> Option<Vec<Box<dyn Answer>>> {
    let outcome = run_batch(conn, jobs, false).and_then(|whole| match whole {
        true => Ok(()),
        false => run_batch(conn, jobs, true).map(drop),
    });
    let Err(e) = outcome else {
        return Some(jobs.drain(..).map(|job| job.answer()).collect());
    };
    let e = Arc::new(e);
    tracing::error!(error = %e, "write batch failed; every request in it is answered with an error");
    for job in jobs.drain(..) {
        job.abort(Arc::clone(&e));
    }
    None
}

/// Runs every job in one transaction and commits it; or, when an unguarded job failed midway,
/// rolls the transaction back and returns `false`.
fn run_batch(
    conn: &mut Connection,
    jobs: &mut [Box<dyn Job>],
    guarded: bool,
) -> rusqlite::Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for job in jobs.iter_mut() {
        if !job.run(&tx, guarded) {
            tx.rollback()?;
            return Ok(false);
        }
    }
    tx.commit()?;
    Ok(true)
}
