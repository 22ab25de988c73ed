//! `ivrhook bench forward`: what forwarding costs the receiver, and how fast reports reach the
//! business's systems. In one run: the receive rate with no destination; the receive rate with
//! the destinations `--kind` names (by default a webhook served by the bench and NATS
//! JetStream; or a Redis stream; or an MQTT topic), every report forwarded to each; and,
//! at half that rate, the lag from each report's POST to its arrival at each destination, with
//! the disk's own fsync latency beside it (every report waits for an fsync before it is
//! acknowledged and forwarded, so a disk stall shows in the lag's tail).

use super::{
    forward_ends::{Ends, Kinds, Servers},
    load::{drive, Workload},
    receive::Seeded,
    server::Cluster,
    Report,
};
use crate::stats::Latencies;
use axum::body::Bytes;
use serde_json::json;
use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::time::Instant;

#[derive(Debug, Clone)]
pub struct Options {
    pub connections: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub database: Option<String>,
    /// The destinations each report is forwarded to.
    pub kinds: Kinds,
    /// Where their servers are.
    pub servers: Servers,
}

/// The spec's example with its own callIds, each one's send time kept.
struct Timed {
    seeded: Seeded,
    sent: Mutex<HashMap<u64, Instant>>,
}

impl Workload for Timed {
    fn body(&self, n: u64) -> Bytes {
        self.seeded.body(n)
    }
    fn success(&self, status: u16, body: &[u8]) -> bool {
        self.seeded.success(status, body)
    }
    fn done(&self, n: u64, sent: Instant) {
        let mut sent_at = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent_at.insert(n, sent);
    }
}

/// One phase's receive rate, and (with destinations) each accepted report's lag to each.
struct Phase {
    acks_per_sec: f64,
    /// Time from each report's POST to its `000000`.
    acked: Latencies,
    forwarded_per_sec: f64,
    lag: Vec<Latencies>,
    /// CPU per accepted report, in µs, from the start until every report reached both
    /// destinations: the server's; this process's (the load generator, the webhook, the NATS
    /// subscriber); the NATS server's; the whole machine's.
    server_cpu_us: f64,
    bench_cpu_us: f64,
    nats_cpu_us: f64,
    machine_cpu_us: f64,
}

/// CPU seconds so far: the server, this process, NATS, the machine.
fn cpu_now(server: &Cluster) -> [f64; 4] {
    use super::server::{machine_busy_seconds, named_cpu_seconds, process_cpu_seconds};
    [
        server.cpu_seconds(),
        process_cpu_seconds("self"),
        named_cpu_seconds("nats-server"),
        machine_busy_seconds(),
    ]
}

async fn phase(
    server: &Cluster,
    o: &Options,
    run: u64,
    rate: Option<f64>,
    arrivals: Option<&Ends>,
) -> Result<Phase, String> {
    let work = Arc::new(Timed {
        seeded: Seeded::new(run),
        sent: Mutex::default(),
    });
    let started = Instant::now();
    let cpu = cpu_now(server);
    let acks = drive(
        &server.addrs(),
        "/callback",
        o.connections,
        o.warmup,
        o.duration,
        rate,
        work.clone(),
    )
    .await;
    let acks_per_sec = acks.ok as f64 / o.duration.as_secs_f64();
    let sent = std::mem::take(&mut *work.sent.lock().unwrap_or_else(|p| p.into_inner()));
    let reports = sent.len().max(1) as f64;
    let phase = |forwarded_per_sec, lag| {
        let now = cpu_now(server);
        let us = |i: usize| (now[i] - cpu[i]) * 1e6 / reports;
        Phase {
            acks_per_sec,
            acked: acks.latencies.clone(),
            forwarded_per_sec,
            lag,
            server_cpu_us: us(0),
            bench_cpu_us: us(1),
            nats_cpu_us: us(2),
            machine_cpu_us: us(3),
        }
    };
    let Some(arrivals) = arrivals else {
        return Ok(phase(0.0, Vec::new()));
    };
    // The request bodies are the spec's example, formatted: parsed, not scanned.
    let sent_call = |n: u64| {
        serde_json::from_slice::<serde_json::Value>(&work.body(n)).ok()?["callId"]
            .as_str()
            .map(str::to_owned)
    };
    let calls: Vec<(String, Instant)> = sent
        .iter()
        .filter_map(|(n, at)| Some((sent_call(*n)?, *at)))
        .collect();
    let (forwarded_per_sec, lag) = forwarded(&calls, arrivals, started).await?;
    Ok(phase(forwarded_per_sec, lag))
}

/// Which destinations did not see every accepted report, and how many they missed.
fn missing(calls: &[(String, Instant)], ends: &Ends) -> String {
    let short: Vec<String> = (ends.names.iter().zip(&ends.arrivals))
        .filter_map(|(name, m)| {
            let m = m.lock().unwrap_or_else(|p| p.into_inner());
            let lost = calls.iter().filter(|(c, _)| !m.contains_key(c)).count();
            (lost > 0).then(|| format!("{name} {lost}"))
        })
        .collect();
    format!(
        "of {} accepted reports, these did not arrive within 300 s: {}",
        calls.len(),
        short.join(", ")
    )
}

