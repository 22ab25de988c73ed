//! The writer's batches: a job of several statements that fails lands none of them, and the
//! jobs of its batch still land.

use super::{schema, wal::DEFAULT_MAX_WAL, writer};
use crate::{NoEvents, StoreError};
use rusqlite::Connection;
use std::sync::{mpsc, Arc, Mutex};
use tokio::sync::oneshot;

type Answer<T> = oneshot::Receiver<Result<T, StoreError>>;

fn insert(c: &Connection, name: &str) -> rusqlite::Result<()> {
    c.execute("INSERT INTO t (name) VALUES (?1)", [name])
        .map(drop)
}

#[tokio::test]
async fn a_failed_job_of_several_statements_leaves_nothing_and_its_batch_lands() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let conn = schema::connect(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (name TEXT UNIQUE NOT NULL)")
        .unwrap();
    let wal = schema::wal_file(&path).unwrap();
    let (jobs, thread) = writer::spawn(conn, wal, DEFAULT_MAX_WAL, Arc::new(NoEvents)).unwrap();

    // The first job holds the writer until the others are queued, so they share a batch.
    let (release, held) = mpsc::channel::<()>();
    let held = Mutex::new(Some(held));
    let (job, first) = writer::job(
        move |_| {
            if let Some(held) = held.lock().unwrap().take() {
                held.recv().unwrap();
            }
            Ok(())
        },
        false,
    );
    jobs.send(job).unwrap();

    let queue = |work: fn(&Connection) -> rusqlite::Result<()>, atomic| -> Answer<()> {
        let (job, answer) = writer::job(work, atomic);
        jobs.send(job).unwrap();
        answer
    };
    let single = queue(|c| insert(c, "single"), false);
    // Its first row lands, then the second breaks the unique name: neither may stay.
    let broken = queue(
        |c| insert(c, "half").and_then(|_| insert(c, "single")),
        true,
    );
    let whole = queue(|c| insert(c, "one").and_then(|_| insert(c, "two")), true);
    let refused = queue(|c| insert(c, "one"), false);
    release.send(()).unwrap();

    first.await.unwrap().unwrap();
    single.await.unwrap().unwrap();
    assert!(matches!(broken.await.unwrap(), Err(StoreError::Write(_))));
    whole.await.unwrap().unwrap();
    assert!(matches!(refused.await.unwrap(), Err(StoreError::Write(_))));
    drop(jobs);
    thread.join().unwrap();

    let read = Connection::open(&path).unwrap();
    let names: Vec<String> = (read.prepare("SELECT name FROM t ORDER BY name").unwrap())
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(names, ["one", "single", "two"]);
}
