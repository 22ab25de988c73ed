//! `ivrhook bench receive`: durable acks per second on the callback path, against the same
//! HTTP stack's ceiling, in one run.

use super::{
    load::{drive, Run, Workload},
    server::Cluster,
    Report,
};
use bytes::Bytes;
use serde_json::json;
use std::{path::Path, sync::Arc, time::Duration};

const SEED: &str = include_str!("../../../../fixtures/seed-example-all-succeeded.json");
const SEED_CALL: &str = "88-2018031000182918181271218-108bc381ca0f42d8-out";

/// The spec's example, each request with its own callId: the write path, not the dedupe path.
pub(crate) struct Seeded {
    head: String,
    tail: String,
    run: u64,
}

impl Seeded {
    pub(crate) fn new(run: u64) -> Seeded {
        let (head, tail) = SEED.split_once(SEED_CALL).expect("the seed has its callId");
        Seeded {
            head: head.to_owned(),
            tail: tail.to_owned(),
            run,
        }
    }
}

impl Workload for Seeded {
    fn body(&self, n: u64) -> Bytes {
        Bytes::from(format!(
            "{}88-{:x}-{n:012}-out{}",
            self.head, self.run, self.tail
        ))
    }

    fn success(&self, _status: u16, body: &[u8]) -> bool {
        body.windows(8).any(|w| w == b"\"000000\"")
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub connections: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub database: Option<String>,
    /// Servers on the one database (more than one needs PostgreSQL).
    pub nodes: usize,
}

pub(crate) async fn measure(server: &Cluster, o: &Options, work: Arc<dyn Workload>) -> (Run, f64) {
    let cpu0 = server.cpu_seconds();
    let run = drive(
        &server.addrs(),
        "/callback",
        o.connections,
        o.warmup,
        o.duration,
        None,
        work,
    )
    .await;
    (run, server.cpu_seconds() - cpu0)
}

/// Runs the bench on its database; a scratch PostgreSQL database is dropped however it ends.
pub async fn run(dir: &Path, o: &Options) -> Result<Report, String> {
    let (database, scratch) = super::database(o.database.as_deref(), "sqlite://bench.db").await?;
    let result = run_on(dir, o, &database).await;
    super::drop_scratch(scratch).await;
    result
}

async fn run_on(dir: &Path, o: &Options, database: &str) -> Result<Report, String> {
    let run_id = chrono::Utc::now().timestamp_micros() as u64;
    let product = Cluster::start(
        dir,
        &["serve", "--listen", "127.0.0.1:0", "--database", database],
        o.nodes,
    )
    .await?;
    let (mut acks, cpu) = measure(&product, o, Arc::new(Seeded::new(run_id))).await;
    // The write batch (SQLite's group commit) from the first node.
    let metrics = reqwest::get(format!("http://{}/metrics", product.addrs()[0]))
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let metric = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let batch = metric("ivrhook_store_write_batch_size_sum")
        / metric("ivrhook_store_write_batch_size_count").max(1.0);
    let rss = product.peak_rss_mb();
    product.stop().await;

    let ceiling_args = ["bench-ceiling", "--listen", "127.0.0.1:0"];
    let ceiling = Cluster::start(dir, &ceiling_args, o.nodes).await?;
    let (top, ceiling_cpu) = measure(&ceiling, o, Arc::new(Seeded::new(run_id + 1))).await;
    ceiling.stop().await;

    let secs = o.duration.as_secs_f64();
    let acks_per_sec = acks.ok as f64 / secs;
    let ceiling_per_sec = top.ok as f64 / secs;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let json = json!({
        "path": "receive",
        "database": super::shown(database),
        "nodes": o.nodes,
        "connections": o.connections,
        "duration_s": secs,
        "acks": acks.ok,
        "acks_per_sec": acks_per_sec,
        "other_answers": acks.other,
        "errors": acks.errors,
        "p50_ms": ms(acks.latencies.percentile(50.0)),
        "p99_ms": ms(acks.latencies.percentile(99.0)),
        "p999_ms": ms(acks.latencies.percentile(99.9)),
        "max_ms": ms(acks.latencies.max()),
        "server_cpu_s": cpu,
        "peak_rss_mb": rss,
        "mean_batch": batch,
        "ceiling_per_sec": ceiling_per_sec,
        "ceiling_cpu_s": ceiling_cpu,
        "ratio_to_ceiling": acks_per_sec / ceiling_per_sec.max(1e-9),
    });
    Ok(Report { json })
}
