//! The receiving end of every test: a real HTTP server on loopback that keeps every POST,
//! whatever its path, and answers what it is told to (a status, a business's code, after a
//! delay, scripted one by one).

use axum::{
    body::Bytes,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::post,
    Router,
};
use serde_json::Value;
use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::{net::TcpListener, task::JoinHandle, time::Instant};

/// An answer the sink gives.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: String,
    /// How long it waits before answering.
    pub delay: Duration,
    /// Headers beside the body.
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// HTTP 200 with a business's answer: `{"code": code, "msg": "scripted"}`.
    pub fn code(code: &str) -> Reply {
        Reply::status(200).body(&format!(r#"{{"code":"{code}","msg":"scripted"}}"#))
    }

    /// `status` with no body.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            body: String::new(),
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    /// The same answer with `body`.
    pub fn body(mut self, body: &str) -> Reply {
        self.body = body.to_owned();
        self
    }

    /// The same answer, given after `delay`.
    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    /// The same answer with the header `name: value`.
    pub fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_owned()));
        self
    }
}

/// One request the sink took.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body, as it came.
    pub raw: Vec<u8>,
    /// When it arrived (tokio's clock, so paused-time tests can measure gaps).
    pub at: Instant,
}

impl Hit {
    /// The body as JSON; panics when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.raw).expect("a JSON body")
    }

    /// The body's `callId`, when it is JSON with one.
    pub fn call_id(&self) -> Option<String> {
        let body: Value = serde_json::from_slice(&self.raw).ok()?;
        body["callId"].as_str().map(str::to_owned)
    }
}

#[derive(Debug)]
struct Shared {
    hits: Mutex<Vec<Hit>>,
    script: Mutex<VecDeque<Reply>>,
    always: Mutex<Reply>,
    /// Requests being answered now, and the most there ever were at once.
    concurrency: Mutex<(u32, u32)>,
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
    /// A sink on a free loopback port, answering 200 with no body.
    pub async fn start() -> Sink {
        Sink::on(TcpListener::bind("127.0.0.1:0").await.expect("bind")).await
    }

    /// A business's receiver: a sink answering every report `000000`.
    pub async fn business() -> Sink {
        let sink = Sink::start().await;
        sink.always(Reply::code("000000"));
        sink
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
        let shared = Arc::new(Shared {
            hits: Mutex::default(),
            script: Mutex::default(),
            always: Mutex::new(Reply::status(200)),
            concurrency: Mutex::default(),
        });
        let app = Router::new()
            .fallback(post(hook))
            .with_state(Arc::clone(&shared));
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Sink { addr, shared, task }
    }

    /// A URL to configure a destination or an app's callback with.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Every later request is answered `status`, with no body.
    pub fn answer(&self, status: u16) {
        self.always(Reply::status(status));
    }

    /// Every later request is answered `reply` (once a script has run out).
    pub fn always(&self, reply: Reply) {
        *self.shared.always.lock().unwrap() = reply;
    }

    /// The next requests are answered these, in order, before the `always` answer.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.script.lock().unwrap().extend(replies);
    }

    /// Every request taken so far, in order.
    pub fn hits(&self) -> Vec<Hit> {
        self.shared.hits.lock().unwrap().clone()
    }

    /// How many requests it took.
    pub fn count(&self) -> usize {
        self.shared.hits.lock().unwrap().len()
    }

    /// How many requests each callId came in (a JSON body's `callId`).
    pub fn by_call(&self) -> HashMap<String, usize> {
        let hits = self.shared.hits.lock().unwrap();
        let mut seen = HashMap::new();
        for call in hits.iter().filter_map(Hit::call_id) {
            *seen.entry(call).or_insert(0) += 1;
        }
        seen
    }

    /// The most requests that were ever being answered at once.
    pub fn peak_concurrency(&self) -> u32 {
        self.shared.concurrency.lock().unwrap().1
    }

    /// Stops listening: a destination that goes down.
    pub fn stop(self) {
        self.task.abort();
    }
}

async fn hook(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    shared.hits.lock().unwrap().push(Hit {
        headers,
        raw: body.to_vec(),
        at: Instant::now(),
    });
    let scripted = shared.script.lock().unwrap().pop_front();
    let reply = scripted.unwrap_or_else(|| shared.always.lock().unwrap().clone());
    {
        let mut c = shared.concurrency.lock().unwrap();
        c.0 += 1;
        c.1 = c.1.max(c.0);
    }
    // A zero sleep still waits for the timer's next tick: an answer without a delay goes at once.
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    shared.concurrency.lock().unwrap().0 -= 1;
    let status = axum::http::StatusCode::from_u16(reply.status).expect("a valid status");
    let mut response = (status, reply.body).into_response();
    for (name, value) in reply.headers {
        response
            .headers_mut()
            .insert(name, value.parse().expect("a valid header value"));
    }
    response
}

/// A loopback address nothing listens on (bound, then let go): a destination that is down.
pub async fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    l.local_addr().expect("addr")
}
