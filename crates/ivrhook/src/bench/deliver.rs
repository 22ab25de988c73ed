//! `ivrhook bench deliver`: events submitted through the API, delivered to a fast local
//! receiver. Three phases on one server: capacity (submitters as fast as they can), lag at
//! half that rate, and lag at half that rate with a share of first attempts answered `108102`.

use super::{
    load::{drive, Workload},
    server::Cluster,
    Report,
};
use axum::{
    body::Bytes, extract::State, http::header::CONTENT_TYPE, response::IntoResponse, routing::post,
    Router,
};
use serde_json::json;
use std::{
    collections::{HashMap, HashSet},
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::time::Instant;

const APP: &str = "247e35ff320a4142a105024055c367cf";

#[derive(Debug, Clone)]
pub struct Options {
    pub connections: usize,
    pub duration: Duration,
    pub database: Option<String>,
    /// Share of first attempts the receiver answers `108102` in the third phase.
    pub refuse_share: f64,
    /// Servers on the one database, each delivering (more than one needs PostgreSQL).
    pub nodes: usize,
}

/// The business's receiver: records when each callId first arrived.
#[derive(Default)]
struct Sink {
    arrived: Mutex<HashMap<String, Instant>>,
    refused: Mutex<HashSet<String>>,
    refuse_percent: Mutex<u64>,
}

fn call_id(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("\"callId\":\"")? + 10;
    let len = text[start..].find('"')?;
    Some(&text[start..start + len])
}

async fn sink_answer(State(sink): State<Arc<Sink>>, body: Bytes) -> impl IntoResponse {
    let now = Instant::now();
    let call = call_id(&body).unwrap_or_default().to_owned();
    let percent = *sink
        .refuse_percent
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let tail: u64 = call
        .rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    // Spread over the sequence (not ten in a row), as refusals under load would be.
    let answer = if tail.wrapping_mul(37) % 100 < percent
        && sink
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(call.clone())
    {
        r#"{"code":"108102","msg":"queue full"}"#
    } else {
        sink.arrived
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(call)
            .or_insert(now);
        r#"{"code":"000000","msg":"accepted"}"#
    };
    ([(CONTENT_TYPE, "application/json")], answer)
}

/// Submissions for one phase: callIds `dlv-<phase>-<n>`, each one's send time kept.
struct Submit {
    phase: &'static str,
    sent: Mutex<HashMap<u64, Instant>>,
}

impl Workload for Submit {
    fn body(&self, n: u64) -> Bytes {
        Bytes::from(format!(
            r#"{{"appId":"{APP}","callId":"dlv-{}-{n}","event":"multrpt","data":"bench","result":[{{"event":"playoverrpt","Code":"0","start":"20180112172322010","end":"20180112172325010"}}],"status":0}}"#,
            self.phase
        ))
    }

    fn success(&self, status: u16, _body: &[u8]) -> bool {
        status == 202
    }

    fn done(&self, n: u64, sent: Instant) {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(n, sent);
    }
}

struct Phase {
    delivered: usize,
    per_sec: f64,
    lag_ms: crate::stats::Latencies,
    /// CPU per delivery over the phase, in µs: the whole machine's, and the nodes' alone.
    machine_cpu_us: f64,
    nodes_cpu_us: f64,
}

async fn phase(
    server: &Cluster,
    sink: &Sink,
    o: &Options,
    name: &'static str,
    rate: Option<f64>,
) -> Result<Phase, String> {
    let work = Arc::new(Submit {
        phase: name,
        sent: Mutex::default(),
    });
    let started = Instant::now();
    let cpu_at_start = (super::server::machine_busy_seconds(), server.cpu_seconds());
    drive(
        &server.addrs(),
        &format!("/v1/apps/{APP}/events"),
        o.connections,
        Duration::ZERO,
        o.duration,
        rate,
        work.clone(),
    )
    .await;
    let sent = std::mem::take(&mut *work.sent.lock().unwrap_or_else(|p| p.into_inner()));
    let deadline = Instant::now() + Duration::from_secs(120);
    let key = |n: &u64| format!("dlv-{name}-{n}");
    loop {
        let all_arrived = {
            let arrived = sink.arrived.lock().unwrap_or_else(|p| p.into_inner());
            sent.keys().all(|n| arrived.contains_key(&key(n)))
        };
        if all_arrived {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "phase {name}: not every accepted event was delivered within 120 s"
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let per_delivery = |seconds: f64| seconds * 1e6 / sent.len().max(1) as f64;
    let machine_cpu_us = per_delivery(super::server::machine_busy_seconds() - cpu_at_start.0);
    let nodes_cpu_us = per_delivery(server.cpu_seconds() - cpu_at_start.1);
    let arrived = sink.arrived.lock().unwrap_or_else(|p| p.into_inner());
    let mut lag_ms = crate::stats::Latencies::default();
    let mut last = started;
    for (n, at) in &sent {
        let got = arrived[&key(n)];
        last = last.max(got);
        lag_ms.push(got.saturating_duration_since(*at));
    }
    let per_sec = sent.len() as f64 / (last - started).as_secs_f64().max(1e-9);
    Ok(Phase {
        delivered: sent.len(),
        per_sec,
        lag_ms,
        machine_cpu_us,
        nodes_cpu_us,
    })
}

/// Runs the bench on its database; a scratch PostgreSQL database is dropped however it ends.
pub async fn run(dir: &Path, o: &Options) -> Result<Report, String> {
    let (database, scratch) = super::database(o.database.as_deref(), "sqlite://deliver.db").await?;
    let result = run_on(dir, o, &database).await;
    super::drop_scratch(scratch).await;
    result
}

async fn run_on(dir: &Path, o: &Options, database: &str) -> Result<Report, String> {
    let sink = Arc::new(Sink::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let sink_url = format!(
        "http://{}/cb",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let app = Router::new()
        .route("/cb", post(sink_answer))
        .with_state(Arc::clone(&sink));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let config = format!(
        "[[apps]]\nid = \"{APP}\"\ncallback_url = \"{sink_url}\"\nmax_in_flight = 64\n\
         retry_schedule = [\"0s\", \"50ms\", \"100ms\", \"200ms\", \"500ms\", \"1s\", \"2s\", \"5s\"]\n"
    );
    std::fs::write(dir.join("deliver.toml"), config).map_err(|e| e.to_string())?;
    let args = [
        "serve",
        "--config",
        "deliver.toml",
        "--listen",
        "127.0.0.1:0",
        "--database",
        database,
    ];
    let server = Cluster::start(dir, &args, o.nodes).await?;

    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let mut capacity = phase(&server, &sink, o, "capacity", None).await?;
    let rate = (capacity.per_sec * 0.5).max(1.0);
    let mut steady = phase(&server, &sink, o, "steady", Some(rate)).await?;
    *sink
        .refuse_percent
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = (o.refuse_share * 100.0) as u64;
    let mut refused = phase(&server, &sink, o, "refused", Some(rate)).await?;
    let rss = server.peak_rss_mb();
    server.stop().await;
    let json = json!({
        "path": "deliver",
        "database": super::shown(database),
        "nodes": o.nodes,
        "connections": o.connections,
        "duration_s": o.duration.as_secs_f64(),
        "deliveries_per_sec": capacity.per_sec,
        "capacity_delivered": capacity.delivered,
        "capacity_lag_p99_ms": ms(capacity.lag_ms.percentile(99.0)),
        "capacity_machine_cpu_us_per_delivery": capacity.machine_cpu_us,
        "capacity_nodes_cpu_us_per_delivery": capacity.nodes_cpu_us,
        "offered_per_sec": rate,
        "lag_p50_ms": ms(steady.lag_ms.percentile(50.0)),
        "lag_p99_ms": ms(steady.lag_ms.percentile(99.0)),
        "refused_share": o.refuse_share,
        "refused_deliveries_per_sec": refused.per_sec,
        "refused_lag_p50_ms": ms(refused.lag_ms.percentile(50.0)),
        "refused_lag_p99_ms": ms(refused.lag_ms.percentile(99.0)),
        "peak_rss_mb": rss,
    });
    Ok(Report { json })
}
