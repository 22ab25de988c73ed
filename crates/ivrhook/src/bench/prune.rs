//! `ivrhook bench prune`: what pruning costs the receiver. A SQLite file is seeded with
//! `--rows` reports received a day ago (through the store's own insert path), then, on that
//! file: the receive capacity; half of it offered for `--duration` with no retention; half of
//! it offered again while the server prunes the old reports (`[retention] reports = "1h"`),
//! until they are gone. Each half-rate phase's achieved receive rate and p99, and how fast the
//! rows went.

use super::{load::drive, receive::Seeded, server::Cluster, Report};
use crate::stats::Latencies;
use ivrhook_store::{NewReport, OpenOptions};
use serde_json::json;
use std::{path::Path, sync::Arc, time::Duration};
use tokio::time::Instant;

/// The seeded reports' run number in their callIds (as `Seeded` writes them).
const SEED_RUN: u64 = 7;

#[derive(Debug, Clone)]
pub struct Options {
    pub connections: usize,
    pub duration: Duration,
    pub rows: u64,
}

/// `rows` reports received a day ago, written as the receiver writes them.
async fn seed(path: &Path, rows: u64) -> Result<(), String> {
    let url: ivrhook_store::DatabaseUrl = format!("sqlite://{}", path.display())
        .parse()
        .map_err(|e| format!("{e:?}"))?;
    let store = ivrhook_store::open(&url, None, OpenOptions::default())
        .await
        .map_err(|e| format!("{e:?}"))?;
    let day_ago = chrono::Utc::now() - chrono::Duration::days(1);
    seed_store(&store, rows, day_ago).await?;
    store.close().await;
    Ok(())
}

/// `rows` reports received at `at`, written by 64 writers as the receiver writes them.
pub(crate) async fn seed_store(
    store: &Arc<dyn ivrhook_store::Store>,
    rows: u64,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), String> {
    let writers: Vec<_> = (0..64u64)
        .map(|w| {
            let (store, body) = (Arc::clone(store), Seeded::new(SEED_RUN));
            tokio::spawn(async move {
                let mut n = w;
                while n < rows {
                    let raw = crate::bench::load::Workload::body(&body, n).to_vec();
                    store.insert_report(old_report(raw, n, at)).await?;
                    n += 64;
                }
                Ok::<(), ivrhook_store::StoreError>(())
            })
        })
        .collect();
    for w in writers {
        w.await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("{e:?}"))?;
    }
    Ok(())
}

fn old_report(raw: Vec<u8>, n: u64, at: chrono::DateTime<chrono::Utc>) -> NewReport {
    super::seeded_report(&format!("88-{SEED_RUN:x}-{n:012}-out"), raw, n, at)
}

/// Offers `rate` (`None`: as much as the server takes, after a second's warm-up) for
/// `o.duration`: achieved acks/s and latencies.
pub(crate) async fn phase(
    server: &Cluster,
    o: &Options,
    rate: Option<f64>,
    run: u64,
) -> (f64, Latencies) {
    let warmup = match rate {
        Some(_) => Duration::ZERO,
        None => Duration::from_secs(1),
    };
    let work = Arc::new(Seeded::new(run));
    let acks = drive(
        &server.addrs(),
        "/callback",
        o.connections,
        warmup,
        o.duration,
        rate,
        work,
    )
    .await;
    (acks.ok as f64 / o.duration.as_secs_f64(), acks.latencies)
}

async fn pruned(server: &Cluster) -> f64 {
    let url = format!("http://{}/metrics", server.addrs()[0]);
    let Ok(resp) = reqwest::get(url).await else {
        return 0.0;
    };
    let text = resp.text().await.unwrap_or_default();
    (text.lines())
        .find_map(|l| {
            l.strip_prefix("ivrhook_pruned_rows_total{kind=\"reports\"}")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0.0)
}

pub async fn run(dir: &Path, o: &Options) -> Result<Report, String> {
    let seeding = Instant::now();
    seed(&dir.join("prune.db"), o.rows).await?;
    let seed_s = seeding.elapsed().as_secs_f64();
    let plain = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        "sqlite://prune.db",
    ];
    let server = Cluster::start(dir, &plain, 1).await?;
    let (capacity, _) = phase(&server, o, None, 1).await;
    let rate = capacity / 2.0;
    let (without, mut lat_without) = phase(&server, o, Some(rate), 2).await;
    server.stop().await;

    std::fs::write(
        dir.join("prune.toml"),
        "[retention]\nreports = \"1h\"\nevery = \"1s\"\n",
    )
    .map_err(|e| e.to_string())?;
    let pruning = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        "sqlite://prune.db",
        "--config",
        "prune.toml",
    ];
    let server = Cluster::start(dir, &pruning, 1).await?;
    let started = Instant::now();
    let (mut acked, mut lat_with, mut phases) = (0.0, Latencies::default(), 0u64);
    while pruned(&server).await < o.rows as f64 - 1.0 && phases < 30 {
        let (r, l) = phase(&server, o, Some(rate), 3 + phases).await;
        acked += r;
        lat_with.extend(l);
        phases += 1;
    }
    let prune_s = started.elapsed().as_secs_f64();
    let gone = pruned(&server).await;
    server.stop().await;
    let with = acked / phases.max(1) as f64;
    let ms = |l: &mut Latencies, p: f64| l.percentile(p).as_secs_f64() * 1000.0;
    Ok(Report {
        json: json!({
            "path": "prune",
            "rows_seeded": o.rows,
            "seed_s": seed_s,
            "receive_capacity_per_sec": capacity,
            "offered_per_sec": rate,
            "receive_per_sec_at_half_without_pruning": without,
            "receive_per_sec_at_half_while_pruning": with,
            "receive_ratio": with / without.max(1e-9),
            "receive_p99_ms_without_pruning": ms(&mut lat_without, 99.0),
            "receive_p99_ms_while_pruning": ms(&mut lat_with, 99.0),
            "rows_pruned": gone,
            "prune_s": prune_s,
            "pruned_per_sec": gone / prune_s.max(1e-9),
        }),
    })
}
