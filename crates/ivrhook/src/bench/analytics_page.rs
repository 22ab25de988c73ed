//! The analytics page for a busy app: `calls` calls of the built-in IVR flow
//! (`simulate --ivr-flow example`) spread over 30 days, counted by the product's own code
//! (`ivrhook_engine::analytics`) into a SQLite file and rolled as a server rolls them; then
//! a server renders the page and the API answers, `renders` times for each range.

use super::server::Cluster;
use crate::{
    calls::CallGenerator,
    flow::Flow,
    stats::{ms, Latencies},
};
use ivrhook_engine::analytics::Analytics;
use ivrhook_protocol::AppId;
use ivrhook_store::{analytics::HOURS_KEPT, OpenOptions, Store};
use serde_json::{json, Value};
use std::path::Path;
use tokio::time::Instant;

const APP: &str = "247e35ff320a4142a105024055c367cf";
const DAYS: i64 = 30;
/// UTC+08:00, the default `inbound.utc_offset`.
const OFFSET_MIN: i64 = 480;

/// Counts `calls` calls over the last 30 days; the rows stored.
async fn seed(store: &dyn Store, calls: u64) -> Result<u64, String> {
    let app = AppId::try_from(APP).map_err(|e| e.to_string())?;
    let flow = Flow::load("example")?;
    let mut generator = CallGenerator::new(app, 1, 0.0).walking(flow);
    let analytics = Analytics::new(500, OFFSET_MIN);
    let now = chrono::Utc::now().timestamp_millis();
    let span = DAYS * 86_400_000;
    for n in 0..calls {
        let at = now - span + (span as f64 * n as f64 / calls as f64) as i64;
        analytics.observe(&generator.next_report(), at);
        if n % 50_000 == 49_999 {
            analytics.flush(store).await;
        }
    }
    analytics.flush(store).await;
    let now_hour = now.div_euclid(3_600_000);
    let before = (now_hour - HOURS_KEPT) * 60;
    store
        .roll_analytics(before, OFFSET_MIN)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let rows = store
        .analytics(APP, i64::MIN, i64::MAX)
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok(rows.len() as u64)
}

/// Times `renders` GETs of `url` (after one not timed); p50, p99 and max in ms.
async fn timed(client: &reqwest::Client, url: &str, renders: u64) -> Result<Value, String> {
    let get = || async {
        let resp = client.get(url).send().await.map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("{url} answered {}", resp.status()));
        }
        resp.bytes().await.map_err(|e| e.to_string())
    };
    get().await?;
    let mut times = Latencies::default();
    for _ in 0..renders {
        let started = Instant::now();
        get().await?;
        times.push(started.elapsed());
    }
    Ok(json!({
        "p50_ms": ms(times.percentile(50.0)),
        "p99_ms": ms(times.percentile(99.0)),
        "max_ms": ms(times.max()),
    }))
}

/// On `database` (a scratch PostgreSQL database), or a SQLite file when `None`.
pub async fn run(
    dir: &Path,
    calls: u64,
    renders: u64,
    database: Option<&str>,
) -> Result<Value, String> {
    let (database, scratch) = super::database(database, "sqlite://page.db").await?;
    let result = run_on(dir, calls, renders, &database).await;
    super::drop_scratch(scratch).await;
    result
}

async fn run_on(dir: &Path, calls: u64, renders: u64, database: &str) -> Result<Value, String> {
    // The server runs in `dir`, where a SQLite file's relative path points.
    let here = match database.strip_prefix("sqlite://") {
        Some(file) => format!("sqlite://{}", dir.join(file).display()),
        None => database.to_owned(),
    };
    let url: ivrhook_store::DatabaseUrl = here.parse().map_err(|e| format!("{e:?}"))?;
    let store = ivrhook_store::open(&url, None, OpenOptions::default())
        .await
        .map_err(|e| format!("{e:?}"))?;
    let seeding = Instant::now();
    let rows = seed(store.as_ref(), calls).await?;
    let seed_s = seeding.elapsed().as_secs_f64();
    store.close().await;
    std::fs::write(dir.join("page.toml"), format!("[[apps]]\nid = \"{APP}\"\n"))
        .map_err(|e| e.to_string())?;
    let args = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        database,
        "--config",
        "page.toml",
    ];
    let server = Cluster::start(dir, &args, 1).await?;
    let base = format!("http://{}", server.addrs()[0]);
    let client = reqwest::Client::new();
    let mut pages = serde_json::Map::new();
    for range in ["24h", "7d", "30d"] {
        let page = format!("{base}/analytics/{APP}?range={range}");
        pages.insert(
            format!("page_{range}"),
            timed(&client, &page, renders).await?,
        );
    }
    let from = (chrono::Utc::now() - chrono::Duration::days(DAYS)).format("%Y-%m-%d");
    let api = format!("{base}/v1/apps/{APP}/analytics?from={from}");
    pages.insert("api_30d".into(), timed(&client, &api, renders).await?);
    let check: Value = client
        .get(&api)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    server.stop().await;
    Ok(json!({
        "database": super::shown(database),
        "calls": calls,
        "calls_counted_30d": check["calls"],
        "rows": rows,
        "seed_s": seed_s,
        "renders": renders,
        "times": pages,
    }))
}
