//! The SQLite WAL stays within `[sqlite] max_wal` under a receiver driven at capacity for a
//! minute, also while a reader holds an old snapshot for a while (so that no checkpoint can
//! finish), and is cut back once the load stops; every acknowledged report is kept.

use crate::proc::*;
use std::{
    path::Path,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

const MAX_WAL: u64 = 16 << 20;
/// What a quarter of that leaves once writes stop.
const IDLE: u64 = 4 << 20;

fn wal_size(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("ivrhook.db-wal")).map_or(0, |m| m.len())
}

/// Samples the WAL's size every 100 ms until stopped; the largest seen.
fn sample(dir: &Path, stop: Arc<AtomicBool>) -> (Arc<AtomicU64>, tokio::task::JoinHandle<()>) {
    let largest = Arc::new(AtomicU64::new(0));
    let (seen, dir) = (Arc::clone(&largest), dir.to_owned());
    let task = tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            seen.fetch_max(wal_size(&dir), Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    (largest, task)
}

/// Holds a read transaction on the file for `hold`: no checkpoint can copy past its snapshot.
fn hold_a_snapshot(db: &Path, hold: Duration) -> std::thread::JoinHandle<()> {
    let db = db.to_owned();
    std::thread::spawn(move || {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        let conn = rusqlite::Connection::open_with_flags(db, flags).unwrap();
        conn.execute_batch("BEGIN").unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM reports", [], |r| r.get(0))
            .unwrap();
        assert!(n > 0, "reports were stored before the snapshot");
        std::thread::sleep(hold);
        conn.execute_batch("COMMIT").unwrap();
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_within_max_wal_at_capacity_and_is_cut_back_after() {
    let (_guard, dir) = temp_dir();
    std::fs::write(dir.join("wal.toml"), "[sqlite]\nmax_wal = \"16MiB\"\n").unwrap();
    let mut server = serve(&dir, &["--config", "wal.toml"]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (largest, sampler) = sample(&dir, Arc::clone(&stop));
    let load = Load::start(&server.base, 48);
    load.wait_for_acks(1_000).await;
    tokio::time::sleep(Duration::from_secs(25)).await;
    let reader = hold_a_snapshot(&dir.join("ivrhook.db"), Duration::from_secs(8));
    tokio::time::sleep(Duration::from_secs(35)).await;
    let acked = load.finish().await;
    reader.join().expect("the reader ran");
    let restarted = metric(
        &server.base,
        "ivrhook_sqlite_checkpoints_total{mode=\"restart\"}",
    );
    assert!(
        restarted.await.unwrap_or(0.0) >= 1.0,
        "the writer restarted the WAL at least once"
    );
    wait_until("the WAL is cut back once writes stop", || {
        wal_size(&dir) <= IDLE
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    sampler.await.unwrap();
    let largest = largest.load(Ordering::Relaxed);
    assert!(largest <= MAX_WAL, "the WAL reached {largest} bytes");
    assert!(
        largest > IDLE,
        "the load filled the WAL past its idle size: {largest}"
    );
    let gauge = metric(&server.base, "ivrhook_sqlite_wal_bytes").await;
    assert!(gauge.is_some_and(|b| b <= IDLE as f64), "{gauge:?}");

    let stored: std::collections::HashSet<String> =
        stored_call_ids(&server.base).await.into_iter().collect();
    let lost: Vec<_> = acked.iter().filter(|c| !stored.contains(*c)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acked reports lost",
        lost.len(),
        acked.len()
    );
    eprintln!(
        "{} reports acknowledged; the WAL peaked at {largest} bytes",
        acked.len()
    );
    server.child.start_kill().unwrap();
}
