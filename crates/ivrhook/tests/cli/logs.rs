//! What an operator sees in the log at the default level without asking: dead deliveries,
//! destinations going down and coming back, refused reports (counted, not one line each),
//! start-up and shutdown; in both formats, from a real `ivrhook serve`.

use crate::proc::*;
use serde_json::Value;
use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use ivrhook_testkit::APP;

/// A webhook destination at a port where nothing listens yet; one attempt per delivery.
fn config(dir: &Path, port: u16, format: &str) {
    let text = format!(
        "log_format = \"{format}\"\nlog_refusals_every = \"2s\"\n[[apps]]\nid = \"{APP}\"\n\
         [[destinations]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:{port}/h\"\n\
         retry_schedule = [\"0s\"]\n"
    );
    std::fs::write(dir.join("ivrhook.toml"), text).unwrap();
}

async fn free_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

async fn post(base: &str, body: String) -> Value {
    let url = format!("{base}/callback");
    let resp = crate::http().post(url).body(body).send().await.unwrap();
    resp.json().await.unwrap()
}

/// A server on `config(format)` whose logs go to `dir/stderr.log`, after `failures`.
async fn failing(format: &str, log: &str) -> (tempfile::TempDir, PathBuf, u16, Running) {
    let (guard, dir) = temp_dir();
    let port = free_port().await;
    config(&dir, port, format);
    let env = [("RUST_LOG", log)];
    let server = serve_with_env(&dir, &["--config", "ivrhook.toml"], &env).await;
    failures(&server.base).await;
    (guard, dir, port, server)
}

/// The webhook starts answering; a report makes the breaker's next probe go to it.
async fn come_back(port: u16, base: &str) -> ivrhook_testkit::Sink {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let hook = ivrhook_testkit::Sink::start_at(addr).await;
    post(base, report("log-back").to_string()).await;
    hook
}

/// Five reports forwarded to a dead webhook, and three bad reports.
async fn failures(base: &str) {
    for n in 0..5 {
        assert_eq!(
            post(base, report(&format!("log-{n}")).to_string()).await["code"],
            "000000"
        );
    }
    let mut bad = report("log-bad");
    bad["status"] = serde_json::json!(7);
    for _ in 0..3 {
        assert_eq!(post(base, bad.to_string()).await["code"], "108100");
    }
}

