//! `ivrhook bench analytics`: what the IVR analytics cost. The receiver's acks per second and
//! server CPU per ack with `[analytics] enabled` on and off, in alternating rounds of one run;
//! then the analytics page and API for an app with `--calls` calls over 30 days
//! (`analytics_page`), on `--database` when given.

use super::{
    analytics_page,
    receive::{measure, Options as Receive, Seeded},
    server::Cluster,
    Report,
};
use serde_json::{json, Value};
use std::{path::Path, sync::Arc, time::Duration};

#[derive(Debug, Clone)]
pub struct Options {
    pub connections: usize,
    pub duration: Duration,
    pub warmup: Duration,
    /// Rounds of on and off, alternating.
    pub rounds: u32,
    /// Calls seeded for the page.
    pub calls: u64,
    /// Renders of each page measured.
    pub renders: u64,
    /// The page's database (`--database`); the receive rounds run on SQLite files.
    pub database: Option<String>,
}

/// One phase: a fresh SQLite file, analytics `on` or off; acks per second and CPU µs per ack.
async fn phase(dir: &Path, o: &Options, on: bool, round: u32) -> Result<(f64, f64), String> {
    let name = format!("analytics-{round}-{on}");
    let config = format!("[analytics]\nenabled = {on}\n");
    std::fs::write(dir.join(format!("{name}.toml")), config).map_err(|e| e.to_string())?;
    let (db, toml) = (format!("sqlite://{name}.db"), format!("{name}.toml"));
    let args = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        &db,
        "--config",
        &toml,
    ];
    let server = Cluster::start(dir, &args, 1).await?;
    let receive = Receive {
        connections: o.connections,
        duration: o.duration,
        warmup: o.warmup,
        database: None,
        nodes: 1,
    };
    let run_id = chrono::Utc::now().timestamp_micros() as u64;
    let (acks, cpu) = measure(&server, &receive, Arc::new(Seeded::new(run_id))).await;
    server.stop().await;
    for file in [
        format!("{name}.db"),
        format!("{name}.db-wal"),
        format!("{name}.db-shm"),
    ] {
        let _ = std::fs::remove_file(dir.join(file));
    }
    let per_sec = acks.ok as f64 / o.duration.as_secs_f64();
    Ok((per_sec, cpu * 1e6 / acks.ok.max(1) as f64))
}

pub async fn run(dir: &Path, o: &Options) -> Result<Report, String> {
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for round in 0..o.rounds {
        // Alternating which goes first, so a drift of the machine's speed falls on both.
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for enabled in order {
            let figures = phase(dir, o, enabled, round).await?;
            if enabled {
                on.push(figures)
            } else {
                off.push(figures)
            }
        }
    }
    let sum = |v: &[(f64, f64)], f: fn(&(f64, f64)) -> f64| v.iter().map(f).sum::<f64>();
    let ratio = sum(&on, |r| r.0) / sum(&off, |r| r.0).max(1e-9);
    let cpu_ratio = sum(&on, |r| r.1) / sum(&off, |r| r.1).max(1e-9);
    let page = analytics_page::run(dir, o.calls, o.renders, o.database.as_deref()).await?;
    let rounds = |v: &[(f64, f64)]| -> Value {
        v.iter()
            .map(|(a, c)| json!({"acks_per_sec": a, "cpu_us_per_ack": c}))
            .collect()
    };
    Ok(Report {
        json: json!({
            "path": "analytics",
            "connections": o.connections,
            "duration_s": o.duration.as_secs_f64(),
            "receive_on": rounds(&on),
            "receive_off": rounds(&off),
            "receive_ratio_on_to_off": ratio,
            "cpu_per_ack_ratio_on_to_off": cpu_ratio,
            "page": page,
        }),
    })
}
