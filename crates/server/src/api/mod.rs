//! The `/v1` API: calls a business registers, call timelines, paging through reports, and the
//! sender's events and deliveries.
//! With `admin_token` set, every request needs `Authorization: Bearer <token>`.
//!
//! - `calls`: `POST /v1/apps/{appId}/calls`, `GET /v1/calls/{callId}`; `call_list`:
//!   `GET /v1/calls`; `recording`: `GET /v1/calls/{callId}/recording`; `recordings`: `GET /v1/recordings`.
//! - `events`, `stream`, `consumers`: the report feed (pages and long polls, server-sent
//!   events, named consumers).
//! - `outbound`: `POST /v1/apps/{appId}/events` (the sender's intake).
//! - `deliveries`: listing, inspecting and retrying deliveries; `pause`: pausing and
//!   resuming a destination.
//! - `analytics`: `GET /v1/apps/{appId}/analytics` and `…/analytics.csv`.
//! - `setup`: `GET /v1/apps`, `GET /v1/destinations`: the configuration, no credential.
//! - `paging`, `views`: query parameters and JSON shapes shared by the above.
//! - `request_id`: `x-request-id` on every response and in its log lines.
//! - `openapi`: `/openapi.json` and `/docs`, from the handlers' annotations.
//! - `waiting`: why a pending delivery is not being sent now.

mod analytics;
mod call_list;
mod calls;
mod consumers;
pub(crate) mod deliveries;
pub(crate) mod events;
mod openapi;
mod outbound;
mod pause;
mod recording;
mod recordings;
mod request_id;
pub(crate) mod setup;
mod stream;

use crate::{
    access::allows,
    error::ApiError,
    signin::{bearer, signed_in},
    state::AppState,
};
use axum::{
    extract::{Request, State},
    http::Method,
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
    Router,
};
use std::sync::Arc;

#[cfg(test)]
pub(crate) use openapi::document;
pub use openapi::{docs, openapi_json};

pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/apps/{app_id}/calls", post(calls::register))
        .route("/v1/apps/{app_id}/analytics", get(analytics::json))
        .route("/v1/apps/{app_id}/analytics.csv", get(analytics::csv))
        .route("/v1/calls", get(call_list::list))
        .route("/v1/calls/{call_id}", get(calls::timeline))
        .route("/v1/calls/{call_id}/recording", get(recording::recording))
        .route("/v1/recordings", get(recordings::list))
        .route("/v1/reports", get(events::page))
        .route("/v1/reports/stream", get(stream::stream))
        .route("/v1/events", get(events::page))
        .route("/v1/events/stream", get(stream::stream))
        .route("/v1/consumers", get(consumers::list))
        .route("/v1/consumers/{name}/reports", get(consumers::events))
        .route("/v1/consumers/{name}/events", get(consumers::events))
        .route("/v1/consumers/{name}/ack", post(consumers::ack))
        .route("/v1/apps/{app_id}/events", post(outbound::submit))
        .route(
            "/v1/apps/{app_id}/deliveries/retry",
            post(deliveries::retry_app_range),
        )
        .route(
            "/v1/destinations/{name}/deliveries/retry",
            post(deliveries::retry_destination_range),
        )
        .route(
            "/v1/destinations/{name}/pause",
            post(pause::pause_destination),
        )
        .route(
            "/v1/destinations/{name}/resume",
            post(pause::resume_destination),
        )
        .route(
            "/v1/apps/{app_id}/callback/pause",
            post(pause::pause_callback),
        )
        .route(
            "/v1/apps/{app_id}/callback/resume",
            post(pause::resume_callback),
        )
        .route("/v1/deliveries", get(deliveries::list))
        .route("/v1/deliveries/{id}", get(deliveries::get))
        .route("/v1/deliveries/{id}/retry", post(deliveries::retry))
        .route("/v1/apps", get(setup::apps))
        .route("/v1/destinations", get(setup::destinations))
        .route("/v1/reports/{id}", get(events::one))
        .route_layer(middleware::from_fn_with_state(state, require_token))
        .route_layer(middleware::from_fn(request_id::request_id))
}

pub(crate) async fn require_token(
    State(st): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if st.access.is_open() {
        return Ok(next.run(req).await);
    }
    // A signed-in dashboard reads the API (its report stream) with its session cookie; the
    // cookie is SameSite=Strict, and a read changes nothing.
    let reads = matches!(*req.method(), Method::GET | Method::HEAD);
    let session = signed_in(&st, req.headers()).filter(|_| reads);
    let scopes = bearer(&st, req.headers())
        .or(session)
        .ok_or(ApiError::Unauthorized)?;
    if !allows(scopes, req.method()) {
        return Err(ApiError::Forbidden(format!(
            "this token's scopes do not allow {}: it needs operate",
            req.method()
        )));
    }
    Ok(next.run(req).await)
}
