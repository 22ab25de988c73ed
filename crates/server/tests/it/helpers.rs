//! `spawn_app()` and a typed client for the tests.

use ivrhook_protocol::Answer;
use ivrhook_server::{config::Config, Server, ServerError};
use ivrhook_store::postgres::scratch::ScratchDatabase;
use serde_json::Value;
use std::{net::SocketAddr, path::PathBuf, time::Duration};
use tempfile::TempDir;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

pub use ivrhook_testkit::{eventually, eventually_within, report, APP, SECRET};

#[derive(Debug)]
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub db_path: PathBuf,
    pub database_url: String,
    _dir: TempDir,
    /// Set for a server on PostgreSQL; dropped by `stop`.
    scratch: Option<ScratchDatabase>,
    shutdown: CancellationToken,
    handle: JoinHandle<Result<(), ServerError>>,
}

/// A server with the default configuration (any appId accepted, loopback).
pub async fn spawn_app() -> TestApp {
    spawn_with("").await
}

/// A server configured by `toml` (top-level keys first, then tables), on a fresh SQLite file.
pub async fn spawn_with(toml: &str) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("ivrhook.db");
    let url = format!("sqlite://{}", db_path.display());
    start(&url, toml, dir, None).await
}

/// A server on a fresh PostgreSQL database named `ivrhook_it_<name>` (`TEST_DATABASE_URL`
/// names the server; default postgres://postgres@127.0.0.1:5432/postgres).
pub async fn spawn_on_postgres(name: &str, toml: &str) -> TestApp {
    let db = ScratchDatabase::for_tests(&format!("ivrhook_it_{name}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = db.url.clone();
    start(&url, toml, tempfile::tempdir().expect("temp dir"), Some(db)).await
}

/// A server on an existing database (a second node beside another test server).
pub async fn spawn_with_database(url: &str, toml: &str) -> TestApp {
    start(url, toml, tempfile::tempdir().expect("temp dir"), None).await
}

/// A server configured by `toml` on a fresh SQLite file, listening on `addr` (a port a test
/// kept, to put another server where one was).
pub async fn spawn_at(addr: SocketAddr, toml: &str) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("ivrhook.db").display());
    let listener = TcpListener::bind(addr).await.expect("bind the kept port");
    serve(listener, &url, toml, dir, None).await
}

async fn start(url: &str, toml: &str, dir: TempDir, scratch: Option<ScratchDatabase>) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    serve(listener, url, toml, dir, scratch).await
}

async fn serve(
    listener: TcpListener,
    url: &str,
    toml: &str,
    dir: TempDir,
    scratch: Option<ScratchDatabase>,
) -> TestApp {
    let db_path = dir.path().join("ivrhook.db");
    let text = format!("database = \"{url}\"\n{toml}");
    let config = Config::from_toml(&text, "test").expect("test config is valid");
    let addr = listener.local_addr().expect("local addr");
    let server = Server::bind(config, listener).await.expect("server starts");
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(server.run(shutdown.clone()));
    TestApp {
        addr,
        client: crate::http(),
        db_path,
        database_url: url.to_owned(),
        _dir: dir,
        scratch,
        shutdown,
        handle,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs a body to the callback path; checks the answer is JSON and returns it.
    pub async fn post_callback(&self, body: impl Into<reqwest::Body>) -> Answer {
        post_answer(&self.client, self.url("/callback"), body.into()).await
    }

    /// Posts to the callback path from a task of its own, for concurrent senders.
    pub fn spawn_post(&self, body: String) -> JoinHandle<Answer> {
        let (client, url) = (self.client.clone(), self.url("/callback"));
        tokio::spawn(async move { post_answer(&client, url, body.into()).await })
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("JSON body"))
    }

    /// The call's timeline; panics unless it answers 200.
    pub async fn timeline(&self, call_id: &str) -> Vec<Value> {
        let (status, body) = self.get(&format!("/v1/calls/{call_id}")).await;
        assert_eq!(status, 200, "timeline of {call_id}: {body}");
        body["reports"].as_array().expect("reports array").clone()
    }

    /// The value of a metric line (`name{labels}` exactly as rendered).
    pub async fn metric(&self, series: &str) -> f64 {
        let text = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("metric {series} not found in:\n{text}"))
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        self.handle
            .await
            .expect("server task")
            .expect("server stops cleanly");
        if let Some(db) = self.scratch {
            db.drop_database().await.expect("drop the test database");
        }
    }
}

async fn post_answer(client: &reqwest::Client, url: String, body: reqwest::Body) -> Answer {
    let resp = client
        .post(url)
        .body(body)
        .send()
        .await
        .expect("request sent");
    assert_eq!(
        resp.status(),
        200,
        "the callback path always answers HTTP 200"
    );
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(ct, "application/json");
    resp.json().await.expect("answer is JSON")
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// A multrpt report for `call_id` that ends as `status` (0 completed, 1 hung up), the last
/// command's keys `keys`, a recording when hung up, and `n` in its pass-through data.
pub fn call_report(call_id: &str, n: u32, status: u8, keys: Option<&str>) -> Value {
    let mut dtmf = serde_json::json!({"event": "ivrreportdtmf", "code": "0",
        "start": "20180112172325010", "end": "20180112172327510"});
    if let Some(k) = keys {
        dtmf["dtmfCode"] = k.into();
    }
    let mut r = serde_json::json!({
        "appId": APP, "callId": call_id, "event": "multrpt", "data": format!("n={n}"),
        "result": [{"event": "playoverrpt", "code": "0", "start": "20180112172322010",
                    "end": "20180112172325010"}, dtmf],
        "status": status,
    });
    if status == 1 {
        r["hungup"] = serde_json::json!({"fileName": "https://rec.example/r.wav", "reason": 16,
            "dir": 1, "timeStamp": "20180112172328000"})
        .to_string()
        .into();
    }
    r
}

/// Waits (up to 30 s) until `n` deliveries to `destination` are delivered and none is
/// pending: once every delivery is finished nothing more is sent, so what arrived is final.
pub async fn delivered(app: &TestApp, destination: &str, n: usize) {
    let count = |state: &'static str| async move {
        let path = format!("/v1/deliveries?destination={destination}&state={state}&limit=1000");
        app.get(&path).await.1["deliveries"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let what = format!("{n} deliveries to {destination} delivered");
    eventually_within(&what, Duration::from_secs(30), || async {
        count("delivered").await == n && count("pending").await == 0
    })
    .await;
}

/// Waits until `n` requests (long polls, event streams) are waiting for the next report.
pub async fn waiting(app: &TestApp, n: f64) {
    eventually("the request to wait", || async {
        app.metric("ivrhook_feed_waiting").await == n
    })
    .await;
}
