//! The sender as an operator runs it: `ivrhook send`, and a process killed mid-delivery.

use crate::proc::*;
use ivrhook_testkit::{Reply, Sink, APP};
use serde_json::Value;
use std::time::Duration;

/// A business's receiver answering `000000` after `delay`.
async fn receiver(delay: Duration) -> (Sink, String) {
    let sink = Sink::business().await;
    sink.always(Reply::code("000000").after(delay));
    let url = sink.url();
    (sink, url)
}

fn config(dir: &std::path::Path, url: &str) {
    let text = format!("[[apps]]\nid = \"{APP}\"\ncallback_url = \"{url}\"\nmax_in_flight = 8\n");
    std::fs::write(dir.join("ivrhook.toml"), text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_hands_a_report_to_a_running_ivrhook() {
    let (receiver, url) = receiver(Duration::ZERO).await;
    let (_guard, dir) = temp_dir();
    config(&dir, &url);
    let mut server = serve(&dir, &["--config", "ivrhook.toml"]).await;
    std::fs::write(dir.join("report.json"), report("sent-1").to_string()).unwrap();
    let printed = run_ok(
        &dir,
        &[
            "send",
            "--app",
            APP,
            "--server",
            &server.base,
            "report.json",
        ],
    )
    .await;
    let accepted: Value = serde_json::from_str(&printed).unwrap();
    assert!(accepted["eventId"].as_i64().is_some(), "{accepted}");
    wait_until("the report to arrive", || {
        receiver.by_call().contains_key("sent-1")
    })
    .await;

    std::fs::write(dir.join("bad.json"), r#"{"appId": "x"}"#).unwrap();
    let (_, err) = run_fails(
        &dir,
        &["send", "--app", APP, "--server", &server.base, "bad.json"],
    )
    .await;
    assert!(
        err.contains("refused with HTTP 422: callId: required field is missing"),
        "{err}"
    );
    server.child.start_kill().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readmes_send_example_is_accepted_and_takes_its_app_from_the_body() {
    let (receiver, url) = receiver(Duration::ZERO).await;
    let (_guard, dir) = temp_dir();
    config(&dir, &url);
    let mut server = serve(&dir, &["--config", "ivrhook.toml"]).await;
    let example = fixture("send-example.json");
    let printed = run_ok(&dir, &["send", "--server", &server.base, &example]).await;
    let accepted: Value = serde_json::from_str(&printed).unwrap();
    assert!(accepted["eventId"].as_i64().is_some(), "{accepted}");
    wait_until("the example to arrive", || {
        receiver
            .by_call()
            .contains_key("88-2018031000182918181271218-108bc381ca0f42d8-out")
    })
    .await;

    // The spec's own example is refused for sending, and the refusal says why, not "kept".
    let spec = fixture("seed-example-all-succeeded.json");
    let (_, err) = run_fails(&dir, &["send", "--server", &server.base, &spec]).await;
    assert!(
        err.contains(
            "refused with HTTP 422: isNonProfit[3]: is a string, not an object (the contract \
             does not allow this; strict checking refuses it)"
        ),
        "{err}"
    );

    std::fs::write(dir.join("no-app.json"), r#"{"callId": "c"}"#).unwrap();
    let (_, err) = run_fails(&dir, &["send", "--server", &server.base, "no-app.json"]).await;
    assert!(
        err.contains("--app not given, and the report has no appId to take it from"),
        "{err}"
    );
    let (_, err) = run_fails(&dir, &["send", "--server", "127.0.0.1:1", &example]).await;
    assert!(err.contains("did you mean http://127.0.0.1:1?"), "{err}");

    // Broken JSON is told as such, not as a missing --app.
    std::fs::write(dir.join("broken.json"), r#"{"callId": "c","#).unwrap();
    let (_, err) = run_fails(&dir, &["send", "--server", &server.base, "broken.json"]).await;
    assert!(err.contains("the report is not JSON: "), "{err}");
    assert!(!err.contains("--app"), "{err}");
    // An app this server does not have, and one it has without a callback_url, differ.
    let other = "0123456789abcdef0123456789abcdef";
    let args = ["send", "--app", other, "--server", &server.base, &example];
    let (_, err) = run_fails(&dir, &args).await;
    assert!(
        err.contains(&format!("appId: {other} is not an app of this server")),
        "{err}"
    );
    server.child.start_kill().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_mid_delivery_loses_no_accepted_event() {
    // The first 100 are answered at once; the rest hang until the kill, so the kill comes
    // with deliveries in flight whatever the machine's speed.
    let (receiver, url) = receiver(Duration::from_secs(600)).await;
    receiver.script(vec![Reply::code("000000"); 100]);
    let (_guard, dir) = temp_dir();
    config(&dir, &url);
    let mut server = serve(&dir, &["--config", "ivrhook.toml"]).await;
    let client = crate::http();
    let mut accepted = Vec::new();
    for i in 0..400 {
        let call = format!("kill-{i}");
        let resp = client
            .post(format!("{}/v1/apps/{APP}/events", server.base))
            .body(report(&call).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 202);
        accepted.push(call);
    }
    // Every slot holds a hanging request, and the 100 answered are recorded: what is sent
    // again after the kill is exactly what was in flight.
    wait_until("8 requests hanging", || receiver.count() >= 108).await;
    let delivered = format!("{}/v1/deliveries?state=delivered&limit=1000", server.base);
    ivrhook_testkit::eventually("the 100 answered recorded", || async {
        let page: Value = client
            .get(&delivered)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["deliveries"].as_array().map_or(0, Vec::len) == 100
    })
    .await;
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();
    let before_restart = receiver.by_call().len();
    assert!(
        before_restart < accepted.len(),
        "the kill came before everything was delivered"
    );

    receiver.always(Reply::code("000000"));
    let mut again = serve(&dir, &["--config", "ivrhook.toml"]).await;
    wait_until("every accepted event delivered", || {
        let seen = receiver.by_call();
        accepted.iter().all(|c| seen.contains_key(c))
    })
    .await;
    let seen = receiver.by_call();
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    eprintln!(
        "{} accepted, {} delivered before the kill, {} duplicates (in flight when killed)",
        accepted.len(),
        before_restart,
        duplicates
    );
    assert_eq!(
        duplicates, 8,
        "duplicates only for the 8 requests in flight"
    );
    again.child.start_kill().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_retry_counts_a_window_then_sends_its_dead_again() {
    let (receiver, url) = receiver(Duration::ZERO).await;
    receiver.always(Reply::code("108100"));
    let (_guard, dir) = temp_dir();
    config(&dir, &url);
    let mut server = serve(&dir, &["--config", "ivrhook.toml"]).await;
    let base = server.base.clone();
    for call in ["again-1", "again-2", "again-3"] {
        std::fs::write(dir.join("report.json"), report(call).to_string()).unwrap();
        run_ok(&dir, &["send", "--server", &base, "report.json"]).await;
    }
    let destination = format!("app:{APP}");
    let retry = |extra: &[&str]| {
        let mut args = vec!["deliveries", "retry", "--destination", &destination];
        args.extend(["--server", &base]);
        args.extend(extra.iter().copied());
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| {
        let dir = dir.clone();
        async move { run_ok(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>()).await }
    };
    ivrhook_testkit::eventually("the receiver to refuse all three", || async {
        deliveries_in(&base, &format!("app:{APP}"), "dead").await == 3
    })
    .await;
    let counted = run(retry(&["--state", "dead", "--dry-run"])).await;
    assert_eq!(
        counted.trim(),
        format!("3 dead deliveries to {destination} would go now")
    );
    assert_eq!(
        deliveries_in(&base, &format!("app:{APP}"), "dead").await,
        3,
        "a dry run sends nothing"
    );
    let earlier = run(retry(&[
        "--from",
        "2020-01-01T00:00:00Z",
        "--to",
        "2020-01-02T00:00:00Z",
        "--dry-run",
    ]))
    .await;
    assert!(
        earlier.starts_with("0 dead and pending deliveries"),
        "{earlier}"
    );
    let args = retry(&["--from", "yesterday"]);
    let (_, err) = run_fails(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(
        err.contains("--from \"yesterday\": not an RFC 3339 time"),
        "{err}"
    );
    let (_, err) = run_fails(
        &dir,
        &[
            "deliveries",
            "retry",
            "--destination",
            "nope",
            "--server",
            &base,
        ],
    )
    .await;
    assert!(
        err.contains("refused with HTTP 404: destination: \"nope\" is not configured"),
        "{err}"
    );
    receiver.always(Reply::code("000000"));
    let sent = run(retry(&["--state", "dead"])).await;
    assert_eq!(
        sent.trim(),
        format!("3 dead deliveries to {destination} go now")
    );
    wait_until("each sent again and accepted", || {
        receiver.by_call().values().all(|n| *n == 2) && receiver.count() == 6
    })
    .await;
    server.child.start_kill().unwrap();
}
