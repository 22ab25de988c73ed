//! The group-commit writer: one thread, one connection, many operations per transaction.
//!
//! It blocks for the first job, then takes whatever else is already queued (up to
//! `MAX_BATCH`), runs them all in one `BEGIN IMMEDIATE … COMMIT`, and only then answers
//! each. Under load batches grow by themselves; when idle a lone job commits at once.
//! A job of several statements runs inside a savepoint, so it lands whole or not at all
//! while the rest of its batch goes on. Answers wait for the WAL's fsync (see `durable`),
//! which runs beside the next batch instead of in front of it.

use crate::{StoreError, StoreEvents};
use rusqlite::{Connection, TransactionBehavior};
use std::{sync::Arc, thread::JoinHandle};
use tokio::sync::{mpsc, oneshot};

/// Bounds a transaction so one commit never holds thousands of requests waiting.
const MAX_BATCH: usize = 512;

/// A unit of work for the writer thread.
pub(crate) trait Job: Send {
    /// Runs inside the batch's transaction; returns what answers the caller after the commit.
    fn run(self: Box<Self>, conn: &Connection) -> Box<dyn Answer>;
    /// The batch failed before this job ran.
    fn abort(self: Box<Self>, error: Arc<rusqlite::Error>);
}

/// Answers a job's caller once the batch's fate is known.
pub(crate) trait Answer: Send {
    fn send(self: Box<Self>, batch_error: Option<&BatchError>);
}

/// Why a whole batch failed: its transaction, or the fsync that makes it durable.
#[derive(Debug, Clone)]
pub(crate) enum BatchError {
    Sql(Arc<rusqlite::Error>),
    Sync(Arc<std::io::Error>),
}

impl BatchError {
    fn to_store_error(&self) -> StoreError {
        match self {
            BatchError::Sql(e) => StoreError::Write(Arc::clone(e)),
            BatchError::Sync(e) => StoreError::Sync(Arc::clone(e)),
        }
    }
}

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// Where callers hand jobs to the writer thread.
pub(crate) type Jobs = mpsc::UnboundedSender<Box<dyn Job>>;

struct Work<T, F> {
    work: F,
    reply: Reply<T>,
    atomic: bool,
}

struct Outcome<T> {
    result: rusqlite::Result<T>,
    reply: Reply<T>,
}

impl<T, F> Job for Work<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> Box<dyn Answer> {
        let result = if self.atomic {
            savepoint(conn, self.work)
        } else {
            // A single statement that fails is rolled back alone by SQLite.
            (self.work)(conn)
        };
        Box::new(Outcome {
            result,
            reply: self.reply,
        })
    }

    fn abort(self: Box<Self>, error: Arc<rusqlite::Error>) {
        let _ = self.reply.send(Err(StoreError::Write(error)));
    }
}

fn savepoint<T>(
    conn: &Connection,
    work: impl FnOnce(&Connection) -> rusqlite::Result<T>,
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
    fn send(self: Box<Self>, batch_error: Option<&BatchError>) {
        let answer = match (self.result, batch_error) {
            (Err(e), _) => Err(StoreError::Write(Arc::new(e))),
            (Ok(_), Some(e)) => Err(e.to_store_error()),
            (Ok(v), None) => Ok(v),
        };
        let _ = self.reply.send(answer);
    }
}

/// Packs `work` as a job; `atomic` wraps it in a savepoint (for several statements).
pub(crate) fn job<T, F>(
    work: F,
    atomic: bool,
) -> (Box<dyn Job>, oneshot::Receiver<Result<T, StoreError>>)
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
{
    let (reply, answer) = oneshot::channel();
    (
        Box::new(Work {
            work,
            reply,
            atomic,
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
    let mut answers = Vec::with_capacity(jobs.len());
    let outcome = (|| {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for job in jobs.drain(..) {
            answers.push(job.run(&tx));
        }
        tx.commit()
    })();
    let Err(e) = outcome else {
        return Some(answers);
    };
    let e = Arc::new(e);
    tracing::error!(error = %e, "write batch failed; every request in it is answered with an error");
    // Jobs the transaction never reached (it failed to begin) share the batch's error.
    for job in jobs.drain(..) {
        job.abort(Arc::clone(&e));
    }
    let failed = BatchError::Sql(e);
    for answer in answers {
        answer.send(Some(&failed));
    }
    None
}
