//! Writes in groups: every write that arrives while a group is being written goes into the
//! next one, as one transaction (one commit) instead of one each. Each caller is answered
//! after the transaction holding its write has committed, so a group costs no durability;
//! under load it saves PostgreSQL the per-statement and per-commit work that limits single
//! writes. `report_batch`, `submit_batch` and `record_batch` say what a group is for their
//! rows.

use std::{future::Future, sync::Arc, time::Duration};
use tokio::sync::{mpsc, Mutex};

/// Writes in one statement at most.
const MAX_BATCH: usize = 256;
/// Groups of one kind in flight at once, per node. One: writes that arrive while a group is
/// written (and committed) wait for the next, so a group grows with the load instead of the
/// load being spread over small groups. Per row, a group of 16 costs PostgreSQL about a third
/// less than a group of 4 (BENCHMARKS.md, step 15); measured end to end against four workers,
/// two nodes delivered about a fifth more per second and received a quarter more. Nodes add
/// writers: each has its own.
const WORKERS: usize = 1;
/// How long a group waits for company, but only after the last group had more than one write
/// (a lone write is never held back). A statement's fixed cost (a round trip, executor start
/// and finish, a commit) is shared by its rows, so under load a group made a little fuller
/// costs PostgreSQL less per row. Measured (BENCHMARKS.md, step 16): two nodes delivered
/// 3–11 % more per second with 12 % less CPU per delivery; 12 ms cut throughput by a third,
/// as every write then waited longer than a commit takes.
const LINGER: Duration = Duration::from_millis(2);

/// Starts the workers, each running `write` on the groups it takes; they stop when every
/// sender is dropped. (With one worker the shared receiver's lock is never contended; it is
/// kept so the count stays a constant to measure with.)
pub(crate) fn spawn<P, J, F, Fut>(pool: P, write: F) -> mpsc::UnboundedSender<J>
where
    P: Clone + Send + 'static,
    J: Send + 'static,
    F: Fn(P, Vec<J>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let (tx, rx) = mpsc::unbounded_channel();
    let rx = Arc::new(Mutex::new(rx));
    for _ in 0..WORKERS {
        let (pool, rx, write) = (pool.clone(), Arc::clone(&rx), write.clone());
        tokio::spawn(async move {
            let mut together = false;
            while let Some(batch) = next_batch(&rx, together).await {
                together = batch.len() > 1;
                write(pool.clone(), batch).await;
            }
        });
    }
    tx
}

/// Waits for one write, then (if the last group's writes came `together`) for [`LINGER`]
/// more, then takes whatever else is queued (up to `MAX_BATCH`).
async fn next_batch<J>(rx: &Mutex<mpsc::UnboundedReceiver<J>>, together: bool) -> Option<Vec<J>> {
    let mut rx = rx.lock().await;
    let mut batch = vec![rx.recv().await?];
    if together {
        tokio::time::sleep(LINGER).await;
    }
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    Some(batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    /// Runs a group writer that reports each group's size and when it was taken.
    fn writer() -> (
        mpsc::UnboundedSender<u32>,
        mpsc::UnboundedReceiver<(usize, Instant)>,
    ) {
        let (seen_tx, seen) = mpsc::unbounded_channel();
        let tx = spawn((), move |(), jobs: Vec<u32>| {
            let seen_tx = seen_tx.clone();
            async move {
                let _ = seen_tx.send((jobs.len(), Instant::now()));
            }
        });
        (tx, seen)
    }

    #[tokio::test(start_paused = true)]
    async fn a_lone_write_goes_at_once_and_writes_that_come_together_wait_for_company() {
        let (tx, mut seen) = writer();
        let start = Instant::now();
        tx.send(1).unwrap();
        let (n, at) = seen.recv().await.unwrap();
        assert_eq!(
            (n, at - start),
            (1, Duration::ZERO),
            "a lone write is not held back"
        );

        // Two at once: the group after them waits for company.
        tx.send(2).unwrap();
        tx.send(3).unwrap();
        assert_eq!(seen.recv().await.unwrap().0, 2);
        let first = Instant::now();
        tx.send(4).unwrap();
        tokio::time::sleep(LINGER / 2).await;
        tx.send(5).unwrap();
        let (n, at) = seen.recv().await.unwrap();
        assert_eq!(n, 2, "a write arriving within the linger joins the group");
        assert_eq!(at - first, LINGER);

        // That group had two: the next waits too, and a lone one after it goes at once again.
        tx.send(6).unwrap();
        assert_eq!(seen.recv().await.unwrap().0, 1);
        let alone = Instant::now();
        tx.send(7).unwrap();
        let (n, at) = seen.recv().await.unwrap();
        assert_eq!((n, at - alone), (1, Duration::ZERO));
    }
}
