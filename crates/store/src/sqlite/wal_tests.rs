//! The WAL's bound: batch sizes, restarts, and the file's size across restarts.

use super::*;

#[test]
fn a_batch_takes_what_fits_at_twice_the_largest_job_lately() {
    let mut b = WalBudget::new(16 << 20);
    // 15 MiB usable: room for 960 jobs at the floor.
    assert_eq!(b.batch_limit(0, 512), 512);
    assert_eq!(b.batch_limit(11 << 20, 512), 256);
    assert_eq!(b.batch_limit((15 << 20) - (16 << 10), 512), 1);
    assert_eq!(b.batch_limit((15 << 20) - 1000, 512), 0);
    // Batches of 100 jobs that took 64 KiB each.
    b.wrote(6_400 << 10, 100);
    assert_eq!(b.batch_limit(7 << 20, 512), 64);
    assert_eq!(b.batch_limit(15 << 20, 512), 0);
}

/// A restart asked for below the bound gives way to a reader on an old snapshot; one the
/// bound needs restarts the WAL once the reader is gone.
#[test]
fn an_asked_restart_gives_way_to_a_reader_and_a_needed_one_restarts() {
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let conn = super::super::schema::connect(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
    let wal = File::open(super::super::schema::wal_path(&path)).unwrap();
    let restart = Arc::new(AtomicBool::new(false));
    let events = Arc::new(crate::NoEvents);
    let mut bound = Bound::new(&conn, &wal, 4 << 20, Arc::clone(&restart), events).unwrap();
    conn.execute("INSERT INTO t VALUES (zeroblob(65536))", [])
        .unwrap();
    let reader = super::super::schema::connect(&path).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let rows: i64 = reader
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);

    restart.store(true, Ordering::Relaxed);
    let (frames, limit) = bound.before_batch(&conn, 64);
    assert!(
        frames > 0 && limit > 0,
        "not restarted under the reader: {frames}, {limit}"
    );
    assert!(!restart.load(Ordering::Relaxed), "the ask is answered");

    reader.execute_batch("COMMIT").unwrap();
    while bound.budget.batch_limit(bound.in_use(), 64) > 0 {
        conn.execute("INSERT INTO t VALUES (zeroblob(65536))", [])
            .unwrap();
    }
    let (frames, limit) = bound.before_batch(&conn, 64);
    assert_eq!((frames, FRAMES.get()), (0, 0), "restarted");
    assert!(limit > 0);
}

#[test]
fn the_largest_job_is_forgotten_over_hundreds_of_batches() {
    let mut b = WalBudget::new(128 << 20);
    b.wrote(64 << 10, 1);
    for _ in 0..100 {
        b.wrote(0, 1);
    }
    assert!(b.per_job > 40 << 10, "{}", b.per_job);
    for _ in 0..2000 {
        b.wrote(0, 1);
    }
    assert_eq!(b.per_job(), WalBudget::PER_JOB_FLOOR);
}

/// Fills the WAL until not even one job fits, so that the next batch must restart it.
fn fill(conn: &rusqlite::Connection, bound: &Bound) {
    while bound.budget.batch_limit(bound.in_use(), 64) > 0 {
        conn.execute("INSERT INTO t VALUES (zeroblob(65536))", [])
            .unwrap();
    }
}

/// Under load (restarts for the bound) the file keeps its size across a restart; some
/// seconds after the last one, a restart cuts it back to the idle size again.
#[test]
fn the_file_keeps_its_size_across_restarts_only_while_the_load_lasts() {
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let conn = super::super::schema::connect(&path).unwrap();
    let max = 4 << 20;
    conn.pragma_update(None, "journal_size_limit", idle_size(max))
        .unwrap();
    conn.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
    let wal_path = super::super::schema::wal_path(&path);
    let wal = File::open(&wal_path).unwrap();
    let restart = Arc::new(AtomicBool::new(false));
    let events = Arc::new(crate::NoEvents);
    let mut bound = Bound::new(&conn, &wal, max, restart, events).unwrap();
    let size = || std::fs::metadata(&wal_path).unwrap().len();
    let limit = || -> u64 {
        conn.query_row("PRAGMA journal_size_limit", [], |r| r.get(0))
            .unwrap()
    };

    fill(&conn, &bound);
    let full = size();
    assert!(full > idle_size(max), "{full}");
    assert_eq!(bound.before_batch(&conn, 64).0, 0, "restarted");
    assert_eq!(limit(), max);
    conn.execute("INSERT INTO t VALUES (zeroblob(65536))", [])
        .unwrap();
    assert_eq!(
        size(),
        full,
        "the first commit after the restart kept the file"
    );

    // The load fell: the last restart for the bound is older than KEEP_SIZE.
    fill(&conn, &bound);
    bound.size_kept_until = Some(Instant::now() - Duration::from_millis(1));
    let (frames, _) = bound.before_batch(&conn, 64);
    assert_eq!(frames, 0, "restarted");
    assert_eq!(limit(), max, "this restart was for the bound too");
    bound.size_kept_until = Some(Instant::now() - Duration::from_millis(1));
    conn.execute("INSERT INTO t VALUES (zeroblob(65536))", [])
        .unwrap();
    assert!(bound.budget.batch_limit(bound.in_use(), 64) > 0);
    bound.before_batch(&conn, 64);
    assert_eq!(limit(), idle_size(max));
    assert!(super::checkpoint(&conn, "RESTART", None));
    conn.execute("INSERT INTO t VALUES (zeroblob(65536))", [])
        .unwrap();
    assert!(size() <= idle_size(max), "cut back: {}", size());
}
