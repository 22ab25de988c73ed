//! What `bench growth` measures on a server at one store size: receive capacity, latency at
//! half of it, bytes written per report; the API's and dashboard's reads; the WAL under a long
//! capacity phase.

use super::{
    growth_seed::{call_id, RandomCalls, SEED_RUN},
    load::drive,
    server::Cluster,
};
use crate::stats::{ms, Latencies};
use serde_json::{json, Value};
use std::{
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

/// Bytes a process has caused to be written to storage (`/proc/<pid>/io`).
fn written_bytes(pid: u32) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    (io.lines())
        .find_map(|l| l.strip_prefix("write_bytes:")?.trim().parse().ok())
        .unwrap_or(0)
}

/// Capacity with `connections`, then half of it offered: the figures of one stage.
pub(crate) async fn receive(
    server: &Cluster,
    connections: usize,
    duration: Duration,
    run: u64,
) -> Value {
    let addrs = server.addrs();
    let (written, cpu, before) = (
        written_bytes(server.pid(0)),
        server.cpu_seconds(),
        scrape(addrs[0]).await,
    );
    let warmup = Duration::from_secs(2);
    let work = Arc::new(RandomCalls::new(run));
    let mut full = drive(
        &addrs,
        "/callback",
        connections,
        warmup,
        duration,
        None,
        work,
    )
    .await;
    let written = written_bytes(server.pid(0)) - written;
    let cpu = server.cpu_seconds() - cpu;
    let after = scrape(addrs[0]).await;
    let delta = |name: &str| after(name) - before(name);
    let capacity = full.ok as f64 / duration.as_secs_f64();
    // The warmup's reports are written too: per report is per report written in all.
    let reports = delta("ivrhook_inbound_reports_total{code=\"000000\"}").max(1.0);
    let work = Arc::new(RandomCalls::new(run + 1));
    let rate = Some(capacity / 2.0);
    let mut half = drive(
        &addrs,
        "/callback",
        connections,
        warmup,
        duration,
        rate,
        work,
    )
    .await;
    let end = scrape(addrs[0]).await;
    let delta_half = |name: &str| end(name) - after(name);
    let waits = delta_half("ivrhook_sqlite_checkpoint_writer_wait_seconds_count");
    let waited = delta_half("ivrhook_sqlite_checkpoint_writer_wait_seconds_sum");
    json!({
        "capacity_per_sec": capacity,
        "capacity_p99_ms": ms(full.latencies.percentile(99.0)),
        "half_capacity_p50_ms": ms(half.latencies.percentile(50.0)),
        "half_capacity_p99_ms": ms(half.latencies.percentile(99.0)),
        "half_capacity_achieved_per_sec": half.ok as f64 / duration.as_secs_f64(),
        "half_capacity_checkpoint_waits": waits,
        "half_capacity_checkpoint_wait_mean_ms": waited * 1000.0 / waits.max(1.0),
        "mean_write_batch_at_capacity": delta("ivrhook_store_write_batch_size_sum")
            / delta("ivrhook_store_write_batch_size_count").max(1.0),
        "server_cpu_us_per_report_at_capacity": cpu * 1e6 / reports,
        "wal_bytes_per_report_at_capacity": delta("ivrhook_sqlite_wal_written_bytes_total") / reports,
        "disk_written_bytes_per_report_at_capacity": written as f64 / reports,
        "errors": full.errors + half.errors,
        "other_answers": full.other + half.other,
    })
}

/// The server's metrics now, by series.
async fn scrape(addr: std::net::SocketAddr) -> impl Fn(&str) -> f64 {
    let text = match reqwest::get(format!("http://{addr}/metrics")).await {
        Ok(resp) => resp.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    move |name: &str| {
        (text.lines())
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
            .unwrap_or(0.0)
    }
}

/// The URL of a read's `i`th request.
type UrlOf<'a> = Box<dyn Fn(u64) -> String + 'a>;

/// p50 and p99 of 200 sequential GETs of each read the issue names, on a store of `seeded`.
pub(crate) async fn reads(server: &Cluster, seeded: u64) -> Result<Value, String> {
    let base = format!("http://{}", server.addrs()[0]);
    let client = reqwest::Client::new();
    let call = |i: u64| call_id(SEED_RUN, (i * 7_919_993) % seeded.max(1));
    let prefix = |i: u64| call(i)[..8].to_owned();
    let urls: [(&str, UrlOf); 5] = [
        (
            "call_timeline",
            Box::new(|i| format!("{base}/v1/calls/{}", call(i))),
        ),
        (
            "calls_page",
            Box::new(|_| format!("{base}/v1/calls?limit=100")),
        ),
        (
            "call_prefix_search",
            Box::new(|i| format!("{base}/calls?call={}", prefix(i))),
        ),
        (
            "dead_deliveries",
            Box::new(|_| format!("{base}/v1/deliveries?state=dead")),
        ),
        (
            "dashboard_call_page",
            Box::new(|i| format!("{base}/calls/{}", call(i))),
        ),
    ];
    let mut out = serde_json::Map::new();
    for (name, url) in &urls {
        let mut times = Latencies::default();
        for i in 0..200 {
            let started = tokio::time::Instant::now();
            let resp = client.get(url(i)).send().await.map_err(|e| e.to_string())?;
            let status = resp.status();
            resp.bytes().await.map_err(|e| e.to_string())?;
            if !status.is_success() {
                return Err(format!("{} answered {status}", url(i)));
            }
            times.push(started.elapsed());
        }
        out.insert(format!("{name}_p50_ms"), ms(times.percentile(50.0)).into());
        out.insert(format!("{name}_p99_ms"), ms(times.percentile(99.0)).into());
    }
    Ok(Value::Object(out))
}

/// A long capacity phase on SQLite with the WAL sampled every 100 ms: its largest size, and
/// its size 10 s after the load stopped.
pub(crate) async fn wal(
    server: &Cluster,
    db: &Path,
    connections: usize,
    length: Duration,
    run: u64,
) -> Value {
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    let size = move || std::fs::metadata(&wal).map_or(0, |m| m.len());
    let (largest, stop) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let sampler = {
        let (largest, stop, size) = (Arc::clone(&largest), Arc::clone(&stop), size.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                largest.fetch_max(size(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let work = Arc::new(RandomCalls::new(run));
    let addrs = server.addrs();
    let run = drive(
        &addrs,
        "/callback",
        connections,
        Duration::ZERO,
        length,
        None,
        work,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after = size();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    json!({
        "wal_phase_s": length.as_secs_f64(),
        "wal_phase_per_sec": run.ok as f64 / length.as_secs_f64(),
        "wal_largest_bytes": largest.load(Ordering::Relaxed),
        "wal_bytes_10s_after": after,
    })
}
