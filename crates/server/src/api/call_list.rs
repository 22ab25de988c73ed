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
    state: Option<String>,
}

#[utoipa::path(get, path = "/v1/calls", operation_id = "list_calls", tag = "calls",
    description = "Calls by their latest report, newest first; with state=overdue, the registered calls whose report did not come by its deadline (and has not come since), oldest first.",
    params(("app" = Option<String>, Query, description = "only this app's calls"),
           ("state" = Option<String>, Query, description = "overdue: the overdue calls"),
           ("after" = Option<String>, Query, description = "the previous page's next"),
           ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "calls a page (100)")),
    responses((status = 200, description = "a page of calls", body = Object), crate::error::Refused))]
pub async fn list(
    State(st): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let q: ListQuery = paging::query(query.as_deref())?;
    match q.state.as_deref() {
        None | Some("") => {}
        Some("overdue") => return overdue(&st, &q).await,
        Some(other) => {
            let reason = format!("{other:?} is not a state to list: use overdue, or leave it out");
            return Err(ApiError::invalid("state", reason));
        }
    }
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

async fn overdue(st: &AppState, q: &ListQuery) -> Result<Json<Value>, ApiError> {
    let (app, after, limit) = (q.app.as_deref(), q.after.as_deref(), q.limit.as_deref());
    let (calls, next) = crate::queries::overdue::page(st, app, after, limit).await?;
    let now = crate::queries::retries::now_ms(st);
    let calls: Vec<Value> = (calls.iter())
        .map(|d| crate::queries::overdue::deadline_json(d, now))
        .collect();
    Ok(Json(json!({"calls": calls, "next": next})))
}
