//! A fake business receiver: an HTTP server on port 0 whose answers the test scripts.

use axum::{
    body::Bytes, extract::State, http::HeaderMap, response::IntoResponse, routing::post, Router,
};
use serde_json::Value;
use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub delay: Duration,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn code(code: &str) -> Reply {
        Reply {
            status: 200,
            body: format!(r#"{{"code":"{code}","msg":"scripted"}}"#),
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            body: String::new(),
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

#[derive(Debug, Clone)]
pub struct Received {
    pub body: Value,
    pub raw: Vec<u8>,
    pub headers: HeaderMap,
    pub at: tokio::time::Instant,
}

#[derive(Debug, Clone)]
pub struct FakeReceiver {
    pub url: reqwest::Url,
    script: Arc<Mutex<VecDeque<Reply>>>,
    default: Arc<Mutex<Reply>>,
    received: Arc<Mutex<Vec<Received>>>,
    /// Requests being answered now, and the most there ever were at once.
    concurrency: Arc<Mutex<(u32, u32)>>,
}

impl FakeReceiver {
    pub async fn start() -> FakeReceiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap())
            .parse()
            .unwrap();
        let fake = FakeReceiver {
            url,
            script: Arc::default(),
            default: Arc::new(Mutex::new(Reply::code("000000"))),
            received: Arc::default(),
            concurrency: Arc::default(),
        };
        let app = Router::new()
            .route("/hook", post(answer))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    /// Answers these, in order, before falling back to the default (`000000`).
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().extend(replies);
    }

    pub fn always(&self, reply: Reply) {
        *self.default.lock().unwrap() = reply;
    }

    /// The most requests that were ever in progress at once.
    pub fn peak_concurrency(&self) -> u32 {
        self.concurrency.lock().unwrap().1
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn answer(
    State(fake): State<FakeReceiver>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    fake.received.lock().unwrap().push(Received {
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        raw: body.to_vec(),
        headers,
        at: tokio::time::Instant::now(),
    });
    let reply = fake.script.lock().unwrap().pop_front();
    let reply = reply.unwrap_or_else(|| fake.default.lock().unwrap().clone());
    {
        let mut c = fake.concurrency.lock().unwrap();
        c.0 += 1;
        c.1 = c.1.max(c.0);
    }
    tokio::time::sleep(reply.delay).await;
    fake.concurrency.lock().unwrap().0 -= 1;
    let status = axum::http::StatusCode::from_u16(reply.status).unwrap();
    let mut response = (status, reply.body).into_response();
    for (name, value) in reply.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}
