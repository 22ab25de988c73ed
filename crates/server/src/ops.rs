//! Operational endpoints and the answers for what no route matches.

use crate::{
    error::{answer, ApiError},
    state::AppState,
};
use axum::{
    extract::State,
    http::{header::CONTENT_TYPE, Method, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use ivrhook_protocol::ResponseCode;
use serde_json::json;
use std::{any::Any, sync::Arc};

/// `GET /healthz`: 200 when the store answers a query, 503 otherwise.
pub async fn healthz(State(st): State<Arc<AppState>>) -> Response {
    match st.store.ping().await {
        Ok(()) => Json(json!({"status": "ok"})).into_response(),
        Err(e) => {
            tracing::warn!(error = ?e, "health check: store unavailable");
            let body = json!({"status": "unavailable", "error": e.to_string()});
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}

/// `GET /metrics`: Prometheus (OpenMetrics) text. The per-destination counts are kept current
/// by the engine (`watch_backlogs`), the consumers' lag is read here.
pub async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    crate::feed::measure_consumers(&st).await;
    if let Ok(bytes) = st.store.size_bytes().await {
        st.metrics.store.size(bytes);
    }
    let ct = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(CONTENT_TYPE, ct)], st.metrics.render()).into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such path; GET /openapi.json lists ivrhook's endpoints".into())
}

pub async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
    }
}

/// A panic in a handler becomes the contract's `108104`, never a dropped connection.
pub fn panic_answer(panic: Box<dyn Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %what, "a request handler panicked");
    answer(ResponseCode::OtherError, "internal error; retry later")
}
