//! ivrhook's durable store: every received report, byte for byte, and the calls a business
//! registered; the outbox of deliveries (events submitted to the sender, received reports
//! forwarded on), each to one destination, with leases and attempts; the cursors of the
//! report feed's named consumers. One trait, [`Store`], chosen once at start-up by the
//! database URL's scheme.
//!
//! - `traits`: the `Store` trait.
//! - `model`: received reports in and out (`NewReport`, `Inserted`, `StoredReport`).
//! - `outbox`: events, deliveries, leases and attempts.
//! - `deadlines`: registered calls whose report has a deadline (overdue calls).
//! - `recordings`: call recordings kept in the recordings store.
//! - `activity`: counts per app and minute (then hour), for the whole cluster.
//! - `analytics`: IVR analytics per app, hour (then day), command position and prompt.
//! - `rows`: the row mappings both backends share.
//! - `retention`: what may be pruned, step by step.
//! - `url`: `sqlite://` and `postgres://` database URLs.
//! - `sqlite`: the embedded backend: one writer thread with group commit, a reader pool.
//! - `postgres`: the backend for several nodes sharing one database.
//! - `error`: `StoreError`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod activity;
pub mod analytics;
pub mod deadlines;
pub mod error;
pub mod model;
pub mod outbox;
pub mod postgres;
pub mod recordings;
pub mod retention;
mod rows;
pub mod sqlite;
mod traits;
pub mod url;
mod versions;

pub use error::StoreError;
pub use model::{Consumer, Forward, Inserted, Leased, NewReport, StoredReport};
pub use traits::Store;
pub use url::DatabaseUrl;

use std::sync::Arc;

/// What a store tells the metrics as it works. Each method is called from the store's own
/// threads, so it must be quick.
pub trait StoreEvents: Send + Sync {
    /// A write batch of `size` operations committed.
    fn batch(&self, size: usize);
    /// The SQLite WAL file holds `bytes` now.
    fn wal_bytes(&self, _bytes: u64) {}
    /// A SQLite commit wrote `bytes` to the WAL.
    fn wal_written(&self, _bytes: u64) {}
    /// A SQLite checkpoint ran; `held` is how long the writer waited for it.
    fn checkpoint(&self, _mode: CheckpointMode, _held: std::time::Duration) {}
}

/// Who ran a SQLite checkpoint, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointMode {
    /// Beside the writer: copies frames, cannot empty the WAL while writes go on.
    Passive,
    /// By the writer, between batches, to keep the WAL within `max_wal`: the next commit
    /// writes from the WAL's start.
    Restart,
    /// Once writes stopped: empties a WAL left large.
    Idle,
}

impl CheckpointMode {
    /// The mode as metrics label it.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckpointMode::Passive => "passive",
            CheckpointMode::Restart => "restart",
            CheckpointMode::Idle => "idle",
        }
    }
}

/// Events nobody listens to.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEvents;

impl StoreEvents for NoEvents {
    fn batch(&self, _size: usize) {}
}

/// Whether opening the store applies pending migrations or only checks they were applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrations {
    /// Apply what is pending (`migrate_on_start`).
    Apply,
    /// Refuse a database that lacks any (`--no-migrate`).
    Require,
}

/// How `open` opens a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    /// Apply pending migrations, or (`Migrations::Require`) refuse a database that lacks
    /// them (for upgrades run as a separate step: `ivrhook migrate`).
    pub migrations: Migrations,
    /// PostgreSQL connections this process may open (one more LISTENs on delivering nodes).
    pub pool_size: usize,
    /// SQLite: the WAL file never grows past this many bytes.
    pub max_wal: u64,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            migrations: Migrations::Apply,
            pool_size: postgres::POOL_SIZE,
            max_wal: sqlite::DEFAULT_MAX_WAL,
        }
    }
}

/// Opens the store a URL names.
pub async fn open(
    url: &DatabaseUrl,
    events: Option<Arc<dyn StoreEvents>>,
    options: OpenOptions,
) -> Result<Arc<dyn Store>, StoreError> {
    match url {
        DatabaseUrl::Sqlite(path) => {
            let path = path.clone();
            let store = tokio::task::spawn_blocking(move || {
                sqlite::SqliteStore::open_with(&path, events, options)
            })
            .await
            .map_err(|e| StoreError::Task(e.to_string()))??;
            Ok(Arc::new(store))
        }
        DatabaseUrl::Postgres(url) => Ok(Arc::new(
            postgres::PgStore::open(url, options.migrations, options.pool_size).await?,
        )),
    }
}

/// A consistent copy of the SQLite store a URL names, taken while it may be serving; a
/// PostgreSQL database is backed up with PostgreSQL's own tools.
pub async fn backup(
    url: &DatabaseUrl,
    target: &std::path::Path,
) -> Result<sqlite::Copied, StoreError> {
    match url {
        DatabaseUrl::Sqlite(path) => {
            let (path, target) = (path.clone(), target.to_owned());
            tokio::task::spawn_blocking(move || sqlite::backup_file(&path, &target))
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?
        }
        DatabaseUrl::Postgres(_) => Err(StoreError::Backup {
            path: target.to_owned(),
            reason: "ivrhook backs up SQLite stores; back up PostgreSQL with pg_dump or \
                     pg_basebackup (see docs/operations.md)"
                .into(),
        }),
    }
}

/// The store a URL names, for reading beside a server that may be running (SQLite takes no
/// lock and runs no migration; PostgreSQL requires its schema current).
pub async fn open_read_only(url: &DatabaseUrl) -> Result<Arc<dyn Store>, StoreError> {
    match url {
        DatabaseUrl::Sqlite(path) => Ok(Arc::new(sqlite::SqliteStore::open_read_only(path)?)),
        DatabaseUrl::Postgres(url) => Ok(Arc::new(
            postgres::PgStore::open(url, Migrations::Require, 2).await?,
        )),
    }
}

/// Applies the pending migrations of the database a URL names; returns the versions applied.
pub async fn migrate(url: &DatabaseUrl) -> Result<Vec<i64>, StoreError> {
    match url {
        DatabaseUrl::Sqlite(path) => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || sqlite::migrate_file(&path))
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?
        }
        DatabaseUrl::Postgres(url) => postgres::PgStore::migrate(url).await,
    }
}
