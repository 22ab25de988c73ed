//! A voice platform's recording server: serves files at paths, each answering scripted
//! statuses first (404 while "not ready", 403, …), whole or in slow chunks, and keeps an
//! access log, so tests see how often each link was fetched.

use axum::{
    body::{Body, Bytes},
    extract::{Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::{net::TcpListener, sync::Notify, task::JoinHandle};

/// How a path answers.
#[derive(Debug, Clone, Default)]
pub struct Served {
    /// The file's bytes.
    pub bytes: Bytes,
    /// Statuses answered, one per request, before the file is served.
    pub first: VecDeque<u16>,
    /// Always this status instead of the file.
    pub always: Option<u16>,
    /// Sent without `Content-Length`, in chunks of this many bytes, each after `pause`.
    pub chunked: Option<(usize, Duration)>,
    /// Answered with a redirect to this URL.
    pub redirect: Option<String>,
}

/// The recording server, on a loopback port (or the address given).
#[derive(Debug)]
pub struct Platform {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    task: JoinHandle<()>,
}

#[derive(Debug, Default)]
struct Shared {
    paths: HashMap<String, Served>,
    log: Vec<(String, u16)>,
    /// Chunked bodies being sent now, and the most there ever were at once.
    sending: (usize, usize),
    /// Chunked bodies start once this many are being sent at once.
    gate: usize,
    /// Told when a chunked body starts.
    started: Arc<Notify>,
}

impl Platform {
    /// A server on a free loopback port.
    pub async fn start() -> Platform {
        Platform::on("127.0.0.1:0".parse().unwrap()).await
    }

    /// A server on `addr`.
    pub async fn on(addr: SocketAddr) -> Platform {
        let listener = TcpListener::bind(addr).await.expect("bind the platform");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let app = Router::new()
            .route("/{*path}", get(answer))
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Platform { addr, shared, task }
    }

    /// Serves `served` at `path` (`/rec/1.wav`); its URL.
    pub fn serve(&self, path: &str, served: Served) -> String {
        self.shared
            .lock()
            .unwrap()
            .paths
            .insert(path.to_owned(), served);
        self.url(path)
    }

    /// Serves `bytes` at `path`; its URL.
    pub fn file(&self, path: &str, bytes: &[u8]) -> String {
        let served = Served {
            bytes: Bytes::copy_from_slice(bytes),
            ..Served::default()
        };
        self.serve(path, served)
    }

    /// The URL of `path` here.
    pub fn url(&self, path: &str) -> String {
        match self.addr {
            SocketAddr::V4(a) => format!("http://{a}{path}"),
            SocketAddr::V6(a) => format!("http://[{}]:{}{path}", a.ip(), a.port()),
        }
    }

    /// Holds every chunked body until `n` are being sent at once (at most a minute), so
    /// their fetches run at once however fast each would be.
    pub fn hold_bodies_until(&self, n: usize) {
        self.shared.lock().unwrap().gate = n;
    }

    /// The most chunked bodies it was sending at once.
    pub fn most_at_once(&self) -> usize {
        self.shared.lock().unwrap().sending.1
    }

    /// Requests for `path` so far, with what each was answered.
    pub fn requests(&self, path: &str) -> Vec<u16> {
        let shared = self.shared.lock().unwrap();
        (shared.log.iter())
            .filter(|(p, _)| p == path)
            .map(|(_, status)| *status)
            .collect()
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(State(shared): State<Arc<Mutex<Shared>>>, Path(path): Path<String>) -> Response {
    let path = format!("/{path}");
    let (status, served) = {
        let mut shared = shared.lock().unwrap();
        let found = shared.paths.get_mut(&path).map(|s| {
            let status = s.first.pop_front().or(s.always);
            let status = status.or(s.redirect.as_ref().map(|_| 302)).unwrap_or(200);
            (status, s.clone())
        });
        let (status, served) = found.unwrap_or((404, Served::default()));
        shared.log.push((path, status));
        (status, served)
    };
    let code = StatusCode::from_u16(status).unwrap();
    match (status, served.redirect, served.chunked) {
        (200, _, None) => (code, served.bytes).into_response(),
        (200, _, Some((size, pause))) => chunked(shared, served.bytes, size, pause),
        (302, Some(to), _) => (code, [(header::LOCATION, to)]).into_response(),
        _ => code.into_response(),
    }
}

fn chunked(shared: Arc<Mutex<Shared>>, bytes: Bytes, size: usize, pause: Duration) -> Response {
    let chunks: Vec<Bytes> = (0..bytes.len())
        .step_by(size.max(1))
        .map(|at| bytes.slice(at..(at + size).min(bytes.len())))
        .collect();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    tokio::spawn(async move {
        let started = {
            let mut shared = shared.lock().unwrap();
            shared.sending.0 += 1;
            shared.sending.1 = shared.sending.1.max(shared.sending.0);
            Arc::clone(&shared.started)
        };
        started.notify_waiters();
        gate(&shared, &started).await;
        for chunk in chunks {
            tokio::time::sleep(pause).await;
            if tx.send(Ok(chunk)).await.is_err() {
                break;
            }
        }
        shared.lock().unwrap().sending.0 -= 1;
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Response::new(Body::from_stream(stream))
}

/// Waits until the gate's number of bodies are being sent at once, or a minute has passed.
async fn gate(shared: &Mutex<Shared>, started: &Notify) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let notified = started.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let shared = shared.lock().unwrap();
            if shared.sending.1 >= shared.gate {
                return;
            }
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return;
        }
    }
}

/// A recording's SHA-256, lowercase hex, as ivrhook shows it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every file under `dir` (a directory store), staged uploads included; none when it is not
/// there.
pub fn files_in(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        match entry.path().is_dir() {
            true => found.extend(files_in(&entry.path())),
            false => found.push(entry.path()),
        }
    }
    found
}

/// A WAV file (16-bit mono, 8 kHz) of `samples` samples of noise from `seed`: a valid
/// header and bytes that differ per seed.
pub fn wav(samples: usize, seed: u64) -> Vec<u8> {
    let data_len = (samples * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&16000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    let mut x = seed | 1;
    for _ in 0..samples {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&((x as i16) / 8).to_le_bytes());
    }
    out
}
