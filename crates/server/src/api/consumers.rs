//! Named consumers of the report feed: each keeps its cursor on the server, so a business
//! system reads what it has not acknowledged, across its own restarts and ivrhook's.
//!
//! - `GET /v1/consumers`: every consumer and its cursor.
//! - `GET /v1/consumers/{name}/events?limit=&wait=`: the reports after its cursor (a long
//!   poll with `wait`); reading does not move the cursor.
//! - `POST /v1/consumers/{name}/ack` `{"cursor": "…"}`: everything up to `cursor` is handled.
//!   A cursor only moves forward: acknowledging an older one changes nothing.
//!
//! A name acknowledged for the first time starts at the beginning of the feed.

use super::events::parse_wait;
use crate::queries::{
    paging::{self, Page},
    views::{report_json, time},
};
use crate::{error::ApiError, state::AppState};
use axum::{
    body::Bytes,
    extract::{
        rejection::{BytesRejection, PathRejection},
        Path, RawQuery, State,
    },
    Json,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

fn consumer_name(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(name) = path?;
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if name.is_empty() || name.len() > 64 || !name.chars().all(plain) {
        return Err(ApiError::invalid(
            "name",
            format!("{name:?} must be 1 to 64 characters of A-Z, a-z, 0-9, _, - and ."),
        ));
    }
    Ok(name)
}

#[utoipa::path(get, path = "/v1/consumers", operation_id = "list_consumers", tag = "reports",
    description = "The named consumers of the feed and their cursors.",
    responses((status = 200, description = "the consumers", body = Object), (status = 401, description = "admin_token is set and the request does not carry it", body = crate::error::ErrorBody), (status = 503, description = "the store is unavailable", body = crate::error::ErrorBody)))]
pub async fn list(State(st): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let consumers: Vec<Value> = st
        .store
        .consumers()
        .await?
        .iter()
        .map(|c| json!({"name": c.name, "cursor": c.cursor.to_string(), "updatedAt": time(c.updated_at_ms)}))
        .collect();
    Ok(Json(json!({"consumers": consumers})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    limit: Option<String>,
    wait: Option<String>,
}

#[utoipa::path(get, path = "/v1/consumers/{name}/reports", operation_id = "consumer_reports", tag = "reports",
    description = "The reports a named consumer has not acknowledged.",
    params(("name" = String, Path, description = "the consumer's name"),
           ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "reports a page (100)"),
           ("wait" = Option<String>, Query, description = "how long an empty page may be held, 0s to 5m")),
    responses((status = 200, description = "a page of reports", body = Object), crate::error::Refused))]
pub async fn events(
    State(st): State<Arc<AppState>>,
    name: Result<Path<String>, PathRejection>,
    path: axum::extract::MatchedPath,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let name = consumer_name(name)?;
    let q: EventsQuery = paging::query(query.as_deref())?;
    let wait = parse_wait(q.wait.as_deref())?;
    let cursor = st.store.consumer_cursor(&name).await?.unwrap_or(0);
    let page = Page {
        after: cursor,
        ..Page::parse(None, q.limit.as_deref())?
    };
    let reports = st.feed.wait_after(&st, cursor, page.limit, wait).await?;
    let next = page.next(reports.last().map(|r| r.id));
    let reports: Vec<Value> = reports.iter().map(report_json).collect();
    let mut page = json!({
        "consumer": name,
        "cursor": cursor.to_string(),
        "next": next,
    });
    page[super::events::feed_key(&path)] = json!(reports);
    Ok(Json(page))
}

#[utoipa::path(post, path = "/v1/consumers/{name}/ack", operation_id = "ack_consumer", tag = "reports",
    description = "Moves a named consumer's cursor forward (never back).",
    params(("name" = String, Path, description = "the consumer's name")),
    request_body(content = Object, description = "{\"cursor\": \"…\"}", content_type = "application/json"),
    responses((status = 200, description = "the cursor now", body = Object), crate::error::Refused))]
pub async fn ack(
    State(st): State<Arc<AppState>>,
    name: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let (name, body) = (consumer_name(name)?, body?);
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid("body", format!("is not valid JSON: {e}")))?;
    let cursor = match body.get("cursor") {
        Some(Value::String(s)) => s.parse::<i64>().ok(),
        Some(Value::Number(n)) => n.as_i64(),
        None => return Err(ApiError::invalid("cursor", "required field is missing")),
        Some(_) => None,
    };
    let cursor = cursor.filter(|c| *c >= 0).ok_or_else(|| {
        ApiError::invalid(
            "cursor",
            "must be a cursor returned as next (a whole number)",
        )
    })?;
    let latest = st.store.latest_report_id().await?;
    if cursor > latest {
        return Err(ApiError::invalid(
            "cursor",
            format!("{cursor} is past the newest report ({latest})"),
        ));
    }
    let now = chrono::Utc::now().timestamp_millis();
    let stored = st.store.ack_consumer(&name, cursor, now).await?;
    Ok(Json(
        json!({"consumer": name, "cursor": stored.to_string()}),
    ))
}
