//! `GET /v1/events/stream?after=&app=&call=`: the report feed as server-sent events, one
//! `report` event each, its `id` the report's cursor. A client that reconnects with
//! `Last-Event-ID` (or `after`) resumes after it; without either it starts with the next report
//! committed. `app` and `call` narrow the stream to one app or one call.

use crate::queries::{paging, views::report_json};
use crate::{error::ApiError, state::AppState};
use axum::{
    extract::{RawQuery, State},
    http::HeaderMap,
    response::sse::{Event, KeepAlive, Sse},
};
use futures_util::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use std::{convert::Infallible, sync::Arc, time::Duration};

/// How long one wait for new reports lasts before the stream looks again (keep-alives go out
/// meanwhile).
const WAIT: Duration = Duration::from_secs(30);
/// Reports read at a time.
const BATCH: u32 = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamQuery {
    after: Option<String>,
    app: Option<String>,
    call: Option<String>,
}

struct Cursor {
    st: Arc<AppState>,
    after: i64,
    app: Option<String>,
    call: Option<String>,
}

#[utoipa::path(get, path = "/v1/reports/stream", operation_id = "report_stream", tag = "reports",
    description = "New reports as server-sent events (event: report, id: the cursor).",
    params(("after" = Option<String>, Query, description = "start after this cursor"),
           ("app" = Option<String>, Query, description = "only this app's reports"),
           ("call" = Option<String>, Query, description = "only this call's reports"),
           ("Last-Event-ID" = Option<String>, Header, description = "resume after this event")),
    responses((status = 200, description = "the event stream", content_type = "text/event-stream", body = String),
              (status = 401, description = "admin_token is set and the request does not carry it", body = crate::error::ErrorBody), (status = 422, description = "a parameter or the body is not valid; the error names it", body = crate::error::ErrorBody)))]
pub async fn stream(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let q: StreamQuery = paging::query(query.as_deref())?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(q.after);
    let after = match resume.filter(|a| !a.is_empty()) {
        Some(a) => a.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::invalid("after", format!("{a:?} is not a cursor (a report's id)"))
        })?,
        None => st.store.latest_report_id().await?,
    };
    let cursor = Cursor {
        st,
        after,
        app: q.app.filter(|a| !a.is_empty()),
        call: q.call.filter(|c| !c.is_empty()),
    };
    let events = stream::unfold(cursor, next_events).flat_map(stream::iter);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// The next reports after the cursor, as events (none when the wait ran out).
async fn next_events(mut c: Cursor) -> Option<(Vec<Result<Event, Infallible>>, Cursor)> {
    if c.st.stopping.is_cancelled() {
        return None; // the server is stopping: the client reconnects to another node or later
    }
    let found = c.st.feed.wait_after(&c.st, c.after, BATCH, WAIT).await;
    let reports = match found {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = ?e, "event stream: the store failed; the client reconnects");
            return None;
        }
    };
    if let Some(last) = reports.last() {
        c.after = last.id;
    }
    let events = reports
        .iter()
        .filter(|r| c.app.as_ref().is_none_or(|a| *a == r.app_id))
        .filter(|r| c.call.as_ref().is_none_or(|call| *call == r.call_id))
        .map(|r| {
            Ok(Event::default()
                .event("report")
                .id(r.id.to_string())
                .data(report_json(r).to_string()))
        })
        .collect();
    Some((events, c))
}
