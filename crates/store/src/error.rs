//! The store's one error enum. The cause chain is kept (`source`), never flattened.

use std::{path::PathBuf, sync::Arc};

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each variant's `#[error]` message says what it is
pub enum StoreError {
    #[error("database URL {url:?} {reason}")]
    BadUrl { url: String, reason: String },
    #[error("could not open the database file {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot lock {path}: {reason}")]
    Lock { path: PathBuf, reason: String },
    #[error(
        "the directory {dir} for the database {path} does not exist: create it, or point \
         database at a file in a directory that does"
    )]
    NoDirectory { dir: PathBuf, path: PathBuf },
    #[error("backup {path}: {reason}")]
    Backup { path: PathBuf, reason: String },
    #[error("the database schema is at version {found}, newer than this ivrhook knows ({known}); run a newer ivrhook")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
    /// A failed write batch: every request in it gets the same cause.
    #[error("database write failed")]
    Write(#[source] Arc<rusqlite::Error>),
    /// The WAL could not be synced: the batch is not known to be on disk.
    #[error("syncing the database to disk failed")]
    Sync(#[source] Arc<std::io::Error>),
    #[error("the database schema is at version {found}, older than this ivrhook needs ({known}); run `ivrhook migrate`")]
    SchemaTooOld { found: i64, known: i64 },
    #[error("PostgreSQL error")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("no PostgreSQL connection")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("unexpected data in the database: {0}")]
    Corrupt(String),
    /// An attempt recorded for a delivery that is not in the database.
    #[error("no delivery {0} to record an attempt for")]
    NoSuchDelivery(i64),
    /// A report received at a time no day's partition can hold.
    #[error("the node's clock says {ms} ms since 1970, before 1971: the clock is wrong")]
    BadClock { ms: i64 },
    #[error("the store is shut down")]
    Closed,
    #[error("a store task failed: {0}")]
    Task(String),
}
