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
    sync::{
        atomic::{AtomicBool, Ordering},
        mpsc, Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

/// How often it looks when the last checkpoint found nothing to copy.
const EVERY: Duration = Duration::from_millis(100);
/// The pause between checkpoints while the writer appends: each one syncs both files, and a
/// page written several times in the pause is copied once.
const BUSY: Duration = Duration::from_millis(20);
/// How long this thread leaves the WAL to the writer's restart before it copies again.
const RESTART_WAIT: Duration = Duration::from_millis(250);

pub(crate) struct Checkpointer {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Checkpointer {
    pub fn start(
        path: &Path,
        max_wal: u64,
        restart: Arc<AtomicBool>,
        events: Arc<dyn StoreEvents>,
    ) -> Result<Checkpointer, crate::StoreError> {
        let conn = super::schema::connect(path)?;
        let wal = super::schema::wal_path(path);
        let page: u64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let limits = Limits {
            frame: page + 24,
            restart_at: super::wal::restart_at(max_wal),
            idle: super::wal::idle_size(max_wal),
        };
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("ivrhook-sqlite-checkpoint".into())
            .spawn(move || run(&conn, &wal, limits, &restart, &*events, &stopped))
            .map_err(|e| crate::StoreError::Task(format!("starting the checkpoint thread: {e}")))?;
        Ok(Checkpointer { stop, thread })
    }

    pub fn finish(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

/// When this thread asks for a restart or empties the WAL.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// A frame's bytes: a page and its header.
    frame: u64,
    /// Bytes of frames past which the writer is asked to restart the WAL.
    restart_at: u64,
    /// A file larger than this is emptied once writes stop.
    idle: u64,
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

/// Asks the writer to restart the WAL and copies nothing until it has: the restart then finds
/// only the frames of a batch or two to copy, instead of waiting behind a passive checkpoint
/// that copies (and syncs) everything written meanwhile. An idle writer never comes, and after
/// `RESTART_WAIT` this thread goes on.
fn ask_for_restart(restart: &AtomicBool) {
    restart.store(true, Ordering::Relaxed);
    let asked = std::time::Instant::now();
    while restart.load(Ordering::Relaxed) && asked.elapsed() < RESTART_WAIT {
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn run(
    conn: &Connection,
    wal: &Path,
    limits: Limits,
    restart: &AtomicBool,
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
        let in_use = u64::try_from(now.log).unwrap_or(0) * limits.frame;
        if in_use >= limits.restart_at {
            ask_for_restart(restart);
        }
        // Writes stopped and everything is copied: empty a large WAL now rather than at the
        // next write.
        let idle = !worked && now.log == now.copied;
        if idle && size > limits.idle && super::wal::checkpoint(conn, "TRUNCATE", Some(EVERY)) {
            events.checkpoint(CheckpointMode::Idle, Duration::ZERO);
            events.wal_bytes(std::fs::metadata(wal).map_or(0, |m| m.len()));
        }
        wait = if worked { BUSY } else { EVERY };
        last = now;
    }
    // Leave a small WAL behind at shutdown.
    super::wal::checkpoint(conn, "TRUNCATE", Some(super::schema::BUSY_TIMEOUT));
}
