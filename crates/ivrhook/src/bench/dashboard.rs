//! `ivrhook bench dashboard`: what the dashboard's heaviest page costs. A SQLite file is
//! seeded through the store with one call of `--reports` reports, each forwarded to a
//! destination that took `--attempts-each` attempts; a server on that file then renders the
//! call's page `--renders` times (each request's time at the client, on loopback), and the
//! overview, whose size is its whole weight (its style and script are inline).

use super::{server::Cluster, Report};
use crate::stats::{ms, Latencies};
use ivrhook_store::{
    outbox::{AttemptRecord, ClaimRequest, Lane, Settle},
    Forward, NewReport, OpenOptions, Store,
};
use serde_json::json;
use std::{path::Path, sync::Arc, time::Duration};
use tokio::time::Instant;

const CALL: &str = "88-dashboard-bench-call-out";
const DESTINATION: &str = "sink";

#[derive(Debug, Clone)]
pub struct Options {
    pub reports: u64,
    pub attempts_each: u64,
    pub renders: u64,
}

/// Calls besides the heavy one, so that the overview lists its twenty most recent.
const OTHER_CALLS: u64 = 50;

fn report(call: &str, n: u64, now: chrono::DateTime<chrono::Utc>) -> NewReport {
    let raw = format!(
        r#"{{"appId":"247e35ff320a4142a105024055c367cf","callId":"{call}","event":"multrpt","data":"n={n}","result":[{{"event":"playoverrpt","code":"0","start":"20180112172322010","end":"20180112172325010"}},{{"event":"ivrreportdtmf","code":"0","start":"20180112172325010","end":"20180112172327510","dtmfCode":"{}#"}}],"status":0}}"#,
        n % 10
    );
    NewReport {
        peer: Some("127.0.0.1:40000".into()),
        forwards: vec![Forward {
            destination: DESTINATION.into(),
            first_attempt_at_ms: now.timestamp_millis(),
            lease: None,
        }],
        ..super::seeded_report(call, raw.into_bytes(), n, now)
    }
}

/// One attempt for every delivery due in `lane`, dead when `last`.
async fn attempt_round(
    store: &Arc<dyn Store>,
    lane: Lane,
    now: i64,
    last: bool,
) -> Result<u64, String> {
    let mut n = 0;
    {
        let claim = ClaimRequest {
            destination: DESTINATION.into(),
            lane,
            limit: 100_000,
            now_ms: now,
            lease_until_ms: now + 60_000,
            owner: "bench".into(),
            ordered: false,
            exclude: Vec::new(),
        };
        for c in store.claim(claim).await.map_err(|e| format!("{e:?}"))? {
            let settle = if last {
                Settle::Dead {
                    reason: "HTTP 503".into(),
                }
            } else {
                Settle::Retry {
                    at_ms: now,
                    unknown_call: false,
                }
            };
            let record = AttemptRecord {
                delivery_id: c.delivery_id,
                owner: "bench".into(),
                started_at_ms: now,
                duration_ms: 12,
                http_status: Some(503),
                code: None,
                body_excerpt: Some("upstream unavailable".into()),
                error: None,
                warning: None,
                settle,
            };
            store
                .record_attempt(record)
                .await
                .map_err(|e| format!("{e:?}"))?;
            n += 1;
        }
    }
    Ok(n)
}

async fn seed(path: &Path, o: &Options) -> Result<u64, String> {
    let url: ivrhook_store::DatabaseUrl = format!("sqlite://{}", path.display())
        .parse()
        .map_err(|e| format!("{e:?}"))?;
    let store = ivrhook_store::open(&url, None, OpenOptions::default())
        .await
        .map_err(|e| format!("{e:?}"))?;
    let now = chrono::Utc::now();
    for n in 0..o.reports {
        let r = report(CALL, n, now);
        store.insert_report(r).await.map_err(|e| format!("{e:?}"))?;
    }
    for n in 0..OTHER_CALLS {
        let mut other = report(&format!("88-dashboard-bench-{n:04}-out"), n, now);
        other.forwards.clear();
        store
            .insert_report(other)
            .await
            .map_err(|e| format!("{e:?}"))?;
    }
    let mut attempts = 0;
    for round in 1..=o.attempts_each {
        let at = now.timestamp_millis() + round as i64;
        let lane = if round == 1 { Lane::First } else { Lane::Retry };
        attempts += attempt_round(&store, lane, at, round == o.attempts_each).await?;
    }
    store.close().await;
    Ok(attempts)
}

/// The time to the last byte and the bytes sent (with `gzip`, compressed, as a browser asks).
async fn get(client: &reqwest::Client, url: &str, gzip: bool) -> Result<(Duration, usize), String> {
    let started = Instant::now();
    let encoding = if gzip { "gzip" } else { "identity" };
    let resp = client.get(url).header("accept-encoding", encoding);
    let resp = resp.send().await.map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("{url} answered {}", resp.status()));
    }
    let body = resp.bytes().await.map_err(|e| e.to_string())?;
    Ok((started.elapsed(), body.len()))
}

pub async fn run(dir: &Path, o: &Options) -> Result<Report, String> {
    let attempts = seed(&dir.join("dashboard.db"), o).await?;
    let config = format!(
        "[[destinations]]\nname = \"{DESTINATION}\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\n"
    );
    std::fs::write(dir.join("dashboard.toml"), config).map_err(|e| e.to_string())?;
    let args = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        "sqlite://dashboard.db",
        "--config",
        "dashboard.toml",
    ];
    let server = Cluster::start(dir, &args, 1).await?;
    let base = format!("http://{}", server.addrs()[0]);
    let client = reqwest::Client::new();
    let call_url = format!("{base}/calls/{CALL}");
    let (_, call_bytes) = get(&client, &call_url, true).await?;
    let (_, call_plain) = get(&client, &call_url, false).await?;
    let (mut times, cpu_before) = (Latencies::default(), server.cpu_seconds());
    for _ in 0..o.renders {
        times.push(get(&client, &call_url, true).await?.0);
    }
    let cpu_ms = (server.cpu_seconds() - cpu_before) * 1000.0 / o.renders.max(1) as f64;
    let overview = format!("{base}/");
    let (_, overview_bytes) = get(&client, &overview, true).await?;
    let (_, overview_plain) = get(&client, &overview, false).await?;
    server.stop().await;
    Ok(Report {
        json: json!({
            "path": "dashboard",
            "call_reports": o.reports,
            "call_attempts": attempts,
            "call_page_renders": o.renders,
            "call_page_ms_median": ms(times.percentile(50.0)),
            "call_page_ms_max": ms(times.max()),
            "call_page_server_cpu_ms_per_render": cpu_ms,
            "call_page_kb_gzip": call_bytes as f64 / 1024.0,
            "call_page_kb_uncompressed": call_plain as f64 / 1024.0,
            "overview_kb_gzip_with_assets": overview_bytes as f64 / 1024.0,
            "overview_kb_uncompressed_with_assets": overview_plain as f64 / 1024.0,
        }),
    })
}
