//! `GET /v1/events?after=CURSOR&limit=N`: every received report, in the order received.
//! The cursor is opaque to clients; pass back `next` to get the following page (an empty
//! page means there is nothing newer yet).

use super::{paging::Page, views::report_json};
use crate::{error::ApiError, state::AppState};
use axum::{
    extract::{RawQuery, State},
    Json,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

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
    let page = Page::parse(q.after.as_deref(), q.limit.as_deref())?;
    let reports = st.store.reports_after(page.after, page.limit).await?;
    let next = page.next(reports.last().map(|r| r.id));
    let events: Vec<Value> = reports.iter().map(report_json).collect();
    Ok(Json(json!({"events": events, "next": next})))
}
