//! The embedded SQLite backend.
//!
//! One writer thread owns the only write connection and commits many operations per
//! transaction (group commit): each caller is answered after the commit that holds its
//! work, so durability costs one fsync per batch, not per request. Reads go through a small
//! pool of read-only connections on blocking threads; WAL mode lets them run beside the writer.
//! A lock file next to the database keeps a second process off it, which is what makes
//! clearing leases at start-up safe.
//!
//! - `schema`: connection settings and versioned migrations.
//! - `writer`: the group-commit writer thread and its jobs.
//! - `durable`: the fsync thread that makes each batch durable before it is answered.
//! - `checkpoint`: WAL checkpoints on a thread of their own, off the write path.
//! - `wal`: the WAL's bound, kept by the writer between batches.
//! - `read`: the read pool.
//! - `reports`, `outbox`, `outbox_read`, `recordings`, `activity`: the SQL.
//! - `store_impl`: `Store` for `SqliteStore`, each method a job for the writer or a read.

mod activity;
mod analytics;
mod backup;
mod checkpoint;
mod deadlines;
mod durable;
mod lock;
mod outbox;
mod outbox_read;
mod paused;
mod prune;
mod read;
mod recordings;
mod reports;
mod schema;
mod store_impl;
#[cfg(test)]
mod upgrade_tests;
mod wal;
mod writer;
#[cfg(test)]
mod writer_tests;

use crate::{
    activity::Count,
    deadlines::{CallDeadline, Settle},
    outbox::{
        AttemptRecord, AttemptRow, ClaimRequest, Claimed, DeliveryFilter, DeliveryRow,
        DestinationCount, DueSummary, Lane, NewEvent, OutboundRow, Recorded, RetryRange, Submitted,
    },
    recordings::{KeptRecording, OldCursor},
    retention::{PruneRequest, PruneStep},
    Consumer, Inserted, Migrations, NewReport, OpenOptions, Store, StoreError, StoreEvents,
    StoredReport,
};
use async_trait::async_trait;
pub use backup::{backup_file, Copied};
use ivrhook_protocol::{AppId, CallId};
use lock::LockFile;
use rusqlite::Connection;
use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    thread::JoinHandle,
};
pub use wal::DEFAULT_MAX_WAL;
use writer::Job;

/// The embedded backend: one writer thread with group commit, a pool of readers.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    writes: Mutex<Option<writer::Jobs>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Arc<read::Readers>,
    /// Held (locked) for the store's lifetime.
    lock: Mutex<Option<LockFile>>,
    /// See [`SqliteStore::with_waits_visible_to_tokio`].
    visible_waits: bool,
}

impl std::fmt::Debug for dyn Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the file. Blocking: call off the runtime.
    pub fn open(path: &Path, events: Option<Arc<dyn StoreEvents>>) -> Result<Self, StoreError> {
        Self::open_with(path, events, OpenOptions::default())
    }

    /// Opens the file, applying pending migrations or (`Migrations::Require`) refusing a file
    /// that has any. Blocking: call off the runtime.
    pub fn open_with(
        path: &Path,
        events: Option<Arc<dyn StoreEvents>>,
        options: OpenOptions,
    ) -> Result<Self, StoreError> {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        if let Some(dir) = path.parent().filter(|d| !d.is_dir()) {
            return Err(StoreError::NoDirectory {
                dir: dir.to_owned(),
                path,
            });
        }
        let lock = LockFile::take(&path)?;
        let conn = schema::connect(&path)?;
        match options.migrations {
            Migrations::Apply => drop(schema::migrate(&conn)?),
            Migrations::Require => schema::require_current(&conn)?,
        }
        let wal = schema::wal_file(&path)?;
        let events = events.unwrap_or_else(|| Arc::new(crate::NoEvents));
        let (tx, handle) = writer::spawn(conn, wal, options.max_wal, events)?;
        Ok(SqliteStore {
            readers: Arc::new(read::Readers::new(path.clone())),
            path,
            writes: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(handle)),
            lock: Mutex::new(Some(lock)),
            visible_waits: false,
        })
    }

    /// Reads only, beside a server that may be using the file (WAL readers need no lock):
    /// every write fails with `StoreError::Closed`.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        if !path.exists() {
            return Err(StoreError::Open {
                path: path.clone(),
                source: rusqlite::Error::InvalidPath(path),
            });
        }
        Ok(SqliteStore {
            readers: Arc::new(read::Readers::new(path.clone())),
            path,
            writes: Mutex::new(None),
            writer: Mutex::new(None),
            lock: Mutex::new(None),
            visible_waits: false,
        })
    }

    /// For tests that pause tokio's clock: each wait for the writer thread (which tokio cannot
    /// see) runs on tokio's blocking pool, so the paused clock does not jump ahead while a
    /// commit is in progress. Costs a thread hand-off per write; never used by the product.
    pub fn with_waits_visible_to_tokio(mut self) -> Self {
        self.visible_waits = true;
        self
    }

    /// Runs `work` on the writer thread, in the next batch; resolves after its commit.
    async fn write<T, F>(&self, atomic: bool, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (job, answer) = writer::job(work, atomic);
        {
            let writes = self.writes.lock().map_err(|_| StoreError::Closed)?;
            let sender = writes.as_ref().ok_or(StoreError::Closed)?;
            sender.send(job).map_err(|_| StoreError::Closed)?;
        }
        let answer = if self.visible_waits {
            tokio::task::spawn_blocking(move || answer.blocking_recv())
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?
        } else {
            answer.await
        };
        answer.map_err(|_| StoreError::Closed)?
    }

    async fn read<T, F>(&self, query: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.readers.run(query).await
    }
}

/// Migrates the file without serving it (for `ivrhook migrate`); holds the lock file
/// meanwhile, so it cannot run beside a server on the same file.
pub fn migrate_file(path: &Path) -> Result<Vec<i64>, StoreError> {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let lock = LockFile::take(&path)?;
    let applied = schema::migrate(&schema::connect(&path)?);
    lock.release();
    applied
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
