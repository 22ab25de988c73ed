//! `GET /v1/events?after=CURSOR&limit=N`: every received report, in the order received.
//! The cursor is opaque to clients; pass back `next` to get the following page (an empty
//! page means there is nothing newer yet).

use super::report_json;
use crate::{error::ApiError, state::AppState};
use axum::{
    extract::{RawQuery, State},
    Json,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

#[derive(Deserialize)]
struct PageQuery {
    after: Option<String>,
    limit: Option<String>,
}

pub async fn page(
    State(st): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let q: PageQuery = serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::invalid("query", e.to_string()))?;
    let after = match q.after.as_deref() {
        None | Some("") => 0,
        Some(s) => s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::invalid("after", format!("{s:?} is not a cursor returned as next"))
        })?,
    };
    let limit = match q.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::invalid(
                    "limit",
                    format!("{s:?} must be a whole number from 1 to {MAX_LIMIT}"),
                )
            })?,
    };
    let reports = st.store.reports_after(after, limit).await?;
    // Always a cursor, so a client can poll for what arrives later from where it stopped.
    let next = reports.last().map_or(after, |r| r.id).to_string();
    let events: Vec<Value> = reports.iter().map(report_json).collect();
    Ok(Json(json!({"events": events, "next": next})))
}
