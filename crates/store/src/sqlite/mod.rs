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
//! - `reports`, `outbox`, `outbox_read`: the SQL.

mod backup;
mod checkpoint;
mod durable;
mod lock;
mod outbox;
mod outbox_read;
mod prune;
mod read;
mod reports;
mod schema;
#[cfg(test)]
mod upgrade_tests;
mod wal;
mod writer;
#[cfg(test)]
mod writer_tests;

use crate::{
    outbox::{
        AttemptRecord, AttemptRow, ClaimRequest, Claimed, DeliveryFilter, DeliveryRow,
        DestinationCount, DueSummary, Lane, NewEvent, OutboundRow, Recorded, Submitted,
    },
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

#[async_trait]
impl Store for SqliteStore {
    async fn insert_report(&self, report: NewReport) -> Result<Inserted, StoreError> {
        // With forwards a report is several statements: all of them or none.
        let atomic = !report.forwards.is_empty();
        self.write(atomic, move |c| reports::insert(c, &report))
            .await
    }

    async fn register_call(&self, app: &AppId, call: &CallId) -> Result<bool, StoreError> {
        let (app, call, at) = (app.to_string(), call.to_string(), now_ms());
        self.write(false, move |c| reports::register_call(c, &app, &call, at))
            .await
    }

    async fn is_call_known(&self, app: &AppId, call: &CallId) -> Result<bool, StoreError> {
        let (app, call) = (app.to_string(), call.to_string());
        self.read(move |c| reports::call_known(c, &app, &call))
            .await
    }

    async fn reports_for_call(&self, call: &CallId) -> Result<Vec<StoredReport>, StoreError> {
        let call = call.to_string();
        self.read(move |c| reports::for_call(c, &call)).await
    }

    async fn reports_after(&self, after: i64, limit: u32) -> Result<Vec<StoredReport>, StoreError> {
        self.read(move |c| reports::after(c, after, limit)).await
    }

    async fn latest_report_id(&self) -> Result<i64, StoreError> {
        self.read(reports::latest).await
    }

    async fn reports_before(
        &self,
        before: i64,
        app: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredReport>, StoreError> {
        let app = app.map(str::to_owned);
        self.read(move |c| reports::before(c, before, app.as_deref(), limit))
            .await
    }

    async fn calls_with_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<String>, StoreError> {
        let prefix = prefix.to_owned();
        self.read(move |c| reports::calls_with_prefix(c, &prefix, limit))
            .await
    }

    async fn consumer_cursor(&self, name: &str) -> Result<Option<i64>, StoreError> {
        let name = name.to_owned();
        self.read(move |c| reports::consumer(c, &name)).await
    }

    async fn ack_consumer(&self, name: &str, cursor: i64, now_ms: i64) -> Result<i64, StoreError> {
        let name = name.to_owned();
        self.write(false, move |c| reports::ack(c, &name, cursor, now_ms))
            .await
    }

    async fn consumers(&self) -> Result<Vec<Consumer>, StoreError> {
        self.read(reports::consumers).await
    }

    async fn reports_behind(&self, cursor: i64) -> Result<(i64, Option<i64>), StoreError> {
        self.read(move |c| reports::behind(c, cursor)).await
    }

    async fn submit_event(&self, event: NewEvent) -> Result<Submitted, StoreError> {
        self.write(true, move |c| outbox::submit(c, &event)).await
    }

    async fn claim(&self, request: ClaimRequest) -> Result<Vec<Claimed>, StoreError> {
        // A read and a lease per row: in a savepoint, so a claim leases all its rows or none.
        self.write(true, move |c| outbox::claim(c, &request)).await
    }

    async fn record_attempt(&self, attempt: AttemptRecord) -> Result<Recorded, StoreError> {
        let attempt = attempt.storable();
        self.write(true, move |c| outbox::record(c, &attempt)).await
    }

    async fn release_all_leases(&self) -> Result<u64, StoreError> {
        self.write(false, outbox::release_all_leases).await
    }

    async fn retry_delivery(
        &self,
        id: i64,
        now_ms: i64,
    ) -> Result<Option<DeliveryRow>, StoreError> {
        if !self
            .write(false, move |c| outbox::retry_one(c, id, now_ms))
            .await?
        {
            return Ok(None);
        }
        self.read(move |c| outbox_read::one(c, id)).await
    }

    async fn retry_range(
        &self,
        destination: &str,
        from_ms: i64,
        to_ms: i64,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let destination = destination.to_owned();
        self.write(false, move |c| {
            outbox::retry_range(c, &destination, from_ms, to_ms, now_ms)
        })
        .await
    }

    async fn count_range(
        &self,
        destination: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<u64, StoreError> {
        let destination = destination.to_owned();
        self.read(move |c| outbox::count_range(c, &destination, from_ms, to_ms))
            .await
    }

    async fn deliveries(&self, filter: DeliveryFilter) -> Result<Vec<DeliveryRow>, StoreError> {
        self.read(move |c| outbox_read::list(c, &filter)).await
    }

    async fn delivery(
        &self,
        id: i64,
    ) -> Result<Option<(DeliveryRow, Vec<AttemptRow>)>, StoreError> {
        self.read(move |c| {
            let Some(row) = outbox_read::one(c, id)? else {
                return Ok(None);
            };
            Ok(Some((row, outbox_read::attempts(c, id)?)))
        })
        .await
    }

    async fn outbound_for_call(&self, call: &CallId) -> Result<Vec<OutboundRow>, StoreError> {
        let call = call.to_string();
        self.read(move |c| outbox_read::for_call(c, &call)).await
    }

    async fn forwards_for_call(&self, call: &CallId) -> Result<Vec<DeliveryRow>, StoreError> {
        let call = call.to_string();
        self.read(move |c| outbox_read::forwards_for_call(c, &call))
            .await
    }

    async fn earliest_due(&self, destinations: Vec<String>) -> Result<Vec<DueSummary>, StoreError> {
        self.read(move |c| outbox_read::earliest_due(c, &destinations))
            .await
    }

    async fn next_due(
        &self,
        destination: &str,
        lane: Lane,
        after_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        let destination = destination.to_owned();
        self.read(move |c| outbox_read::next_due(c, &destination, lane, after_ms))
            .await
    }

    async fn earlier_pending(
        &self,
        destination: &str,
        call: &str,
        delivery_id: i64,
    ) -> Result<Option<i64>, StoreError> {
        let (destination, call) = (destination.to_owned(), call.to_owned());
        self.read(move |c| outbox_read::earlier_pending(c, &destination, &call, delivery_id))
            .await
    }

    async fn delivery_counts(&self) -> Result<Vec<DestinationCount>, StoreError> {
        self.read(outbox_read::counts).await
    }

    async fn prune(&self, request: PruneRequest) -> Result<PruneStep, StoreError> {
        if request.dry_run {
            return self.read(move |c| Ok(prune::step(c, &request))).await?;
        }
        self.write(true, move |c| Ok(prune::step(c, &request)))
            .await?
    }

    /// Frees up to a thousand pages (4 MiB) a time, on files made with incremental vacuum.
    async fn reclaim(&self) -> Result<(), StoreError> {
        self.write(false, |c| {
            c.execute_batch("PRAGMA incremental_vacuum(1000)")
        })
        .await
    }

    /// Goes through the writer thread, so a stuck or stopped writer makes the store unhealthy.
    async fn ping(&self) -> Result<(), StoreError> {
        self.write(false, |c| c.query_row("SELECT 1", [], |_| Ok(())))
            .await
    }

    async fn size_bytes(&self) -> Result<u64, StoreError> {
        let len = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        Ok(len(&self.path) + len(&schema::wal_path(&self.path)))
    }

    async fn close(&self) {
        if let Ok(mut writes) = self.writes.lock() {
            writes.take();
        }
        let handle = self.writer.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
        // Only once every write is committed and synced.
        if let Some(lock) = self.lock.lock().ok().and_then(|mut l| l.take()) {
            lock.release();
        }
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn single_process(&self) -> bool {
        true
    }
}
