//! `ivrhook tail` against a real server: new reports followed live, as JSON or as lines.

use crate::proc::*;
use serde_json::Value;
use std::{process::Stdio, time::Duration};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};

type Out = Lines<BufReader<tokio::process::ChildStdout>>;

/// Starts `ivrhook tail ARGS` against `base` and waits until its stream is open.
async fn tail(
    dir: &std::path::Path,
    base: &str,
    args: &[&str],
    streams: f64,
) -> (tokio::process::Child, Out) {
    let mut child = ivrhook(dir)
        .args(["tail", "--server", base])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("ivrhook tail starts");
    let out = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while metric(base, "ivrhook_feed_waiting ").await.unwrap_or(0.0) < streams {
        assert!(
            tokio::time::Instant::now() < deadline,
            "tail never connected"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (child, out)
}

async fn next_line(out: &mut Out) -> String {
    tokio::time::timeout(Duration::from_secs(20), out.next_line())
        .await
        .expect("a line within the deadline")
        .unwrap()
        .expect("tail still running")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_follows_new_reports_as_json_and_as_lines() {
    let (_guard, dir) = temp_dir();
    let mut server = serve(&dir, &[]).await;
    let base = server.base.clone();
    post_accepted(&base, &report("old")).await;
    let (mut json_tail, mut json_out) = tail(&dir, &base, &["--json"], 1.0).await;
    let (mut call_tail, mut call_out) = tail(&dir, &base, &["--call", "tail-2"], 2.0).await;
    post_accepted(&base, &report("tail-1")).await;
    let mut hung_up = report("tail-2");
    hung_up["status"] = 1.into();
    hung_up["hungup"] = r#"{"reason":16,"fileName":"https://r.example/2.wav"}"#.into();
    post_accepted(&base, &hung_up).await;

    let first: Value = serde_json::from_str(&next_line(&mut json_out).await).unwrap();
    let second: Value = serde_json::from_str(&next_line(&mut json_out).await).unwrap();
    assert_eq!(
        (first["callId"].as_str(), second["callId"].as_str()),
        (Some("tail-1"), Some("tail-2"))
    );
    let line = next_line(&mut call_out).await;
    assert!(
        line.contains("call=tail-2  hung up"),
        "only the call asked for: {line}"
    );
    assert!(line.contains("dtmf 3.0s keys=9"), "{line}");
    assert!(
        line.contains("hangup reason=16 recording=https://r.example/2.wav"),
        "{line}"
    );
    json_tail.start_kill().unwrap();
    call_tail.start_kill().unwrap();
    server.child.start_kill().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_says_why_it_cannot_reach_the_server() {
    let (_guard, dir) = temp_dir();
    let (_, stderr) = run_fails(&dir, &["tail", "--server", "http://127.0.0.1:1"]).await;
    assert!(
        stderr.contains("could not reach ivrhook at http://127.0.0.1:1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Connection refused") || stderr.contains("connection refused"),
        "{stderr}"
    );
    assert!(stderr.contains("--server or IVRHOOK_SERVER"), "{stderr}");
    let (_, stderr) = run_fails(&dir, &["tail", "--server", "127.0.0.1:8080"]).await;
    assert!(
        stderr.contains("did you mean http://127.0.0.1:8080?"),
        "{stderr}"
    );
}