/// Waits (at most 300 s) until each of `calls`, sent at its instant, reached every
/// destination; returns the forwarded reports a second since `started` and each
/// destination's lag.
async fn forwarded(
    calls: &[(String, Instant)],
    ends: &Ends,
    started: Instant,
) -> Result<(f64, Vec<Latencies>), String> {
    let deadline = Instant::now() + Duration::from_secs(300);
    let maps = &ends.arrivals;
    loop {
        let done = maps.iter().all(|m| {
            let m = m.lock().unwrap_or_else(|p| p.into_inner());
            calls.iter().all(|(c, _)| m.contains_key(c))
        });
        if done {
            break;
        }
        if Instant::now() > deadline {
            return Err(missing(calls, ends));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut lag: Vec<Latencies> = maps.iter().map(|_| Latencies::default()).collect();
    let mut last = started;
    for (i, m) in maps.iter().enumerate() {
        let m = m.lock().unwrap_or_else(|p| p.into_inner());
        for (call, at) in calls {
            let got = m[call];
            last = last.max(got);
            lag[i].push(got.saturating_duration_since(*at));
        }
    }
    let forwarded_per_sec = calls.len() as f64 / (last - started).as_secs_f64().max(1e-9);
    Ok((forwarded_per_sec, lag))
}

/// Runs the bench on its database; a scratch PostgreSQL database is dropped however it ends.
pub async fn run(dir: &Path, o: &Options) -> Result<Report, String> {
    let (database, scratch) = super::database(o.database.as_deref(), "sqlite://plain.db").await?;
    let result = run_on(dir, o, &database).await;
    super::drop_scratch(scratch).await;
    result
}

async fn run_on(dir: &Path, o: &Options, database: &str) -> Result<Report, String> {
    let run_id = chrono::Utc::now().timestamp_micros() as u64;
    let plain = Cluster::start(
        dir,
        &["serve", "--listen", "127.0.0.1:0", "--database", database],
        1,
    )
    .await?;
    let without = phase(&plain, o, run_id, None, None).await?;
    plain.stop().await;

    let ends = Ends::start(o.kinds, &o.servers).await?;
    std::fs::write(dir.join("forward.toml"), &ends.config).map_err(|e| e.to_string())?;
    let database = forwarding_database(database);
    let args = [
        "serve",
        "--config",
        "forward.toml",
        "--listen",
        "127.0.0.1:0",
        "--database",
        &database,
    ];
    let server = Cluster::start(dir, &args, 1).await?;
    let with = phase(&server, o, run_id + 1, None, Some(&ends)).await?;
    let half = (with.acks_per_sec * 0.5).max(1.0);
    let before = first_attempts(&server).await;
    let probe = super::disk::Probe::start(dir)?;
    let steady = phase(&server, o, run_id + 2, Some(half), Some(&ends)).await;
    let mut fsyncs = probe.finish();
    let mut steady = steady?;
    let after = first_attempts(&server).await;
    let at_once = (after.0 - before.0) / (after.1 - before.1).max(1.0);
    server.stop().await;
    let names = ends.names.clone();
    ends.finish().await;

    let ms = |l: &mut Latencies, p: f64| l.percentile(p).as_secs_f64() * 1000.0;
    let mut all = Latencies::default();
    let mut by_destination = serde_json::Map::new();
    for (name, lag) in names.iter().zip(&mut steady.lag) {
        all.extend(lag.clone());
        by_destination.insert((*name).to_owned(), json!(ms(lag, 99.0)));
    }
    let per_forward = (with.server_cpu_us - without.server_cpu_us) / names.len() as f64;
    Ok(Report {
        json: json!({
            "path": "forward",
            "destinations": names,
            "database": super::shown(&database),
            "connections": o.connections,
            "duration_s": o.duration.as_secs_f64(),
            "receive_per_sec_without_destinations": without.acks_per_sec,
            "receive_per_sec_with_destinations": with.acks_per_sec,
            "receive_ratio": with.acks_per_sec / without.acks_per_sec.max(1e-9),
            "forwarded_per_sec_at_capacity": with.forwarded_per_sec,
            "server_cpu_us_per_report_without": without.server_cpu_us,
            "server_cpu_us_per_report_with": with.server_cpu_us,
            "server_cpu_us_per_forward": per_forward,
            "machine_cpu_us_per_report_without": without.machine_cpu_us,
            "machine_cpu_us_per_report_with": with.machine_cpu_us,
            "bench_cpu_us_per_report_without": without.bench_cpu_us,
            "bench_cpu_us_per_report_with": with.bench_cpu_us,
            "nats_cpu_us_per_report_with": with.nats_cpu_us,
            "offered_per_sec": half,
            "lag_p50_ms": ms(&mut all, 50.0),
            "lag_p99_ms": ms(&mut all, 99.0),
            "lag_p99_ms_by_destination": by_destination,
            "share_sent_as_written_at_half": at_once,
            "receive_p50_ms_at_half": ms(&mut steady.acked, 50.0),
            "receive_p99_ms_at_half": ms(&mut steady.acked, 99.0),
            "disk_fsync_p99_ms_at_half": ms(&mut fsyncs, 99.0),
            "disk_fsync_max_ms_at_half": ms(&mut fsyncs, 100.0),
        }),
    })
}

/// Attempts the server sent as their reports were written (the rest were claimed), and all
/// its attempts, so far.
async fn first_attempts(server: &Cluster) -> (f64, f64) {
    let Ok(resp) = reqwest::get(format!("http://{}/metrics", server.addrs()[0])).await else {
        return (0.0, 0.0);
    };
    let text = resp.text().await.unwrap_or_default();
    let sum = |prefix: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(prefix))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    (
        sum("ivrhook_deliveries_sent_on_acceptance_total"),
        sum("ivrhook_delivery_attempts_total{"),
    )
}

/// The forwarding server's database: a second SQLite file beside the first (a PostgreSQL
/// scratch database is shared; its reports differ by callId).
fn forwarding_database(database: &str) -> String {
    if database.starts_with("sqlite://") {
        "sqlite://forward.db".to_owned()
    } else {
        database.to_owned()
    }
}
