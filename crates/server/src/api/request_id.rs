//! Every API response carries `x-request-id` (the caller's, when it sent a sane one), and every
//! log line made while answering it carries the same id in its `api` span, so one failure can
//! be found from the response a client saw.

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use std::time::Instant;
use tracing::Instrument;

static HEADER: HeaderName = HeaderName::from_static("x-request-id");

pub(crate) async fn request_id(req: Request, next: Next) -> Response {
    let given = (req.headers().get(&HEADER))
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()));
    let id = given.map_or_else(|| format!("{:016x}", fastrand::u64(..)), str::to_owned);
    let span = tracing::info_span!("api", request_id = %id, method = %req.method(),
        path = %req.uri().path());
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::debug!(
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "API request answered"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER.clone(), value);
    }
    response
}
