//! `ivrhook bench growth`: how the receiver holds up as the store grows. The store is filled
//! (through the store's insert path, not HTTP) to 0, 1 M and `--rows` reports; at each size a
//! server measures its receive capacity, the latency at half of it and the bytes written per
//! report; at the last size also the API's and dashboard's reads, and on SQLite the WAL under
//! a long capacity phase. Figures per size, their ratios to the empty store's, and what the
//! curve projects for 100 M reports.

use super::{growth_phases as phases, growth_seed, server::Cluster, Report};
use serde_json::{json, Value};
use std::{path::Path, time::Duration};
use tokio::time::Instant;

#[derive(Debug, Clone)]
pub struct Options {
    pub connections: usize,
    pub duration: Duration,
    pub rows: u64,
    /// The SQLite WAL's capacity phase.
    pub wal_phase: Duration,
    pub database: Option<String>,
}

/// The sizes measured: empty, 1 M (when below `rows`), `rows`.
fn sizes(rows: u64) -> Vec<u64> {
    let mut sizes = vec![0];
    if rows > 1_000_000 {
        sizes.push(1_000_000);
    }
    if rows > 0 {
        sizes.push(rows);
    }
    sizes
}

pub async fn run(dir: &Path, o: &Options) -> Result<Report, String> {
    // The bench fills a SQLite file itself and its server runs in `dir`: one absolute path.
    let default = format!("sqlite://{}", dir.join("growth.db").display());
    let given = match o.database.as_deref().map(str::parse) {
        Some(Ok(ivrhook_store::DatabaseUrl::Sqlite(path))) => {
            let path = std::path::absolute(&path).map_err(|e| e.to_string())?;
            Some(format!("sqlite://{}", path.display()))
        }
        _ => o.database.clone(),
    };
    let (database, scratch) = super::database(given.as_deref(), &default).await?;
    let result = run_on(dir, o, &database).await;
    super::drop_scratch(scratch).await;
    result
}

async fn open(
    url: &ivrhook_store::DatabaseUrl,
) -> Result<std::sync::Arc<dyn ivrhook_store::Store>, String> {
    let options = ivrhook_store::OpenOptions::default();
    (ivrhook_store::open(url, None, options).await).map_err(|e| format!("{e:?}"))
}

/// Fills the store from `from` to `to` seeded reports; the seconds it took.
async fn fill(url: &ivrhook_store::DatabaseUrl, from: u64, to: u64) -> Result<f64, String> {
    let started = Instant::now();
    let store = open(url).await?;
    growth_seed::seed(std::sync::Arc::clone(&store), from, to).await?;
    store.close().await;
    if let ivrhook_store::DatabaseUrl::Postgres(pg) = url {
        let analyzed = ivrhook_store::postgres::scratch::analyze(pg).await;
        analyzed.map_err(|e| format!("analyzing the seeded store: {e:?}"))?;
    }
    Ok(started.elapsed().as_secs_f64())
}

async fn run_on(dir: &Path, o: &Options, database: &str) -> Result<Report, String> {
    let url: ivrhook_store::DatabaseUrl = database.parse().map_err(|e| format!("{e:?}"))?;
    let sqlite = match &url {
        ivrhook_store::DatabaseUrl::Sqlite(path) => Some(path.clone()),
        ivrhook_store::DatabaseUrl::Postgres(_) => None,
    };
    let (sizes, mut stages, mut seeded) = (sizes(o.rows), Vec::new(), 0);
    let args = ["serve", "--listen", "127.0.0.1:0", "--database", database];
    // Load runs numbered apart from the seed's and from any earlier bench on the same store, so
    // that every report offered is new.
    let runs = 2 + ((chrono::Utc::now().timestamp() as u64 % (1 << 20)) << 3);
    for (i, &size) in sizes.iter().enumerate() {
        let seed_s = fill(&url, seeded, size).await?;
        seeded = size;
        let server = Cluster::start(dir, &args, 1).await?;
        let mut stage =
            phases::receive(&server, o.connections, o.duration, runs + 2 * i as u64).await;
        if i + 1 == sizes.len() {
            merge(&mut stage, phases::reads(&server, seeded).await?);
            if let Some(db) = &sqlite {
                merge(
                    &mut stage,
                    phases::wal(&server, db, o.connections, o.wal_phase, runs + 7).await,
                );
            }
        }
        server.stop().await;
        let store = ivrhook_store::open_read_only(&url)
            .await
            .map_err(|e| format!("{e:?}"))?;
        // Counted: ids need not be consecutive (PostgreSQL's start each day at its own base).
        let (stored, _) = store
            .reports_behind(0)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let bytes = store.size_bytes().await.map_err(|e| format!("{e:?}"))?;
        merge(
            &mut stage,
            json!({
                "seeded": size,
                "seed_s": seed_s,
                "stored_after": stored,
                "store_bytes": bytes,
                "store_bytes_per_report": bytes as f64 / stored.max(1) as f64,
            }),
        );
        stages.push(stage);
    }
    Ok(Report {
        json: summary(database, o, &stages),
    })
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, from) {
        a.extend(b);
    }
}

/// The stages, the ratios of the last and of 1 M to the empty store, and the projection to
/// 100 M: capacity falling with the logarithm of the size as it did from 1 M to the last.
fn summary(database: &str, o: &Options, stages: &[Value]) -> Value {
    let capacity = |s: &Value| s["capacity_per_sec"].as_f64().unwrap_or(0.0);
    let (first, last) = (&stages[0], &stages[stages.len() - 1]);
    let ratio = |s: &Value| capacity(s) / capacity(first).max(1e-9);
    let (a, b) = (&stages[stages.len().saturating_sub(2)], last);
    let (na, nb) = (
        a["seeded"].as_f64().unwrap_or(0.0).max(1.0),
        b["seeded"].as_f64().unwrap_or(1.0).max(1.0),
    );
    let slope = if nb > na {
        (capacity(b) - capacity(a)) / (nb / na).ln()
    } else {
        0.0
    };
    let projected = capacity(b) + slope * (1e8 / nb).ln();
    let bytes = last["store_bytes_per_report"].as_f64().unwrap_or(0.0);
    json!({
        "path": "growth",
        "database": super::shown(database),
        "connections": o.connections,
        "duration_s": o.duration.as_secs_f64(),
        "stages": stages,
        "capacity_ratio_last_to_empty": ratio(last),
        "capacity_ratio_1m_to_empty": (stages.len() == 3).then(|| ratio(&stages[1])),
        "half_capacity_p99_ms_last": last["half_capacity_p99_ms"],
        "projected_capacity_per_sec_at_100m": projected,
        "projected_capacity_ratio_at_100m": projected / capacity(first).max(1e-9),
        "projected_store_gb_at_100m": bytes * 1e8 / 1e9,
    })
}
