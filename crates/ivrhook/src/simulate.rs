//! `ivrhook simulate`: plays the voice platform against a receiver. Reports go out at a target
//! rate from a number of concurrent senders; `108102` and `108104` are retried with backoff as
//! a platform would; the summary gives answers by code, retries, latency and throughput.

use crate::{
    calls::CallGenerator,
    stats::{ms, table, Latencies},
};
use ivrhook_protocol::{AppId, ResponseCode};
use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::time::Instant;

#[derive(Debug, Clone)]
pub struct Options {
    pub target: String,
    pub app: AppId,
    /// Stop after this many calls (or at `duration`, whichever comes first).
    pub calls: Option<u64>,
    pub duration: Option<Duration>,
    /// Reports per second across all senders; `None` sends as fast as answers come.
    pub rate: Option<f64>,
    pub concurrency: usize,
    pub hangup_ratio: f64,
    pub seed: u64,
    /// Retries of a report answered `108102`/`108104` or not answered at all.
    pub max_retries: u32,
}

#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub reports: u64,
    pub requests: u64,
    pub by_code: BTreeMap<String, u64>,
    pub retries: u64,
    /// Reports that never got a final answer (retries exhausted on errors).
    pub failed: u64,
    pub latencies: Latencies,
    pub elapsed: Duration,
}

impl Summary {
    pub fn render(&mut self) -> String {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let mut rows = vec![
            ("reports sent".to_owned(), self.reports.to_string()),
            ("requests".to_owned(), self.requests.to_string()),
            ("retries".to_owned(), self.retries.to_string()),
            ("without a final answer".to_owned(), self.failed.to_string()),
        ];
        for (code, n) in &self.by_code {
            rows.push((format!("answered {code}"), n.to_string()));
        }
        for (label, p) in [("p50", 50.0), ("p90", 90.0), ("p99", 99.0)] {
            rows.push((
                format!("latency {label}"),
                format!("{:.2} ms", ms(self.latencies.percentile(p))),
            ));
        }
        rows.push((
            "latency max".into(),
            format!("{:.2} ms", ms(self.latencies.max())),
        ));
        rows.push((
            "throughput".into(),
            format!("{:.0} reports/s", self.reports as f64 / secs),
        ));
        rows.push(("elapsed".into(), format!("{:.2} s", secs)));
        table(&rows)
    }
}

/// Progress as it happens: called with reports done so far.
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

struct Shared {
    generator: Mutex<CallGenerator>,
    next: Mutex<u64>,
    summary: Mutex<Summary>,
}

pub async fn run(opts: Options, progress: Progress) -> Summary {
    let shared = Arc::new(Shared {
        generator: Mutex::new(CallGenerator::new(
            opts.app.clone(),
            opts.seed,
            opts.hangup_ratio,
        )),
        next: Mutex::new(0),
        summary: Mutex::new(Summary::default()),
    });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(opts.concurrency)
        .build()
        .expect("a plain HTTP client builds");
    let started = Instant::now();
    let url = opts.target.clone();
    let workers: Vec<_> = (0..opts.concurrency.max(1))
        .map(|_| {
            let (shared, client, opts, url, progress) = (
                Arc::clone(&shared),
                client.clone(),
                opts.clone(),
                url.clone(),
                Arc::clone(&progress),
            );
            tokio::spawn(async move { sender(shared, client, opts, url, started, progress).await })
        })
        .collect();
    for w in workers {
        let _ = w.await;
    }
    let mut summary = shared
        .summary
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    summary.elapsed = started.elapsed();
    summary
}

async fn sender(
    shared: Arc<Shared>,
    client: reqwest::Client,
    opts: Options,
    url: String,
    started: Instant,
    progress: Progress,
) {
    loop {
        let i = {
            let mut next = shared.next.lock().unwrap_or_else(|p| p.into_inner());
            let i = *next;
            if opts.calls.is_some_and(|n| i >= n)
                || opts.duration.is_some_and(|d| started.elapsed() >= d)
            {
                return;
            }
            *next += 1;
            i
        };
        let body = shared
            .generator
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next_report()
            .to_bytes();
        if let Some(rate) = opts.rate {
            tokio::time::sleep_until(started + Duration::from_secs_f64(i as f64 / rate)).await;
        }
        let mut latencies = Latencies::default();
        let mut codes = Vec::new();
        let mut final_code = None;
        for attempt in 0..=opts.max_retries {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 << attempt.min(6))).await;
            }
            let t0 = Instant::now();
            let answer = post(&client, &url, body.clone()).await;
            latencies.push(t0.elapsed());
            codes.push(answer.clone().unwrap_or_else(|e| e));
            match answer.as_deref().ok().and_then(ResponseCode::parse) {
                Some(ResponseCode::QueueFull | ResponseCode::OtherError) | None => continue,
                Some(_) => {
                    final_code = answer.ok();
                    break;
                }
            }
        }
        let mut s = shared.summary.lock().unwrap_or_else(|p| p.into_inner());
        s.reports += 1;
        s.requests += codes.len() as u64;
        s.retries += codes.len() as u64 - 1;
        for c in codes {
            *s.by_code.entry(c).or_default() += 1;
        }
        if final_code.is_none() {
            s.failed += 1;
        }
        s.latencies.extend(latencies);
        let done = s.reports;
        drop(s);
        progress(done);
    }
}

/// The answered `code`, or a short description of what went wrong instead.
async fn post(client: &reqwest::Client, url: &str, body: Vec<u8>) -> Result<String, String> {
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "timeout".to_owned()
            } else {
                "connection error".to_owned()
            }
        })?;
    let status = resp.status().as_u16();
    let value: serde_json::Value = resp
        .json()
        .await
        .map_err(|_| format!("HTTP {status}, not JSON"))?;
    match &value["code"] {
        serde_json::Value::String(s) => Ok(s.clone()),
        other => Err(format!("HTTP {status}, code {other}")),
    }
}