/// The log's JSON lines, once `found` holds for them.
async fn json_lines(dir: &Path, what: &str, found: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let lines: Vec<Value> = (stderr(dir).lines())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: not JSON: {l}")))
            .collect();
        if found(&lines) {
            return lines;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {what} in:\n{}",
            stderr(dir)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn with<'a>(lines: &'a [Value], message: &str) -> Vec<&'a Value> {
    (lines.iter())
        .filter(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(message))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_logged_as_json_without_a_line_per_request() {
    let log = "info,ivrhook_server::api::request_id=debug";
    let (_guard, dir, port, mut server) = failing("json", log).await;
    let lines = json_lines(&dir, "dead deliveries and a refusal summary", |l| {
        with(l, "delivery dead").len() == 5 && !with(l, "reports refused").is_empty()
    })
    .await;
    let dead = with(&lines, "delivery dead");
    assert!(
        dead.iter()
            .all(|l| l["level"] == "WARN" && l["destination"] == "crm"),
        "{dead:?}"
    );
    assert!(dead.iter().any(|l| l["call"] == "log-0"), "{dead:?}");
    assert!(
        dead[0]["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{dead:?}"
    );
    let first = with(&lines, "report refused");
    assert_eq!(first.len(), 1, "one line for the first refusal: {first:?}");
    assert_eq!(
        (first[0]["app"].as_str(), first[0]["code"].as_str()),
        (Some(APP), Some("108100"))
    );
    assert!(
        first[0]["reason"].as_str().unwrap().starts_with("status: "),
        "{first:?}"
    );
    let summary = with(&lines, "reports refused");
    assert_eq!(summary[0]["refused"], 3, "{summary:?}");
    let opened = with(&lines, "destination unreachable");
    assert_eq!(opened.len(), 1, "the breaker opened once: {opened:?}");
    assert!(
        opened[0]["until"].as_str().is_some_and(|u| u.contains('T')),
        "{opened:?}"
    );
    assert!(!with(&lines, "started").is_empty());

    let _hook = come_back(port, &server.base).await;
    json_lines(&dir, "the breaker closing", |l| {
        !with(l, "destination reachable again").is_empty()
    })
    .await;

    // An API response's request id is on its log line.
    let resp = crate::http()
        .get(format!("{}/v1/deliveries?state=dead", server.base))
        .send()
        .await
        .unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let lines = json_lines(&dir, "the API request's line", |l| {
        with(l, "API request answered")
            .iter()
            .any(|a| a["span"]["request_id"] == id.as_str())
    })
    .await;
    let successes = lines
        .iter()
        .filter(|l| l["target"] == "ivrhook_server::inbound")
        .count();
    assert_eq!(successes, 0, "no line per received report");
    server.child.start_kill().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_logged_as_text_lines() {
    let (_guard, dir, port, mut server) = failing("text", "info").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let text = loop {
        let text = stderr(&dir);
        if text.matches("delivery dead").count() == 5 && text.contains("reports refused") {
            break text;
        }
        assert!(tokio::time::Instant::now() < deadline, "{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let dead = text.lines().find(|l| l.contains("delivery dead")).unwrap();
    assert!(
        dead.contains("WARN") && dead.contains("destination=\"crm\""),
        "{dead}"
    );
    assert!(
        text.contains("destination unreachable: circuit breaker open"),
        "{text}"
    );
    let refused = text
        .lines()
        .find(|l| l.contains("reports refused"))
        .unwrap();
    assert!(
        refused.contains("refused=3") && refused.contains("code=\"108100\""),
        "{refused}"
    );
    assert!(
        text.lines()
            .all(|l| serde_json::from_str::<Value>(l).is_err()),
        "text, not JSON"
    );

    let _hook = come_back(port, &server.base).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !stderr(&dir).contains("destination reachable again: circuit breaker closed") {
        assert!(tokio::time::Instant::now() < deadline, "{}", stderr(&dir));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let closed = (stderr(&dir).lines())
        .find(|l| l.contains("circuit breaker closed"))
        .map(str::to_owned)
        .unwrap();
    assert!(
        closed.contains("INFO") && closed.contains("destination=\"crm\""),
        "{closed}"
    );
    server.child.start_kill().unwrap();
}

/// With `--log-format json` every line the process writes is one JSON object, from the
/// start-up line on stdout (where it listens, keeps its data and serves the dashboard) to the
/// line that says it stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_json_every_line_from_start_to_shutdown_is_an_object() {
    let (_guard, dir) = temp_dir();
    let env = [("RUST_LOG", "info")];
    let mut server = serve_with_env(&dir, &["--log-format", "json"], &env).await;
    let start: Value = serde_json::from_str(&server.line)
        .unwrap_or_else(|e| panic!("{e}: the start-up line is not JSON: {}", server.line));
    assert_eq!(start["url"], server.base.as_str());
    assert_eq!(start["dashboard"], format!("{}/", server.base));
    let listen = start["listen"].as_str().unwrap();
    assert!(server.base.ends_with(listen), "{start}");
    let data = start["data"].as_str().unwrap();
    assert!(data.ends_with("ivrhook.db"), "{start}");
    assert_eq!(start["level"], "INFO");
    let code = post(&server.base, report("json-1").to_string()).await;
    assert_eq!(code["code"], "000000");
    let pid = server.child.id().expect("running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let exit = tokio::time::timeout(Duration::from_secs(30), server.child.wait())
        .await
        .expect("exits within 30 s of SIGTERM")
        .unwrap();
    assert!(exit.success(), "{exit:?}: {}", stderr(&dir));
    let lines = json_lines(&dir, "start and stop", |l| {
        !with(l, "started").is_empty() && !with(l, "stopped").is_empty()
    })
    .await;
    assert!(lines.len() >= 2, "{lines:?}");
}

/// A configuration file that asks for JSON logs and fails to load is refused in JSON: the
/// line names the key, and says which one was meant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_asking_for_json_is_refused_in_json() {
    let (_guard, dir) = temp_dir();
    let text = format!(
        "log_format = \"json\"\n[[apps]]\nid = \"{APP}\"\ncallbak_url = \"http://127.0.0.1:1/cb\"\n"
    );
    std::fs::write(dir.join("ivrhook.toml"), text).unwrap();
    let (_, err) = run_fails(&dir, &["serve", "--config", "ivrhook.toml"]).await;
    let lines: Vec<Value> = (err.lines())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: not JSON: {l}")))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert_eq!(lines[0]["level"], "ERROR", "{err}");
    assert_eq!(lines[0]["key"], "apps[0].callbak_url", "{err}");
    let error = lines[0]["error"].as_str().unwrap();
    assert!(error.contains("did you mean `callback_url`?"), "{err}");

    // A file that is not TOML at all, with JSON asked for by the environment: JSON still.
    std::fs::write(dir.join("broken.toml"), "[[apps]\n").unwrap();
    let env = [("IVRHOOK_LOG_FORMAT", "json")];
    let args = ["serve", "--config", "broken.toml"];
    let (_, err) = run_fails_with_env(&dir, &args, &env).await;
    let line: Value =
        serde_json::from_str(err.trim()).unwrap_or_else(|e| panic!("{e}: not JSON: {err}"));
    assert_eq!(line["level"], "ERROR", "{err}");
}
