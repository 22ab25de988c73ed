//! The embedded SQLite backend.
//!
//! One writer thread owns the only write connection and commits many requests per transaction
//! (group commit): each request is answered after the commit that holds it, so durability
//! costs one fsync per batch, not per report. Reads go through a small pool of read-only
//! connections on blocking threads; WAL mode lets them run beside the writer.
//!
//! - `schema`: connection settings and versioned migrations.
//! - `writer`: the group-commit writer thread.
//! - `read`: the read pool and queries.

mod read;
mod schema;
mod writer;

use crate::{BatchHook, Inserted, NewReport, Store, StoreError, StoredReport};
use async_trait::async_trait;
use ivrhook_protocol::{AppId, CallId};
use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    thread::JoinHandle,
};
use tokio::sync::{mpsc, oneshot};
use writer::Op;

#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    writes: Mutex<Option<mpsc::UnboundedSender<Op>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Arc<read::Readers>,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the file. Blocking: call off the runtime.
    pub fn open(path: &Path, hook: Option<BatchHook>) -> Result<Self, StoreError> {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        let conn = schema::connect(&path)?;
        schema::migrate(&conn)?;
        let (tx, handle) = writer::spawn(conn, hook)?;
        Ok(SqliteStore {
            readers: Arc::new(read::Readers::new(path.clone())),
            path,
            writes: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(handle)),
        })
    }

    async fn write<T>(
        &self,
        op: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Op,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        {
            let writes = self.writes.lock().map_err(|_| StoreError::Closed)?;
            let sender = writes.as_ref().ok_or(StoreError::Closed)?;
            sender.send(op(reply)).map_err(|_| StoreError::Closed)?;
        }
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_report(&self, report: NewReport) -> Result<Inserted, StoreError> {
        self.write(|reply| Op::Insert(Box::new(report), reply))
            .await
    }

    async fn register_call(&self, app: &AppId, call: &CallId) -> Result<bool, StoreError> {
        let (app, call) = (app.to_string(), call.to_string());
        self.write(|reply| Op::Register {
            app,
            call,
            at_ms: now_ms(),
            reply,
        })
        .await
    }

    async fn is_call_known(&self, app: &AppId, call: &CallId) -> Result<bool, StoreError> {
        let (app, call) = (app.to_string(), call.to_string());
        self.readers
            .run(move |c| read::call_known(c, &app, &call))
            .await
    }

    async fn reports_for_call(&self, call: &CallId) -> Result<Vec<StoredReport>, StoreError> {
        let call = call.to_string();
        self.readers.run(move |c| read::for_call(c, &call)).await
    }

    async fn reports_after(&self, after: i64, limit: u32) -> Result<Vec<StoredReport>, StoreError> {
        self.readers
            .run(move |c| read::after(c, after, limit))
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.readers
            .run(|c| c.query_row("SELECT 1", [], |_| Ok(())))
            .await
    }

    async fn close(&self) {
        if let Ok(mut writes) = self.writes.lock() {
            writes.take();
        }
        let handle = self.writer.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }
}
