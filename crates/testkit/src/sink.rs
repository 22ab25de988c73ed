//! A business's internal webhook for forwarding tests: a real HTTP server on loopback that
//! keeps every POST, whatever its path, and answers the status it is told to.

use axum::{body::Bytes, extract::State, http::HeaderMap, routing::post, Router};
use serde_json::Value;
use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU16, Ordering},
        Arc, Mutex,
    },
};
use tokio::{net::TcpListener, task::JoinHandle};

/// One request the sink took.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body, as it came.
    pub raw: Vec<u8>,
}

impl Hit {
    /// The body as JSON; panics when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.raw).expect("a JSON body")
    }
}

#[derive(Debug, Default)]
struct Shared {
    hits: Mutex<Vec<Hit>>,
    status: AtomicU16,
}

/// The receiving server: it listens until `stop` or the end of the test.
#[derive(Debug)]
pub struct Sink {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Sink {
    /// A sink on a free loopback port, answering 200.
    pub async fn start() -> Sink {
        Sink::on(TcpListener::bind("127.0.0.1:0").await.expect("bind")).await
    }

    /// A sink on `addr` (a port a test kept free, to bring a "down" destination back).
    pub async fn start_at(addr: SocketAddr) -> Sink {
        Sink::on(
            TcpListener::bind(addr)
                .await
                .expect("bind the sink's port again"),
        )
        .await
    }

    async fn on(listener: TcpListener) -> Sink {
        let shared = Arc::new(Shared::default());
        shared.status.store(200, Ordering::SeqCst);
        let app = Router::new()
            .fallback(post(hook))
            .with_state(Arc::clone(&shared));
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Sink { addr, shared, task }
    }

    /// A URL to configure a destination with.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// The status every later request is answered.
    pub fn answer(&self, status: u16) {
        self.shared.status.store(status, Ordering::SeqCst);
    }

    /// Every request taken so far, in order.
    pub fn hits(&self) -> Vec<Hit> {
        self.shared.hits.lock().unwrap().clone()
    }

    /// Stops listening: a destination that goes down.
    pub fn stop(self) {
        self.task.abort();
    }
}

async fn hook(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::http::StatusCode {
    shared.hits.lock().unwrap().push(Hit {
        headers,
        raw: body.to_vec(),
    });
    axum::http::StatusCode::from_u16(shared.status.load(Ordering::SeqCst))
        .unwrap_or(axum::http::StatusCode::OK)
}

/// A loopback address nothing listens on (bound, then let go): a destination that is down.
pub async fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    l.local_addr().expect("addr")
}
