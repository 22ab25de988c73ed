//! `GET /v1/recordings?state=failed` (or `pending`): recordings not kept, and why.

use crate::queries::{
    paging::{self, Page},
    recordings::fetches,
};
use crate::{error::ApiError, state::AppState};
use axum::{
    extract::{RawQuery, State},
    Json,
};
use ivrhook_store::outbox::DeliveryState;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
    app: Option<String>,
    after: Option<String>,
    limit: Option<String>,
}

/// The recordings whose fetch failed (or is still pending), oldest first.
#[utoipa::path(get, path = "/v1/recordings", operation_id = "list_recordings", tag = "calls",
    description = "Recordings not kept: failed (with the reason; POST /v1/deliveries/{deliveryId}/retry fetches one again) or pending (being fetched, or waiting to be fetched again). A kept one is on its call: GET /v1/calls/{callId}.",
    params(("state" = String, Query, description = "failed or pending"),
           ("app" = Option<String>, Query, description = "only this app's"),
           ("after" = Option<String>, Query, description = "the previous page's next"),
           ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "recordings a page (100)")),
    responses((status = 200, description = "a page of recordings", body = Object), crate::error::Refused))]
pub async fn list(
    State(st): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let q: ListQuery = paging::query(query.as_deref())?;
    let page = Page::parse(q.after.as_deref(), q.limit.as_deref())?;
    let state = match q.state.as_deref() {
        Some("failed") => DeliveryState::Dead,
        Some("pending") => DeliveryState::Pending,
        None | Some("") => return Err(ApiError::invalid("state", "required: failed or pending")),
        Some(s) => {
            return Err(ApiError::invalid(
                "state",
                format!("{s:?} must be failed or pending"),
            ))
        }
    };
    let app = q.app.filter(|a| !a.is_empty());
    let (recordings, next) = fetches(&st, state, app, &page).await?;
    Ok(Json(
        json!({"recordings": recordings, "next": next.map(|n| n.to_string())}),
    ))
}
