//! `GET /v1/apps` and `GET /v1/destinations`: the configuration as loaded, with no credential
//! (URL passwords and query strings, secrets and header values are left out), and each
//! destination's state on this node.

use crate::queries::setup::{app_json, destination_json};
use crate::state::AppState;
use axum::{extract::State, Json};
use serde_json::{json, Value};
use std::sync::Arc;

#[utoipa::path(get, path = "/v1/apps", operation_id = "list_apps", tag = "configuration",
    description = "The configured apps, no credential shown.",
    responses((status = 200, description = "the apps", body = Object), (status = 401, description = "admin_token is set and the request does not carry it", body = crate::error::ErrorBody)))]
pub async fn apps(State(st): State<Arc<AppState>>) -> Json<Value> {
    let apps: Vec<Value> = st.config.apps.iter().map(|a| app_json(&st, a)).collect();
    Json(json!({"apps": apps, "acceptsAnyApp": st.accept_any_app}))
}

#[utoipa::path(get, path = "/v1/destinations", operation_id = "list_destinations", tag = "configuration",
    description = "The configured destinations, no credential shown, each with its state on this node.",
    responses((status = 200, description = "the destinations", body = Object), (status = 401, description = "admin_token is set and the request does not carry it", body = crate::error::ErrorBody)))]
pub async fn destinations(State(st): State<Arc<AppState>>) -> Json<Value> {
    let all: Vec<Value> = (st.config.destinations.iter())
        .map(|d| destination_json(&st, d))
        .collect();
    Json(json!({"destinations": all}))
}
