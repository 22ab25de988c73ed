//! Checkpoints off the write path. The writer's connection never checkpoints
//! (`wal_autocheckpoint = 0`): copying WAL pages into the database and syncing both would
//! stall every request behind it. This thread runs passive checkpoints on a connection of its
//! own, which proceed beside the writer, and a final one when the store closes.

use rusqlite::Connection;
use std::{path::Path, sync::mpsc, thread::JoinHandle, time::Duration};

const EVERY: Duration = Duration::from_millis(500);

pub(crate) struct Checkpointer {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Checkpointer {
    pub fn start(path: &Path) -> Result<Checkpointer, crate::StoreError> {
        let conn = super::schema::connect(path)?;
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("ivrhook-sqlite-checkpoint".into())
            .spawn(move || run(conn, stopped))
            .map_err(|e| crate::StoreError::Task(format!("starting the checkpoint thread: {e}")))?;
        Ok(Checkpointer { stop, thread })
    }

    pub fn finish(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

fn run(conn: Connection, stopped: mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed; will try again");
        }
    }
    // Leave a small WAL behind at shutdown.
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}
