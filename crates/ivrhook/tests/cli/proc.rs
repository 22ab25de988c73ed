//! Starting `ivrhook serve` as a child process and driving it with concurrent senders.

use serde_json::Value;
use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
    task::JoinHandle,
};

pub struct Running {
    pub child: Child,
    pub base: String,
    pub line: String,
}

pub fn ivrhook(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ivrhook"));
    // Every IVRHOOK_* variable is configuration: none of the test runner's may leak in.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("IVRHOOK_") {
            cmd.env_remove(name);
        }
    }
    cmd.current_dir(dir)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true);
    cmd
}

/// Runs `ivrhook ARGS` in `dir` to the end; panics with its output unless it succeeded.
/// Returns what it printed on stdout.
pub async fn run_ok(dir: &Path, args: &[&str]) -> String {
    let out = ivrhook(dir)
        .args(args)
        .output()
        .await
        .expect("ivrhook runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "ivrhook {args:?} failed:\n{stdout}{stderr}"
    );
    stdout
}

/// Runs `ivrhook ARGS` in `dir` to the end; panics unless it failed. Returns (stdout, stderr).
pub async fn run_fails(dir: &Path, args: &[&str]) -> (String, String) {
    run_fails_with_env(dir, args, &[]).await
}

/// `run_fails`, with these environment variables set.
pub async fn run_fails_with_env(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (String, String) {
    let out = ivrhook(dir)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .await
        .expect("ivrhook runs");
    assert!(!out.status.success(), "ivrhook {args:?} should have failed");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (text(&out.stdout), text(&out.stderr))
}

/// Starts `ivrhook serve --listen 127.0.0.1:0 ARGS` in `dir` and waits for its start-up line.
pub async fn serve(dir: &Path, args: &[&str]) -> Running {
    serve_with_env(dir, args, &[]).await
}

/// `serve`, with these environment variables set.
pub async fn serve_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Running {
    serve_listening(dir, "127.0.0.1:0", args, env).await
}

/// `ivrhook serve --listen LISTEN ARGS` with `env`, its start-up line awaited; stderr goes to
/// `stderr.log` in `dir`.
pub async fn serve_listening(
    dir: &Path,
    listen: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Running {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("stderr.log"))
        .expect("log file");
    let mut child = ivrhook(dir)
        .args(["serve", "--listen", listen])
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("ivrhook starts");
    let stdout = child.stdout.take().expect("stdout piped");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("start-up line within 30 s")
        .expect("stdout readable")
        .unwrap_or_else(|| panic!("ivrhook exited: {}", stderr(dir)));
    let base = match serde_json::from_str::<Value>(&line) {
        Ok(json) => json["url"].as_str().map(str::to_owned),
        Err(_) => line
            .split(' ')
            .find(|word| word.starts_with("http://") || word.starts_with("https://"))
            .map(str::to_owned),
    };
    let base = base.unwrap_or_else(|| panic!("no address in {line:?}"));
    Running { child, base, line }
}

/// A file of the repository's `fixtures/` folder, as the docs' commands name it.
pub fn fixture(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    dir.join(name).display().to_string()
}

/// The value of a series in the server's `/metrics`, when it is there.
pub async fn metric(base: &str, series: &str) -> Option<f64> {
    let text = crate::http()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    (text.lines()).find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

pub fn stderr(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
}

pub use ivrhook_testkit::observed_report as report;

/// Senders posting distinct reports until the server stops answering; every callId answered
/// `000000` is recorded in `acked`.
pub struct Load {
    pub acked: Arc<Mutex<Vec<String>>>,
    /// When each of `acked` was answered.
    acked_at: Arc<Mutex<Vec<tokio::time::Instant>>>,
    stop: Arc<AtomicBool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Load {
    pub fn start(base: &str, senders: usize) -> Load {
        Load::named(base, senders, "load")
    }

    /// `start`, with callIds `{prefix}-{sender}-{n}`.
    pub fn named(base: &str, senders: usize, prefix: &str) -> Load {
        let acked = Arc::new(Mutex::new(Vec::new()));
        let acked_at = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let client = crate::http_builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let tasks = (0..senders)
            .map(|task| {
                let (acked, stop, client) = (acked.clone(), stop.clone(), client.clone());
                let acked_at = acked_at.clone();
                let url = format!("{base}/callback");
                let prefix = prefix.to_owned();
                tokio::spawn(async move {
                    for n in 0.. {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let call = format!("{prefix}-{task}-{n}");
                        let Ok(resp) = client
                            .post(&url)
                            .body(report(&call).to_string())
                            .send()
                            .await
                        else {
                            break;
                        };
                        let Ok(answer) = resp.json::<Value>().await else {
                            break;
                        };
                        if answer["code"] == "000000" {
                            acked.lock().unwrap().push(call);
                            acked_at.lock().unwrap().push(tokio::time::Instant::now());
                        }
                    }
                })
            })
            .collect();
        Load {
            acked,
            acked_at,
            stop,
            tasks,
        }
    }

    /// Reports acknowledged at or after `t`.
    pub fn acked_since(&self, t: tokio::time::Instant) -> usize {
        self.acked_at
            .lock()
            .unwrap()
            .iter()
            .filter(|a| **a >= t)
            .count()
    }

    pub fn acked_count(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    /// Waits until at least `n` reports were acknowledged (at most 60 s).
    pub async fn wait_for_acks(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while self.acked_count() < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} acks in 60 s",
                self.acked_count()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stops the senders (they also stop by themselves when the server is gone).
    pub async fn finish(self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            t.await.expect("sender task");
        }
        let acked = self.acked.lock().unwrap().clone();
        acked
    }
}

/// Every callId stored, read through the events API.
pub async fn stored_call_ids(base: &str) -> Vec<String> {
    let client = crate::http();
    let mut ids = Vec::new();
    let mut cursor = String::from("0");
    loop {
        let page: Value = client
            .get(format!("{base}/v1/events?after={cursor}&limit=1000"))
            .send()
            .await
            .expect("events API answers")
            .json()
            .await
            .expect("JSON page");
        let events = page["events"].as_array().expect("events array");
        if events.is_empty() {
            return ids;
        }
        ids.extend(
            events
                .iter()
                .map(|e| e["callId"].as_str().unwrap().to_owned()),
        );
        cursor = page["next"].as_str().unwrap().to_owned();
    }
}

pub fn temp_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_owned();
    (dir, path)
}

/// Waits (up to 120 s: a process under test may be slow to start) until `done`.
pub async fn wait_until(what: &str, done: impl FnMut() -> bool) {
    ivrhook_testkit::wait_until(what, Duration::from_secs(120), done).await
}

/// How many deliveries to `destination` in `state` the server at `base` lists (up to 1,000).
pub async fn deliveries_in(base: &str, destination: &str, state: &str) -> usize {
    let url = format!("{base}/v1/deliveries?destination={destination}&state={state}&limit=1000");
    get_json(&url).await["deliveries"].as_array().unwrap().len()
}

/// `GET url`'s JSON answer.
pub async fn get_json(url: &str) -> Value {
    let answer = crate::http().get(url).send().await.unwrap();
    answer.json().await.unwrap()
}

/// POSTs `body` to the server's callback path and checks it was answered `000000`.
pub async fn post_accepted(base: &str, body: &Value) {
    let answer = crate::http()
        .post(format!("{base}/callback"))
        .json(body)
        .send()
        .await;
    let answer: Value = answer.unwrap().json().await.unwrap();
    assert_eq!(answer["code"], "000000", "{answer}");
}
