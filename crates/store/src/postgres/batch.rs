//! Writes in groups: every write that arrives while a group is being written goes into the
//! next one, as one transaction (one commit) instead of one each. Each caller is answered
//! after the transaction holding its write has committed, so a group costs no durability;
//! under load it saves PostgreSQL the per-statement and per-commit work that limits single
//! writes. `report_batch`, `submit_batch` and `record_batch` say what a group is for their
//! rows.

use deadpool_postgres::Pool;
use std::{future::Future, sync::Arc};
use tokio::sync::{mpsc, Mutex};

/// Writes in one statement at most.
const MAX_BATCH: usize = 256;
/// Groups of one kind in flight at once, per node. One: writes that arrive while a group is
/// written (and committed) wait for the next, so a group grows with the load instead of the
/// load being spread over small groups, and PostgreSQL's cost per row falls as groups grow.
/// Nodes add writers: each has its own.
const WORKERS: usize = 1;

/// Starts the workers, each running `write` on the groups it takes; they stop when every
/// sender is dropped. (With one worker the shared receiver's lock is never contended; it
/// keeps `WORKERS` a constant that can be raised.)
pub(crate) fn spawn<J, F, Fut>(pool: Pool, write: F) -> mpsc::UnboundedSender<J>
where
    J: Send + 'static,
    F: Fn(Pool, Vec<J>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let (tx, rx) = mpsc::unbounded_channel();
    let rx = Arc::new(Mutex::new(rx));
    for _ in 0..WORKERS {
        let (pool, rx, write) = (pool.clone(), Arc::clone(&rx), write.clone());
        tokio::spawn(async move {
            while let Some(batch) = next_batch(&rx).await {
                write(pool.clone(), batch).await;
            }
        });
    }
    tx
}

/// Waits for one write, then takes whatever else is queued (up to `MAX_BATCH`).
async fn next_batch<J>(rx: &Mutex<mpsc::UnboundedReceiver<J>>) -> Option<Vec<J>> {
    let mut rx = rx.lock().await;
    let mut batch = vec![rx.recv().await?];
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    Some(batch)
}
