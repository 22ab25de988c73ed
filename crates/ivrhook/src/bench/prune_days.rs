//! `ivrhook bench prune --database postgres://…`: what dropping a day of reports costs the
//! receiver. A scratch database gets `--rows` reports received three days ago (through the
//! store's insert path: one day's partition); then one node receives at capacity for
//! `--duration` twice, and in the second phase the bench prunes with `reports = "1d"`
//! halfway through, as the pruning node would. The two capacities, measured in the same run,
//! and how long the pass took.

use super::{
    prune::{phase, Options},
    server::Cluster,
    Report,
};
use crate::stats::Latencies;
use ivrhook_server::config::Retention;
use ivrhook_store::{DatabaseUrl, OpenOptions, Store};
use serde_json::json;
use std::{path::Path, time::Duration};
use tokio::time::Instant;

pub async fn run(dir: &Path, o: &Options, server_url: &str) -> Result<Report, String> {
    let (database, scratch) = super::database(Some(server_url), "").await?;
    let result = run_on(dir, o, &database).await;
    super::drop_scratch(scratch).await;
    result
}

/// One pass of `reports = "1d"`, after half the phase: its seconds and the rows it removed.
async fn prune_halfway(store: &dyn Store, o: &Options) -> Result<(f64, u64), String> {
    tokio::time::sleep(Duration::from_secs(1) + o.duration / 2).await;
    let retention = Retention {
        reports: Some(Duration::from_secs(86_400)),
        delivered: None,
        dead: None,
        recordings: None,
        activity: None,
        every: Duration::from_secs(60),
    };
    let now = chrono::Utc::now().timestamp_millis();
    let started = Instant::now();
    let removed = ivrhook_server::retention::prune(store, &retention, None, now, false, None)
        .await
        .map_err(|e| format!("pruning: {e:?}"))?;
    let rows = removed.iter().map(|(_, n)| n).sum();
    Ok((started.elapsed().as_secs_f64(), rows))
}

async fn run_on(dir: &Path, o: &Options, database: &str) -> Result<Report, String> {
    let url: DatabaseUrl = database.parse().map_err(|e| format!("{e:?}"))?;
    let store = ivrhook_store::open(&url, None, OpenOptions::default())
        .await
        .map_err(|e| format!("{e:?}"))?;
    let seeding = Instant::now();
    let three_days_ago = chrono::Utc::now() - chrono::Duration::days(3);
    super::prune::seed_store(&store, o.rows, three_days_ago).await?;
    // As autovacuum would have long before the day is old enough to drop.
    let analyzed = ivrhook_store::postgres::scratch::analyze(database).await;
    analyzed.map_err(|e| format!("analyzing the seeded store: {e:?}"))?;
    let seed_s = seeding.elapsed().as_secs_f64();
    let args = ["serve", "--listen", "127.0.0.1:0", "--database", database];
    let server = Cluster::start(dir, &args, 1).await?;
    let (without, mut lat_without) = phase(&server, o, None, 2).await;
    let (during, pruned) = tokio::join!(phase(&server, o, None, 3), prune_halfway(&*store, o));
    server.stop().await;
    store.close().await;
    let ((with, mut lat_with), (prune_s, rows)) = (during, pruned?);
    let ms = |l: &mut Latencies, p: f64| l.percentile(p).as_secs_f64() * 1000.0;
    Ok(Report {
        json: json!({
            "path": "prune",
            "database": super::shown(database),
            "rows_seeded": o.rows,
            "seed_s": seed_s,
            "receive_capacity_per_sec_without_pruning": without,
            "receive_capacity_per_sec_while_dropping_a_day": with,
            "receive_ratio": with / without.max(1e-9),
            "receive_p99_ms_without_pruning": ms(&mut lat_without, 99.0),
            "receive_p99_ms_while_dropping_a_day": ms(&mut lat_with, 99.0),
            "receive_max_ms_without_pruning": ms(&mut lat_without, 100.0),
            "receive_max_ms_while_dropping_a_day": ms(&mut lat_with, 100.0),
            "rows_pruned": rows,
            "prune_pass_s": prune_s,
        }),
    })
}
