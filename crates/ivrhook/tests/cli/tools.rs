//! `ivrhook check` and `ivrhook simulate` against real receivers.

use crate::proc::*;
use axum::{routing::post, Router};
use serde_json::Value;

const APP: &str = "247e35ff320a4142a105024055c367cf";

async fn serve_app(dir: &std::path::Path) -> Running {
    std::fs::write(
        dir.join("ivrhook.toml"),
        format!("[[apps]]\nid = \"{APP}\"\n"),
    )
    .unwrap();
    serve(dir, &["--config", "ivrhook.toml"]).await
}

/// A receiver that answers every request with the same body.
async fn broken(answer: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", listener.local_addr().unwrap());
    let app = Router::new().route("/cb", post(move || async move { answer }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_against_ivrhooks_receiver() {
    let (_guard, dir) = temp_dir();
    let mut server = serve_app(&dir).await;
    let url = format!("{}/callback", server.base);
    let table = run_ok(&dir, &["check", &url, "--app", APP]).await;
    assert!(table.contains("24 passed, 0 failed"), "{table}");
    assert!(table.contains("spec example: partly executed (hungup as JSON text)"));
    server.child.start_kill().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_fails_against_a_broken_receiver() {
    let (_guard, dir) = temp_dir();
    for (answer, why) in [
        (r#"{"code":"000000"}"#, "108100"),
        (r#"{"code":0}"#, "is not a string"),
        ("OK", "not JSON"),
    ] {
        let url = broken(answer).await;
        let (table, err) = run_fails(&dir, &["check", &url]).await;
        assert!(
            table.lines().any(|l| l.contains("FAIL") && l.contains(why)),
            "{answer}: {table}"
        );
        assert!(err.contains("cases failed"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_sends_realistic_reproducible_traffic() {
    let (_guard, dir) = temp_dir();
    let mut server = serve_app(&dir).await;
    let url = format!("{}/callback", server.base);
    let args = [
        "simulate",
        "--target",
        &url,
        "--calls",
        "200",
        "--concurrency",
        "8",
        "--seed",
        "5",
        "--hangup-ratio",
        "0.5",
    ];
    let summary = run_ok(&dir, &args).await;
    let row = |label: &str| {
        summary
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .map(|l| l.split_whitespace().last().unwrap_or("").to_owned())
    };
    assert_eq!(row("reports sent").as_deref(), Some("200"), "{summary}");
    assert_eq!(row("answered 000000").as_deref(), Some("200"), "{summary}");
    assert!(summary.contains("latency p99") && summary.contains("reports/s"));

    let stored = stored_events(&server.base).await;
    assert_eq!(stored.len(), 200);
    let hung_up = stored.iter().filter(|e| e["status"] == 1).count();
    assert!(
        (60..=140).contains(&hung_up),
        "about half hung up: {hung_up}"
    );
    assert!(stored
        .iter()
        .filter(|e| e["status"] == 1)
        .all(|e| e["hangup"]["recordingUrl"].is_string()));
    assert!(stored
        .iter()
        .any(|e| e["data"].as_str().is_some_and(|d| !d.is_ascii())));

    // The same seed sends the same reports again: all duplicates, nothing new stored.
    run_ok(&dir, &args).await;
    assert_eq!(stored_events(&server.base).await.len(), 200);
    server.child.start_kill().unwrap();
}

async fn stored_events(base: &str) -> Vec<Value> {
    let page: Value = reqwest::get(format!("{base}/v1/events?limit=1000"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["events"].as_array().unwrap().clone()
}
