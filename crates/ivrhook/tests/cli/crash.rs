//! Durability across an abrupt kill and a graceful stop: every report answered `000000` is
//! found after a restart.

use crate::proc::*;
use std::{collections::HashSet, time::Duration};

async fn check_every_ack_survives(dir: &std::path::Path, acked: &[String]) {
    let again = serve(dir, &[]).await;
    let stored: HashSet<String> = stored_call_ids(&again.base).await.into_iter().collect();
    let lost: Vec<&String> = acked.iter().filter(|c| !stored.contains(*c)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged reports lost: {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(5)]
    );
    // Stored but never answered is allowed (the answer was lost with the process).
    eprintln!("{} acknowledged, {} stored", acked.len(), stored.len());
    // One report's timeline, through the API a business would use.
    let body: serde_json::Value = crate::http()
        .get(format!("{}/v1/calls/{}", again.base, acked[0]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["reports"][0]["commands"][0]["keys"], "9");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_clients_send_loses_no_acknowledged_report() {
    let (_guard, dir) = temp_dir();
    let mut server = serve(&dir, &[]).await;
    let load = Load::start(&server.base, 16);
    load.wait_for_acks(1000).await;
    server.child.start_kill().expect("SIGKILL sent");
    server.child.wait().await.expect("killed");
    let acked = load.finish().await;
    assert!(acked.len() >= 1000);
    check_every_ack_survives(&dir, &acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_answers_what_is_in_flight_and_exits_zero() {
    let (_guard, dir) = temp_dir();
    let mut server = serve(&dir, &[]).await;
    let load = Load::start(&server.base, 16);
    load.wait_for_acks(100).await;
    assert!(dir.join("ivrhook.db.lock").exists(), "held while serving");
    let pid = server.child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(30), server.child.wait())
        .await
        .expect("exits within 30 s of SIGTERM")
        .unwrap();
    assert!(
        exit.success(),
        "exit status {exit:?}; stderr: {}",
        stderr(&dir)
    );
    assert!(
        !dir.join("ivrhook.db.lock").exists(),
        "a clean exit removes its lock file"
    );
    let acked = load.finish().await;
    check_every_ack_survives(&dir, &acked).await;
}

/// SIGKILL under load: the stored counts (written once a second), the overview's and the
/// analytics', miss at most the reports of about the last second, and count nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_at_most_the_last_second_of_activity_and_analytics_counts() {
    let (_guard, dir) = temp_dir();
    let mut server = serve(&dir, &[]).await;
    let senders = 16;
    let load = Load::start(&server.base, senders);
    // Several seconds of load, so the last second is a small part of it.
    let started = tokio::time::Instant::now();
    load.wait_for_acks(10_000).await;
    tokio::time::sleep_until(started + Duration::from_secs(6)).await;
    let killed = tokio::time::Instant::now();
    server.child.start_kill().expect("SIGKILL sent");
    server.child.wait().await.expect("killed");
    // The last flush interval, with room for a flush whose write was under way.
    let recent = load.acked_since(killed - Duration::from_millis(1500));
    let acked = load.finish().await.len();
    assert!(
        recent * 2 < acked,
        "the last 1.5 s ({recent}) are a small part of {acked}"
    );
    let conn = rusqlite::Connection::open(dir.join("ivrhook.db")).unwrap();
    let sum = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let stored = sum("SELECT COUNT(*) FROM reports");
    let counts = [
        (
            "activity",
            "SELECT COALESCE(SUM(n), 0) FROM activity WHERE what = 'received' AND label = '000000'",
        ),
        (
            "analytics",
            "SELECT COALESCE(SUM(n), 0) FROM analytics WHERE what = 'calls'",
        ),
    ];
    for (what, sql) in counts {
        let counted = sum(sql);
        eprintln!(
            "{what}: {stored} stored, {counted} counted, {recent} acknowledged in the last 1.5 s"
        );
        assert!(
            counted <= stored,
            "{what} counted twice: {counted} of {stored}"
        );
        // Stored but not yet answered when the process died: at most one per sender.
        let bound = (recent + senders) as i64;
        assert!(
            stored - counted <= bound,
            "{} {what} counts lost, more than the last second's {bound}",
            stored - counted
        );
        assert!(counted > 0, "{what} counts were written before the kill");
    }
}
