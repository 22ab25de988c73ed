//! The load generator: N keep-alive HTTP/1 connections on hyper's bare client (no pool, no
//! redirects, nothing between the socket and the request), each sending as fast as answers
//! come, or at a paced rate.

use crate::stats::Latencies;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{client::conn::http1, Request};
use hyper_util::rt::TokioIo;
use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};
use tokio::{net::TcpStream, time::Instant};

/// What a run measured.
#[derive(Debug, Default)]
pub struct Run {
    /// Answers whose body carries `success` (the `000000` answer or the 202).
    pub ok: u64,
    pub other: u64,
    pub errors: u64,
    pub latencies: Latencies,
    pub elapsed: Duration,
}

/// Makes request `n`'s body, and tells whether an answer counts as success.
pub trait Workload: Send + Sync + 'static {
    fn body(&self, n: u64) -> Bytes;
    fn success(&self, status: u16, body: &[u8]) -> bool;
    /// Called after a successful answer to request `n`, sent at `sent` (for lag bookkeeping).
    fn done(&self, _n: u64, _sent: Instant) {}
}

/// Drives `connections` connections at `path` for `duration` after `warmup`. With `rate`,
/// requests are paced to that many per second in total.
pub async fn drive(
    addrs: &[SocketAddr],
    path: &str,
    connections: usize,
    warmup: Duration,
    duration: Duration,
    rate: Option<f64>,
    work: Arc<dyn Workload>,
) -> Run {
    let counter = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|i| {
            let addr = addrs[i % addrs.len()];
            let (counter, work, path) = (Arc::clone(&counter), Arc::clone(&work), path.to_owned());
            tokio::spawn(async move {
                connection(addr, path, counter, work, start, measure_from, end, rate).await
            })
        })
        .collect();
    let mut run = Run::default();
    for t in tasks {
        if let Ok(part) = t.await {
            run.ok += part.ok;
            run.other += part.other;
            run.errors += part.errors;
            run.latencies.extend(part.latencies);
        }
    }
    run.elapsed = duration;
    run
}

#[allow(clippy::too_many_arguments)]
async fn connection(
    addr: SocketAddr,
    path: String,
    counter: Arc<AtomicU64>,
    work: Arc<dyn Workload>,
    start: Instant,
    measure_from: Instant,
    end: Instant,
    rate: Option<f64>,
) -> Run {
    let mut run = Run::default();
    let Ok(stream) = TcpStream::connect(addr).await else {
        run.errors += 1;
        return run;
    };
    let _ = stream.set_nodelay(true);
    let Ok((mut sender, conn)) = http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream)).await
    else {
        run.errors += 1;
        return run;
    };
    tokio::spawn(conn);
    loop {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        if let Some(rate) = rate {
            tokio::time::sleep_until(start + Duration::from_secs_f64(n as f64 / rate)).await;
        }
        let sent = Instant::now();
        if sent >= end {
            return run;
        }
        let request = Request::post(path.as_str())
            .header("host", "bench")
            .header("content-type", "application/json")
            .body(Full::new(work.body(n)))
            .expect("a valid request");
        let answer = match sender.send_request(request).await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                match resp.into_body().collect().await {
                    Ok(b) => Some((status, b.to_bytes())),
                    Err(_) => None,
                }
            }
            Err(_) => None,
        };
        let done = Instant::now();
        let measured = sent >= measure_from;
        match answer {
            Some((status, body)) if work.success(status, &body) => {
                work.done(n, sent);
                if measured {
                    run.ok += 1;
                    run.latencies.push(done - sent);
                }
            }
            Some(_) => run.other += u64::from(measured),
            None => {
                run.errors += 1;
                return run;
            }
        }
    }
}
