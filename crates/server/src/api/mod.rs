//! The `/v1` API: calls a business registers, call timelines, paging through reports.
//! With `admin_token` set, every request needs `Authorization: Bearer <token>`.
//!
//! - `calls`: `POST /v1/apps/{appId}/calls`, `GET /v1/calls/{callId}`.
//! - `events`: `GET /v1/events?after=&limit=`.

mod calls;
mod events;

use crate::{error::ApiError, state::AppState};
use axum::{
    extract::{Request, State},
    http::header::AUTHORIZATION,
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
    Router,
};
use ivrhook_store::StoredReport;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/apps/{app_id}/calls", post(calls::register))
        .route("/v1/calls/{call_id}", get(calls::timeline))
        .route("/v1/events", get(events::page))
        .route_layer(middleware::from_fn_with_state(state, require_token))
}

async fn require_token(
    State(st): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if let Some(token) = &st.config.admin_token {
        let given = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !constant_time_eq(given.as_bytes(), token.expose().as_bytes()) {
            return Err(ApiError::Unauthorized);
        }
    }
    Ok(next.run(req).await)
}

/// Compares without an early exit, so response time does not leak how much of a guess matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A stored report as the API shows it: the decoded form's fields, then what the receiver
/// recorded around it. Accepted bodies are always UTF-8, so `raw` is the exact text.
pub(crate) fn report_json(r: &StoredReport) -> Value {
    let mut obj = match &r.decoded {
        Value::Object(m) => m.clone(),
        _ => Default::default(),
    };
    let received = r
        .received_at
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    for (k, v) in [
        ("id", json!(r.id)),
        ("appId", json!(r.app_id)),
        ("callId", json!(r.call_id)),
        ("receivedAt", json!(received)),
        ("peer", json!(r.peer)),
        ("warnings", r.warnings.clone()),
        ("duplicates", json!(r.duplicates)),
        ("raw", json!(String::from_utf8_lossy(&r.raw))),
    ] {
        obj.insert(k.to_owned(), v);
    }
    Value::Object(obj)
}
