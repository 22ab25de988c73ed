//! `[retention]` on a real server: the background task prunes old reports and counts them in
//! `/metrics`; `ivrhook prune --dry-run` says what would go beside a running server, and
//! `ivrhook prune` removes it.

use crate::proc::*;
use std::time::Duration;

async fn post(base: &str, call: &str) {
    let resp = crate::http()
        .post(format!("{base}/callback"))
        .body(report(call).to_string())
        .send()
        .await
        .unwrap();
    assert!(resp.text().await.unwrap().contains("000000"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_prunes_old_reports_and_counts_them() {
    let (_guard, dir) = temp_dir();
    let config = "[retention]\nreports = \"1s\"\nevery = \"200ms\"\n";
    std::fs::write(dir.join("ivrhook.toml"), config).unwrap();
    let mut server = serve(&dir, &["--config", "ivrhook.toml"]).await;
    for n in 0..5 {
        post(&server.base, &format!("old-{n}")).await;
    }
    let series = "ivrhook_pruned_rows_total{kind=\"reports\"}";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while metric(&server.base, series).await.unwrap_or(-1.0) < 4.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not pruned: {}",
            stderr(&dir)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        metric(&server.base, series).await,
        Some(4.0),
        "the newest report is kept"
    );
    assert_eq!(stored_call_ids(&server.base).await, ["old-4"]);
    server.child.start_kill().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_dry_run_beside_a_server_then_prune() {
    let (_guard, dir) = temp_dir();
    let mut server = serve(&dir, &[]).await;
    for n in 0..3 {
        post(&server.base, &format!("p-{n}")).await;
    }
    std::fs::write(dir.join("prune.toml"), "[retention]\nreports = \"1s\"\n").unwrap();
    let dry = ["prune", "--dry-run", "--config", "prune.toml"];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let out = run_ok(&dir, &dry).await;
        if out.contains("would remove 2 reports") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{out}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        stored_call_ids(&server.base).await.len(),
        3,
        "a dry run removes nothing"
    );
    let (_, err) = run_fails(&dir, &["prune", "--config", "prune.toml"]).await;
    assert!(err.contains("a running server prunes on its own"), "{err}");
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();

    let out = run_ok(&dir, &["prune", "--config", "prune.toml"]).await;
    assert!(out.contains("removed 2 reports"), "{out}");
    let again = serve(&dir, &[]).await;
    assert_eq!(stored_call_ids(&again.base).await, ["p-2"]);
}
