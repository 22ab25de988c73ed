//! ivrhook's durable store: every received report, byte for byte, and the calls a business
//! registered. One trait, [`Store`], chosen once at start-up by the database URL's scheme.
//!
//! - `model`: what goes in and comes out (`NewReport`, `Inserted`, `StoredReport`).
//! - `url`: `sqlite://` and `postgres://` database URLs.
//! - `sqlite`: the embedded backend: one writer thread with group commit, a reader pool.
//! - `error`: `StoreError`.
#![forbid(unsafe_code)]

pub mod error;
pub mod model;
pub mod sqlite;
pub mod url;

pub use error::StoreError;
pub use model::{Inserted, NewReport, StoredReport};
pub use url::DatabaseUrl;

use async_trait::async_trait;
use ivrhook_protocol::{AppId, CallId};
use std::sync::Arc;

/// Called with the size of each committed write batch (for the metrics).
pub type BatchHook = Arc<dyn Fn(usize) + Send + Sync>;

/// What the server needs of a database. Writes are durable when the future resolves `Ok`.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Stores a report unless the same app, call and content is stored already; the database's
    /// unique key decides, so concurrent duplicates cannot both be new.
    async fn insert_report(&self, report: NewReport) -> Result<Inserted, StoreError>;

    /// Records a call the business placed. `true` when it was not known before.
    async fn register_call(&self, app: &AppId, call: &CallId) -> Result<bool, StoreError>;

    async fn is_call_known(&self, app: &AppId, call: &CallId) -> Result<bool, StoreError>;

    /// Every report received for a call (under any app), oldest first.
    async fn reports_for_call(&self, call: &CallId) -> Result<Vec<StoredReport>, StoreError>;

    /// Reports with an id greater than `after`, in id order, at most `limit`.
    async fn reports_after(&self, after: i64, limit: u32) -> Result<Vec<StoredReport>, StoreError>;

    /// Answers when the database does (for `/healthz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Finishes every write already handed over, then stops accepting new ones.
    async fn close(&self);

    /// Where the data lives, for the start-up line.
    fn location(&self) -> String;
}

/// Opens the store a URL names, applying its migrations.
pub async fn open(
    url: &DatabaseUrl,
    hook: Option<BatchHook>,
) -> Result<Arc<dyn Store>, StoreError> {
    match url {
        DatabaseUrl::Sqlite(path) => {
            let path = path.clone();
            let store = tokio::task::spawn_blocking(move || sqlite::SqliteStore::open(&path, hook))
                .await
                .map_err(|e| StoreError::Task(e.to_string()))??;
            Ok(Arc::new(store))
        }
        DatabaseUrl::Postgres(_) => Err(StoreError::Unsupported("PostgreSQL")),
    }
}
