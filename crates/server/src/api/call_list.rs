//! `GET /v1/calls?app=&after=&limit=`: calls by their latest report, newest first, each with
//! its outcome, the keys pressed and how many reports it has. Calls are not a table: a page
//! walks the reports down from the cursor and lists each call at its newest report, so a call
//! appears on exactly one page however many reports it has.

use crate::queries::{
    calls::{recent, Window},
    paging,
};
use crate::{error::ApiError, state::AppState};
use axum::{
    extract::{RawQuery, State},
    Json,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    app: Option<String>,
    after: Option<String>,
    limit: Option<String>,
}

#[utoipa::path(get, path = "/v1/calls", operation_id = "list_calls", tag = "calls",
    description = "Calls by their latest report, newest first.",
    params(("app" = Option<String>, Query, description = "only this app's calls"),
           ("after" = Option<String>, Query, description = "the previous page's next"),
           ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "calls a page (100)")),
    responses((status = 200, description = "a page of calls", body = Object), crate::error::Refused))]
pub async fn list(
    State(st): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let q: ListQuery = paging::query(query.as_deref())?;
    let page = paging::Page::parse(q.after.as_deref(), q.limit.as_deref())?;
    let app = q.app.filter(|a| !a.is_empty());
    // The cursor is the last report a page read; the first page starts above every report.
    let before = if page.after == 0 {
        i64::MAX
    } else {
        page.after
    };
    let window = Window::default();
    let (calls, next) = recent(&st, app.as_deref(), window, before, page.limit as usize).await?;
    let next = next.map(|n| n.to_string());
    Ok(Json(json!({"calls": calls, "next": next})))
}
