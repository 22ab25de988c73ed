//! Pausing and resuming a destination (`POST /v1/destinations/{name}/pause`, `…/resume`) or an
//! app's callback URL (`POST /v1/apps/{appId}/callback/pause`, `…/resume`): nothing is sent
//! to it while it is paused, on any node; its deliveries wait as pending.

use crate::{error::ApiError, queries::views::time, state::AppState};
use axum::{
    extract::{rejection::PathRejection, Path, State},
    Json,
};
use ivrhook_engine::{callback_name, Paused};
use ivrhook_protocol::AppId;
use serde_json::{json, Value};
use std::sync::Arc;

#[utoipa::path(post, path = "/v1/destinations/{name}/pause", operation_id = "pause_destination", tag = "deliveries",
    description = "Nothing is sent to the destination, on any node, until it is resumed; its deliveries wait as pending (waiting.reason paused), up to its max_backlog. Stored: it outlives restarts.",
    params(("name" = String, Path, description = "a destination's name")),
    responses((status = 200, description = "paused, since when", body = Object),
              (status = 404, description = "no such destination", body = crate::error::ErrorBody), crate::error::Refused))]
pub async fn pause_destination(
    State(st): State<Arc<AppState>>,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(name) = name?;
    switch(&st, &name, true, || not_configured(&name)).await
}

#[utoipa::path(post, path = "/v1/destinations/{name}/resume", operation_id = "resume_destination", tag = "deliveries",
    description = "The destination's pending deliveries go again, in order, at its max_in_flight.",
    params(("name" = String, Path, description = "a destination's name")),
    responses((status = 200, description = "resumed", body = Object),
              (status = 404, description = "no such destination", body = crate::error::ErrorBody), crate::error::Refused))]
pub async fn resume_destination(
    State(st): State<Arc<AppState>>,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(name) = name?;
    switch(&st, &name, false, || not_configured(&name)).await
}

#[utoipa::path(post, path = "/v1/apps/{app_id}/callback/pause", operation_id = "pause_callback", tag = "deliveries",
    description = "As pausing a destination, for the app's callback URL (the destination app:<appId>).",
    params(("app_id" = String, Path, description = "an app with a callback_url")),
    responses((status = 200, description = "paused, since when", body = Object),
              (status = 404, description = "the app has no callback_url", body = crate::error::ErrorBody), crate::error::Refused))]
pub async fn pause_callback(
    State(st): State<Arc<AppState>>,
    app: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    callback(&st, app?, true).await
}

#[utoipa::path(post, path = "/v1/apps/{app_id}/callback/resume", operation_id = "resume_callback", tag = "deliveries",
    description = "As resuming a destination, for the app's callback URL.",
    params(("app_id" = String, Path, description = "an app with a callback_url")),
    responses((status = 200, description = "resumed", body = Object),
              (status = 404, description = "the app has no callback_url", body = crate::error::ErrorBody), crate::error::Refused))]
pub async fn resume_callback(
    State(st): State<Arc<AppState>>,
    app: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    callback(&st, app?, false).await
}

async fn callback(
    st: &AppState,
    Path(app): Path<String>,
    pause: bool,
) -> Result<Json<Value>, ApiError> {
    let app = AppId::try_from(app).map_err(|e| ApiError::invalid("appId", e.to_string()))?;
    let name = callback_name(&app);
    switch(st, &name, pause, || {
        super::outbound::without_callback(st, &app)
    })
    .await
}

fn not_configured(name: &str) -> ApiError {
    ApiError::NotFound(format!("destination: {name:?} is not configured"))
}

/// `{"destination", "paused", "pausedSince"}` once the change is stored.
async fn switch(
    st: &AppState,
    name: &str,
    pause: bool,
    missing: impl FnOnce() -> ApiError,
) -> Result<Json<Value>, ApiError> {
    let now = crate::queries::pause::switch(st, name, pause).await?;
    let since = match now.ok_or_else(missing)? {
        Paused::Since(ms) => time(ms),
        Paused::No => Value::Null,
    };
    Ok(Json(
        json!({"destination": name, "paused": !since.is_null(), "pausedSince": since}),
    ))
}
