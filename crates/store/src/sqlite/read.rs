//! A small pool of read-only connections, used from blocking threads. WAL mode lets them
//! read while the writer commits.

use crate::StoreError;
use rusqlite::Connection;
use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

/// Idle connections kept for reuse; more are opened under load and closed afterwards.
const MAX_IDLE: usize = 8;

#[derive(Debug)]
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub fn new(path: PathBuf) -> Self {
        Readers {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `query` on a pooled connection, on a blocking thread.
    pub async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        query: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let me = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let pooled = me.idle.lock().ok().and_then(|mut idle| idle.pop());
            let conn = match pooled {
                Some(c) => c,
                None => super::schema::connect_reader(&me.path)?,
            };
            let result = query(&conn);
            if let Ok(mut idle) = me.idle.lock() {
                if idle.len() < MAX_IDLE {
                    idle.push(conn);
                }
            }
            Ok(result?)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}
