//! Checkpoints off the write path. The writer's connection never checkpoints on its own
//! (`wal_autocheckpoint = 0`): copying WAL pages into the database and syncing both would
//! stall every request behind it. This thread runs passive checkpoints on a connection of its
//! own, which proceed beside the writer, back to back while they find work; once writes stop
//! and every frame is copied, it empties a WAL left larger than `wal::idle_size`. Under
//! sustained load passive checkpoints cannot restart the WAL: the writer does (`wal`).

use crate::{CheckpointMode, StoreEvents};
use rusqlite::Connection;
use std::{
    path::Path,
    sync::{mpsc, Arc},
    thread::JoinHandle,
    time::Duration,
};

/// How often it looks when the last checkpoint found nothing to copy.
const EVERY: Duration = Duration::from_millis(100);
/// The pause between checkpoints while the writer appends: each one syncs both files, and a
/// page written several times in the pause is copied once.
const BUSY: Duration = Duration::from_millis(20);

pub(crate) struct Checkpointer {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Checkpointer {
    pub fn start(
        path: &Path,
        max_wal: u64,
        events: Arc<dyn StoreEvents>,
    ) -> Result<Checkpointer, crate::StoreError> {
        let conn = super::schema::connect(path)?;
        let wal = super::schema::wal_path(path);
        let idle = super::wal::idle_size(max_wal);
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("ivrhook-sqlite-checkpoint".into())
            .spawn(move || run(&conn, &wal, idle, &*events, &stopped))
            .map_err(|e| crate::StoreError::Task(format!("starting the checkpoint thread: {e}")))?;
        Ok(Checkpointer { stop, thread })
    }

    pub fn finish(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

/// A passive checkpoint's report: frames in the WAL, and frames copied into the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Frames {
    log: i64,
    copied: i64,
}

fn passive(conn: &Connection) -> Option<Frames> {
    let sql = "PRAGMA wal_checkpoint(PASSIVE)";
    match conn.query_row(sql, [], |r| {
        Ok(Frames {
            log: r.get(1)?,
            copied: r.get(2)?,
        })
    }) {
        Ok(f) => Some(f),
        Err(e) => {
            tracing::warn!(error = %e, "WAL checkpoint failed; will try again");
            None
        }
    }
}

fn run(
    conn: &Connection,
    wal: &Path,
    idle_size: u64,
    events: &dyn StoreEvents,
    stopped: &mpsc::Receiver<()>,
) {
    let mut last = Frames::default();
    let mut wait = EVERY;
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
        let size = std::fs::metadata(wal).map_or(0, |m| m.len());
        events.wal_bytes(size);
        let Some(now) = passive(conn) else { continue };
        let worked = now != last;
        if worked {
            events.checkpoint(CheckpointMode::Passive, Duration::ZERO);
        }
        // Writes stopped and everything is copied: empty a large WAL now rather than at the
        // next write.
        let idle = !worked && now.log == now.copied;
        if idle && size > idle_size && super::wal::checkpoint(conn, "TRUNCATE", EVERY) {
            events.checkpoint(CheckpointMode::Idle, Duration::ZERO);
            events.wal_bytes(std::fs::metadata(wal).map_or(0, |m| m.len()));
        }
        wait = if worked { BUSY } else { EVERY };
        last = now;
    }
    // Leave a small WAL behind at shutdown.
    super::wal::checkpoint(conn, "TRUNCATE", super::schema::BUSY_TIMEOUT);
}
