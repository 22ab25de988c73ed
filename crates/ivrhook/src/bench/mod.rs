//! `ivrhook bench`: measures the two paths the product exists for, on this machine.
//!
//! - `load`: the load generator (hyper's bare HTTP/1 client, N keep-alive connections).
//! - `server`: the server under test as a child process; its CPU and memory from /proc.
//! - `ceiling`: the HTTP stack alone, answering without decoding or storing.
//! - `disk`: the disk's own fsync latency beside a phase.
//! - `dashboard`: the time to render a heavy call's page, and the overview's weight.
//! - `prune`: the receive rate while retention prunes a large backlog of old rows;
//!   `prune_days`, the same on PostgreSQL, where retention drops a day's partition.
//! - `growth`, `growth_seed`, `growth_phases`: the receiver and the reads as the store grows.
//! - `receive`, `deliver`, `forward`: the benches.
//! - `recordings`: recordings kept per second next to a plain copy of the same files.
//! - `analytics`: receiving with the IVR analytics on and off; `analytics_page`: the page
//!   for an app with a million calls over 30 days.

pub mod analytics;
mod analytics_page;
pub mod ceiling;
pub mod dashboard;
pub mod deliver;
pub mod disk;
pub mod forward;
pub mod forward_ends;
pub mod growth;
mod growth_phases;
mod growth_seed;
pub mod load;
pub mod prune;
pub mod prune_days;
pub mod receive;
pub mod recordings;
pub mod server;

use crate::stats::table;
use ivrhook_store::postgres::scratch::ScratchDatabase;
use serde_json::Value;

/// The database the server under test uses: a SQLite file in the bench's temporary directory
/// by default; for `--database postgres://…`, a scratch database created on that server
/// (named `ivrhook_bench_<pid>`, dropped afterwards), so a bench never touches real data.
pub(crate) async fn database(
    given: Option<&str>,
    sqlite_default: &str,
) -> Result<(String, Option<ScratchDatabase>), String> {
    match given {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let name = format!("ivrhook_bench_{}", std::process::id());
            let db = ScratchDatabase::create(url, &name)
                .await
                .map_err(|e| format!("creating the bench database on {url}: {e:?}"))?;
            Ok((db.url.clone(), Some(db)))
        }
        Some(url) => Ok((url.to_owned(), None)),
        None => Ok((sqlite_default.to_owned(), None)),
    }
}

/// A report of the bench's app, as the receiver would store it, received at `at`; `n` makes
/// its content hash unique.
pub(crate) fn seeded_report(
    call: &str,
    raw: Vec<u8>,
    n: u64,
    at: chrono::DateTime<chrono::Utc>,
) -> ivrhook_store::NewReport {
    let mut hash = [0u8; 32];
    hash[..8].copy_from_slice(&n.to_le_bytes());
    ivrhook_store::NewReport {
        app_id: "247e35ff320a4142a105024055c367cf"
            .try_into()
            .expect("an app id"),
        call_id: call.try_into().expect("a call id"),
        event: "multrpt".into(),
        status: Some(0),
        content_hash: hash,
        received_at: at,
        peer: None,
        raw,
        utc_offset: "+08:00".into(),
        warnings: "[]".into(),
        forwards: Vec::new(),
    }
}

/// The database URL for the report, without a password.
pub(crate) fn shown(url: &str) -> String {
    url.parse::<ivrhook_store::DatabaseUrl>()
        .map_or_else(|_| url.to_owned(), |u| format!("{u:?}"))
}

/// Drops a scratch database after a bench (a failure to drop is reported, not fatal).
pub(crate) async fn drop_scratch(db: Option<ScratchDatabase>) {
    if let Some(db) = db {
        if let Err(e) = db.drop_database().await {
            eprintln!("ivrhook bench: could not drop the bench database: {e:?}");
        }
    }
}

/// A bench's figures, as the JSON the acceptance checks read.
#[derive(Debug)]
pub struct Report {
    pub json: Value,
}

impl Report {
    /// A human table of every figure, with the machine; nested figures as `a.b` or `a[0].b`.
    pub fn render(&self) -> String {
        let (cores, mem) = server::machine();
        let mut rows = vec![("machine".to_owned(), format!("{cores} cores, {mem:.1} GiB"))];
        flatten("", &self.json, &mut rows);
        table(&rows)
    }
}

fn flatten(at: &str, v: &Value, rows: &mut Vec<(String, String)>) {
    let key = |k: &str| {
        if at.is_empty() {
            k.to_owned()
        } else {
            format!("{at}.{k}")
        }
    };
    match v {
        Value::Object(m) => m.iter().for_each(|(k, v)| flatten(&key(k), v, rows)),
        Value::Array(a) => {
            (a.iter().enumerate()).for_each(|(i, v)| flatten(&format!("{at}[{i}]"), v, rows))
        }
        Value::Number(n) if n.is_f64() => {
            rows.push((at.into(), format!("{:.2}", n.as_f64().unwrap_or(0.0))))
        }
        Value::String(s) => rows.push((at.into(), s.clone())),
        other => rows.push((at.into(), other.to_string())),
    }
}
