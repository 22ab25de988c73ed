//! `GET /v1/events?after=CURSOR&limit=N&wait=30s`: every received report, in the order
//! received. The cursor is opaque to clients; pass back `next` to get the following page. With
//! `wait`, an empty page is held until a report newer than the cursor is committed (on any
//! node sharing the database) or the wait runs out: a long poll. `GET /v1/reports/{id}`: one.

use crate::queries::{
    calls::stored,
    paging::{self, Page},
    views::report_json,
};
use crate::{error::ApiError, feed::MAX_WAIT, state::AppState};
use axum::{
    extract::{rejection::PathRejection, MatchedPath, Path, RawQuery, State},
    Json,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::{sync::Arc, time::Duration};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    after: Option<String>,
    limit: Option<String>,
    wait: Option<String>,
}

#[utoipa::path(get, path = "/v1/reports", operation_id = "reports_page", tag = "reports",
    description = "Every received report in the order received; with wait, an empty page is held until a report arrives (a long poll).",
    params(("after" = Option<String>, Query, description = "the previous page's next"),
           ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "reports a page (100)"),
           ("wait" = Option<String>, Query, description = "how long an empty page may be held, 0s to 5m")),
    responses((status = 200, description = "a page of reports", body = Object), crate::error::Refused))]
pub async fn page(
    State(st): State<Arc<AppState>>,
    path: MatchedPath,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let q: PageQuery = paging::query(query.as_deref())?;
    let page = Page::parse(q.after.as_deref(), q.limit.as_deref())?;
    let wait = parse_wait(q.wait.as_deref())?;
    let reports = st
        .feed
        .wait_after(&st, page.after, page.limit, wait)
        .await?;
    let next = page.next(reports.last().map(|r| r.id));
    let reports: Vec<Value> = reports.iter().map(report_json).collect();
    let mut page = json!({"next": next});
    page[feed_key(&path)] = json!(reports);
    Ok(Json(page))
}

/// The feed's items are received reports: `/v1/reports…` calls them so; the feed's first
/// paths, `/v1/events…`, keep the key `events`.
pub(crate) fn feed_key(path: &MatchedPath) -> &'static str {
    if path.as_str().ends_with("/events") {
        "events"
    } else {
        "reports"
    }
}

/// `GET /v1/reports/{id}`: one received report.
#[utoipa::path(get, path = "/v1/reports/{id}", operation_id = "get_report", tag = "reports",
    description = "One received report.",
    params(("id" = String, Path, description = "the report's id")),
    responses((status = 200, description = "the report", body = Object),
              (status = 404, description = "no such report", body = crate::error::ErrorBody), crate::error::Refused))]
pub async fn one(
    State(st): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(text) = id?;
    let r = stored(&st, &text).await?;
    Ok(Json(json!({"report": report_json(&r)})))
}

/// `wait`: how long an empty page may be held, `0s` (the default) to `5m`.
pub(crate) fn parse_wait(text: Option<&str>) -> Result<Duration, ApiError> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(Duration::ZERO);
    };
    let wait = crate::config::parse_duration(text).map_err(|e| ApiError::invalid("wait", e))?;
    if wait > MAX_WAIT {
        return Err(ApiError::invalid(
            "wait",
            format!("{text:?} is longer than the longest wait, {MAX_WAIT:?}"),
        ));
    }
    Ok(wait)
}
