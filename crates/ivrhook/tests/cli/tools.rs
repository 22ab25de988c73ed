//! `ivrhook check` and `ivrhook simulate` against real receivers.

use crate::proc::*;
use ivrhook_testkit::{Reply, Sink, APP};
use serde_json::Value;

async fn serve_app(dir: &std::path::Path) -> Running {
    std::fs::write(
        dir.join("ivrhook.toml"),
        format!("[[apps]]\nid = \"{APP}\"\n"),
    )
    .unwrap();
    serve(dir, &["--config", "ivrhook.toml"]).await
}

/// A receiver that answers every request with the same body.
async fn broken(answer: &str) -> Sink {
    let sink = Sink::start().await;
    sink.always(Reply::status(200).body(answer));
    sink
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_against_ivrhooks_receiver() {
    let (_guard, dir) = temp_dir();
    let mut server = serve_app(&dir).await;
    let url = format!("{}/callback", server.base);
    let table = run_ok(&dir, &["check", &url, "--app", APP]).await;
    assert!(table.contains("24 passed, 0 failed\n"), "{table}");
    assert!(
        stored_events(&server.base).await.is_empty(),
        "check requests are not stored"
    );
    assert!(table.contains("spec example: partly executed (hungup as JSON text)"));
    server.child.start_kill().unwrap();
}

/// The README's first-run server takes any appId: the unknown-app case cannot be checked,
/// and says so instead of failing; nothing the check sent is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_against_a_first_run_server_passes_says_what_it_could_not_check_and_stores_nothing() {
    let (_guard, dir) = temp_dir();
    let mut server = serve(&dir, &[]).await;
    let url = format!("{}/callback", server.base);
    let table = run_ok(&dir, &["check", &url]).await;
    assert!(
        table.contains("23 passed, 0 failed, 1 not checked: the receiver accepted an appId"),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.contains("unknown appId") && l.ends_with("not checked")),
        "{table}"
    );
    assert!(stored_events(&server.base).await.is_empty());
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
        let receiver = broken(answer).await;
        let url = receiver.url();
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
    let row = |label: &str| row(&summary, label);
    assert_eq!(row("reports sent").as_deref(), Some("200"), "{summary}");
    assert_eq!(row("answered 000000").as_deref(), Some("200"), "{summary}");
    assert!(summary.contains("latency p99") && summary.contains("reports/s"));

    let stored = stored_events(&server.base).await;
    assert_eq!(stored.len(), 200);
    let hung_up = stored.iter().filter(|e| e["status"] == "hungup").count();
    assert!(
        (60..=140).contains(&hung_up),
        "about half hung up: {hung_up}"
    );
    assert!(stored
        .iter()
        .filter(|e| e["status"] == "hungup")
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
    let page: Value = crate::http()
        .get(format!("{base}/v1/events?limit=1000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["events"].as_array().unwrap().clone()
}

/// A summary row's last word, e.g. the count of `answered 108101`.
fn row(summary: &str, label: &str) -> Option<String> {
    summary
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .map(|l| l.split_whitespace().last().unwrap_or("").to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_fails_when_reports_are_not_accepted_and_retries_only_what_may_succeed() {
    let (_guard, dir) = temp_dir();
    let refusing = broken(r#"{"code":"108101","msg":"unknown app"}"#).await;
    let args = ["simulate", "--target", &refusing.url(), "--calls", "20"];
    let (summary, err) = run_fails(&dir, &args).await;
    assert_eq!(row(&summary, "answered 108101").as_deref(), Some("20"));
    assert_eq!(
        row(&summary, "requests").as_deref(),
        Some("20"),
        "{summary}"
    );
    assert!(summary.contains("none accepted"), "{summary}");
    assert!(
        err.contains("20 of 20 reports were not accepted: 20 × 108101"),
        "{err}"
    );

    // A 404 never becomes a success by being sent again.
    let absent = Sink::start().await;
    absent.answer(404);
    let missing = format!("http://{}/not-here", absent.addr);
    let args = ["simulate", "--target", &missing, "--calls", "5"];
    let (summary, err) = run_fails(&dir, &args).await;
    assert_eq!(row(&summary, "requests").as_deref(), Some("5"), "{summary}");
    assert!(err.contains("5 × HTTP 404, not JSON"), "{err}");
    let callback = missing.replace("/not-here", "/callback");
    let hint = "nothing takes reports at /not-here: an ivrhook takes them at /callback";
    assert!(err.contains(hint), "{err}");
    assert!(err.contains(&format!("e.g. --target {callback}")), "{err}");

    // 108102 is retried, and the retries are counted apart from the final answers.
    let full = broken(r#"{"code":"108102","msg":"queue full"}"#).await;
    let args = ["simulate", "--target", &full.url(), "--calls", "1"];
    let (summary, _) = run_fails(&dir, &args).await;
    assert_eq!(row(&summary, "answered 108102").as_deref(), Some("1"));
    assert_eq!(row(&summary, "retried after 108102").as_deref(), Some("5"));
    assert_eq!(row(&summary, "requests").as_deref(), Some("6"), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_and_check_refuse_a_target_without_a_scheme_before_sending() {
    let (_guard, dir) = temp_dir();
    let (out, err) = run_fails(
        &dir,
        &[
            "simulate",
            "--target",
            "127.0.0.1:9/callback",
            "--calls",
            "1",
        ],
    )
    .await;
    assert!(out.is_empty(), "nothing was sent: {out}");
    assert!(
        err.contains("--target \"127.0.0.1:9/callback\": has no scheme: did you mean http://127.0.0.1:9/callback?"),
        "{err}"
    );
    let (out, err) = run_fails(&dir, &["check", "localhost:9/callback"]).await;
    assert!(out.is_empty(), "nothing was checked: {out}");
    assert!(
        err.contains("did you mean http://localhost:9/callback?"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_names_the_root_cause_when_nothing_answers() {
    let (_guard, dir) = temp_dir();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/callback", listener.local_addr().unwrap());
    drop(listener);
    let args = ["simulate", "--target", &url, "--calls", "1"];
    let (summary, err) = run_fails(&dir, &args).await;
    assert!(
        summary.contains("answered no answer: Connection refused"),
        "{summary}"
    );
    assert!(err.contains("1 × no answer: Connection refused"), "{err}");
}

/// `simulate --ivr-flow example`: the calls walk the built-in menu tree, and the analytics
/// show it (every call starts at `welcome`, the main menu's keys, hang-ups where the tree
/// puts them); a tree with a mistake is refused by the key that holds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_walks_an_ivr_flow_that_the_analytics_show() {
    let (_guard, dir) = temp_dir();
    let mut server = serve_app(&dir).await;
    let url = format!("{}/callback", server.base);
    let args = [
        "simulate",
        "--target",
        &url,
        "--calls",
        "400",
        "--ivr-flow",
        "example",
    ];
    let summary = run_ok(&dir, &args).await;
    assert_eq!(
        row(&summary, "answered 000000").as_deref(),
        Some("400"),
        "{summary}"
    );
    let analytics = format!("{}/v1/apps/{APP}/analytics", server.base);
    let get = || async {
        let resp = crate::http().get(&analytics).send().await.unwrap();
        resp.json::<Value>().await.unwrap()
    };
    ivrhook_testkit::eventually("400 calls counted", || async {
        get().await["calls"] == 400
    })
    .await;
    let a = get().await;
    let first = &a["funnel"][0]["steps"][0];
    assert_eq!(
        (first["prompt"].as_str(), first["reached"].as_i64()),
        (Some("welcome"), Some(400))
    );
    let prompts = a["prompts"].as_array().unwrap();
    let menu = prompts.iter().find(|p| p["prompt"] == "main menu").unwrap();
    assert_eq!(menu["position"], 2);
    let keys: Vec<&str> = (menu["dtmf"]["keys"].as_array().unwrap().iter())
        .map(|k| k["keys"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["1", "2", "0"], "by weight 6, 3, 1");
    let support = prompts
        .iter()
        .find(|p| p["prompt"] == "technical support")
        .unwrap();
    let share = support["hung_up_share"].as_f64().unwrap();
    assert!(
        (0.2..0.5).contains(&share),
        "about 35 % hang up there: {share}"
    );

    std::fs::write(
        dir.join("flow.toml"),
        "start = \"hello\"\n[[prompts]]\nname = \"hi\"\nseconds = [1, 2]\n",
    )
    .unwrap();
    let bad = [
        "simulate",
        "--target",
        &url,
        "--calls",
        "1",
        "--ivr-flow",
        "flow.toml",
    ];
    let (_, err) = run_fails(&dir, &bad).await;
    assert!(
        err.contains("--ivr-flow flow.toml: start: \"hello\" is not a prompt's name"),
        "{err}"
    );
    server.child.start_kill().unwrap();
}
