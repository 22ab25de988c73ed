//! `ivrhook backup` while the server takes reports, and a restore: serving the copy.

use crate::proc::*;
use std::collections::HashSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_restores_every_report_acknowledged_before_it() {
    let (_guard, dir) = temp_dir();
    let mut server = serve(&dir, &[]).await;
    let load = Load::start(&server.base, 8);
    load.wait_for_acks(500).await;
    let before: Vec<String> = load.acked.lock().unwrap().clone();
    let out = run_ok(&dir, &["backup", "copy.db"]).await;
    assert!(out.contains("copied to copy.db"), "{out}");
    let recordings = std::path::absolute(dir.join("recordings")).unwrap();
    let said = format!(
        "recordings are not in the database file: they are in file://{}",
        recordings.display()
    );
    assert!(out.contains(&said), "{out}");
    load.wait_for_acks(before.len() + 200).await;
    let acked = load.finish().await;
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();

    let (_, err) = run_fails(&dir, &["backup", "copy.db"]).await;
    assert!(
        err.contains("copy.db: exists; the backup never overwrites a file"),
        "{err}"
    );
    let pg = "postgres://postgres@127.0.0.1:5432/postgres";
    let (_, err) = run_fails(&dir, &["backup", "pg.sql", "--database", pg]).await;
    assert!(err.contains("pg_dump"), "{err}");

    // Restore: serve the copy.
    let restored = serve(&dir, &["--database", "sqlite://copy.db"]).await;
    let stored: HashSet<String> = stored_call_ids(&restored.base).await.into_iter().collect();
    let lost: Vec<&String> = before.iter().filter(|c| !stored.contains(*c)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged before the backup are missing",
        lost.len()
    );
    assert!(
        stored.len() < acked.len(),
        "the copy is the snapshot the backup took ({}), not the file as it is now ({})",
        stored.len(),
        acked.len()
    );
}
