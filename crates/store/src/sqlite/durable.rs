//! Pipelined durability. The connection runs with `synchronous = NORMAL`, so a commit only
//! writes the WAL; this thread then fsyncs the WAL file and only after that answers the
//! batch's callers. While one fsync runs, the writer commits the next batch, and the next
//! fsync covers every commit written before it started: one fsync is shared by all the
//! batches that arrived while the previous one ran, and nothing is answered before it is on
//! disk. (Checkpoints still sync the WAL and the database themselves under NORMAL.)
//!
//! After a failed fsync the kernel may have dropped the dirty pages and a later fsync could
//! wrongly succeed, so the store stops acknowledging writes until it is restarted.

use super::writer::{Answer, SyncError};
use std::{
    fs::File,
    sync::{mpsc, Arc},
    thread::JoinHandle,
};

pub(crate) struct Syncer {
    tx: mpsc::Sender<Vec<Box<dyn Answer>>>,
    thread: JoinHandle<()>,
}

impl Syncer {
    pub fn start(wal: File) -> std::io::Result<Syncer> {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("ivrhook-sqlite-fsync".into())
            .spawn(move || run(wal, rx))?;
        Ok(Syncer { tx, thread })
    }

    /// Answers these callers after the next fsync of the WAL completes.
    pub fn after_next_sync(&self, answers: Vec<Box<dyn Answer>>) {
        if let Err(mpsc::SendError(answers)) = self.tx.send(answers) {
            let e: SyncError = Arc::new(std::io::Error::other("the fsync thread stopped"));
            for a in answers {
                a.send(Some(&e));
            }
        }
    }

    /// Syncs and answers everything handed over, then stops.
    pub fn finish(self) {
        drop(self.tx);
        let _ = self.thread.join();
    }
}

fn run(wal: File, rx: mpsc::Receiver<Vec<Box<dyn Answer>>>) {
    let mut poisoned: Option<SyncError> = None;
    while let Ok(mut pending) = rx.recv() {
        while let Ok(more) = rx.try_recv() {
            pending.extend(more);
        }
        if poisoned.is_none() {
            if let Err(e) = wal.sync_data() {
                tracing::error!(error = %e, "fsync of the WAL failed; no further write is acknowledged until restart");
                poisoned = Some(Arc::new(e));
            }
        }
        for answer in pending {
            answer.send(poisoned.as_ref());
        }
    }
}
