//! `ivrhook simulate`: plays the voice platform against a receiver. Reports go out at a target
//! rate from a number of concurrent senders; `108102`, `108104` and answers that never came
//! (timeouts, connection errors, HTTP 5xx and 429) are retried with backoff as a platform
//! would; the summary gives each report's final answer by code, the retried answers, latency
//! and the rate of accepted reports.

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
    /// Retries of a report whose answer says to try again (see [`retried`]).
    pub max_retries: u32,
    /// Where hung-up calls' recordings are served (`--recordings`).
    pub recordings: Option<crate::recording_server::RecordingServer>,
    /// The menu tree calls walk (`--ivr-flow`).
    pub flow: Option<crate::flow::Flow>,
}

#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub reports: u64,
    pub requests: u64,
    /// Each report's final answer: its code, or what came instead of one.
    pub by_code: BTreeMap<String, u64>,
    /// The answers that were tried again, by code.
    pub retried: BTreeMap<String, u64>,
    pub latencies: Latencies,
    pub elapsed: Duration,
}

impl Summary {
    pub fn accepted(&self) -> u64 {
        self.by_code.get("000000").copied().unwrap_or(0)
    }

    /// The final answers other than `000000`, e.g. "3 × 108101, 2 × HTTP 404, not JSON".
    pub fn not_accepted(&self) -> Option<String> {
        let others: Vec<String> = (self.by_code.iter())
            .filter(|(code, _)| *code != "000000")
            .map(|(code, n)| format!("{n} × {code}"))
            .collect();
        (!others.is_empty()).then(|| others.join(", "))
    }

    pub fn render(&mut self) -> String {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let mut rows = vec![
            ("reports sent".to_owned(), self.reports.to_string()),
            ("requests".to_owned(), self.requests.to_string()),
        ];
        for (code, n) in &self.by_code {
            rows.push((format!("answered {code}"), n.to_string()));
        }
        for (code, n) in &self.retried {
            rows.push((format!("retried after {code}"), n.to_string()));
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
        let accepted = match self.accepted() {
            0 => "none accepted".to_owned(),
            n => format!("{:.0} reports/s", n as f64 / secs),
        };
        rows.push(("accepted".into(), accepted));
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
    let mut generator = CallGenerator::new(opts.app.clone(), opts.seed, opts.hangup_ratio);
    if let Some(server) = &opts.recordings {
        generator = generator.recordings_at(server.clone());
    }
    if let Some(flow) = &opts.flow {
        generator = generator.walking(flow.clone());
    }
    let shared = Arc::new(Shared {
        generator: Mutex::new(generator),
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
        let (answers, latencies) = send_report(&client, &url, &body, opts.max_retries).await;
        let mut s = shared.summary.lock().unwrap_or_else(|p| p.into_inner());
        s.reports += 1;
        s.requests += answers.len() as u64;
        let (last, tried_again) = answers.split_last().expect("at least one request is sent");
        for a in tried_again {
            *s.retried.entry(a.label()).or_default() += 1;
        }
        *s.by_code.entry(last.label()).or_default() += 1;
        s.latencies.extend(latencies);
        let done = s.reports;
        drop(s);
        progress(done);
    }
}

/// Sends one report until its answer is final or the retries run out: every answer, in order,
/// and each request's latency.
async fn send_report(
    client: &reqwest::Client,
    url: &str,
    body: &[u8],
    max_retries: u32,
) -> (Vec<Answer>, Latencies) {
    let mut latencies = Latencies::default();
    let mut answers = Vec::new();
    for attempt in 0..=max_retries {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100 << attempt.min(6))).await;
        }
        let t0 = Instant::now();
        let answer = post(client, url, body.to_vec()).await;
        latencies.push(t0.elapsed());
        let again = answer.retried();
        answers.push(answer);
        if !again {
            break;
        }
    }
    (answers, latencies)
}

/// What a request got back.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    Code(String),
    /// No answer: a timeout, or a connection error with its root cause.
    Unreachable(String),
    /// An HTTP answer without the contract's code, e.g. "HTTP 404, not JSON".
    Other {
        status: u16,
        what: String,
    },
}

impl Answer {
    fn label(&self) -> String {
        match self {
            Answer::Code(code) => code.clone(),
            Answer::Unreachable(why) => why.clone(),
            Answer::Other { status, what } => format!("HTTP {status}, {what}"),
        }
    }

    /// Whether a platform tries again: the contract's "later" codes, no answer at all, or an
    /// HTTP status that says the server is overloaded or failing. A 404 or a refusal never
    /// turns into a success by being sent again.
    fn retried(&self) -> bool {
        match self {
            Answer::Code(code) => matches!(
                ResponseCode::parse(code),
                Some(ResponseCode::QueueFull | ResponseCode::OtherError)
            ),
            Answer::Unreachable(_) => true,
            Answer::Other { status, .. } => *status == 429 || *status >= 500,
        }
    }
}

async fn post(client: &reqwest::Client, url: &str, body: Vec<u8>) -> Answer {
    let sent = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return Answer::Unreachable("no answer: timeout".into()),
        Err(e) => return Answer::Unreachable(format!("no answer: {}", crate::net::root_cause(&e))),
    };
    let status = resp.status().as_u16();
    let Ok(value) = resp.json::<serde_json::Value>().await else {
        let what = "not JSON".to_owned();
        return Answer::Other { status, what };
    };
    match &value["code"] {
        serde_json::Value::String(s) => Answer::Code(s.clone()),
        other => Answer::Other {
            status,
            what: format!("code {other}"),
        },
    }
}
