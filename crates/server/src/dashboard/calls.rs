//! `GET /calls?call=&app=&from=&to=`: calls by callId (exact or prefix), app and receive time,
//! newest first, each with its outcome, keys pressed and number of reports.

use super::{
    frame::{given, offset, page, text, when, when_text},
    Failure,
};
use crate::{
    error::ApiError,
    queries::{
        calls::{of_call, recent as recent_calls, Window},
        paging,
    },
    state::AppState,
};
use axum::extract::{RawQuery, State};
use chrono::NaiveDateTime;
use ivrhook_protocol::CallId;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// Calls a search shows at most.
const SHOWN: usize = 100;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Search {
    call: Option<String>,
    app: Option<String>,
    from: Option<String>,
    to: Option<String>,
    state: Option<String>,
}

pub(crate) async fn search(
    State(st): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Result<Markup, Failure> {
    let q: Search = paging::query(query.as_deref())?;
    if given(&q.state) == Some("overdue") {
        return overdue(&st, given(&q.app)).await;
    }
    let window = Window {
        from_ms: local_time(&st, "from", given(&q.from))?,
        to_ms: local_time(&st, "to", given(&q.to))?,
    };
    let app = given(&q.app);
    let mut calls = match given(&q.call) {
        Some(prefix) => by_prefix(&st, prefix).await?,
        None => recent_calls(&st, app, window, i64::MAX, SHOWN).await?.0,
    };
    calls.retain(|c| app.is_none_or(|a| c["appId"] == a));
    let body = html! {
        (form(&q))
        (call_table(&st, &calls))
    };
    Ok(page("Calls", &st, true, body))
}

/// `GET /calls?state=overdue`: registered calls whose report did not come by its deadline,
/// oldest first.
async fn overdue(st: &AppState, app: Option<&str>) -> Result<Markup, Failure> {
    let (calls, _) = crate::queries::overdue::page(st, app, None, Some("100")).await?;
    let body = html! {
        p { "Registered calls whose report did not come by its deadline, oldest first. A
             report that comes later makes the call late, and it leaves this list." }
        @if calls.is_empty() { p.none { "No call is overdue." } }
        @else { div.scroll { table.overdue {
            thead { tr { th { "Call" } th { "App" } th { "Registered" } th { "Due" } th { "Overdue since" } } }
            tbody { @for d in &calls { tr {
                td { a href={ "/calls/" (d.call_id) } { (d.call_id) } }
                td { (d.app_id) }
                td { (when(st, d.registered_at_ms)) }
                td { (when(st, d.report_due_at_ms)) }
                td { @if let Some(at) = d.overdue_at_ms { (when(st, at)) } }
            } } }
        } } }
    };
    Ok(page("Overdue calls", st, true, body))
}

/// Calls whose id starts with `prefix` (an exact id is its own prefix).
async fn by_prefix(st: &AppState, prefix: &str) -> Result<Vec<Value>, ApiError> {
    let mut calls = Vec::new();
    for id in st.store.calls_with_prefix(prefix, SHOWN as u32).await? {
        let call = CallId::try_from(id).map_err(|e| ApiError::invalid("call", e.to_string()))?;
        calls.extend(of_call(st, &call).await?);
    }
    Ok(calls)
}

/// A `datetime-local` field's value, read in the receiver's offset (the one pages show).
pub(crate) fn local_time(
    st: &AppState,
    field: &str,
    v: Option<&str>,
) -> Result<Option<i64>, ApiError> {
    let Some(v) = v else { return Ok(None) };
    let naive = NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| {
            ApiError::invalid(field, format!("{v:?} is not a time like 2026-11-30T14:05"))
        })?;
    let at = naive.and_local_timezone(offset(st)).single();
    Ok(at.map(|t| t.timestamp_millis()))
}

fn form(q: &Search) -> Markup {
    let v = |f: &Option<String>| f.clone().unwrap_or_default();
    html! {
        form.filters method="get" action="/calls" role="search" {
            label { "Call id or its start" input name="call" value=(v(&q.call)) autocomplete="off"; }
            label { "App" input name="app" value=(v(&q.app)); }
            label { "Received from" input type="datetime-local" name="from" value=(v(&q.from)); }
            label { "to" input type="datetime-local" name="to" value=(v(&q.to)); }
            button #search type="submit" { "Search" }
        }
    }
}

/// Calls as a table, each linking to its page.
pub(crate) fn call_table(st: &AppState, calls: &[Value]) -> Markup {
    html! {
        @if calls.is_empty() { p { "No call matches." } }
        @else {
            div.scroll { table.calls {
                thead { tr {
                    th { "Call" } th { "App" } th { "Outcome" } th { "Keys" } th { "Reports" }
                    th { "Last report" }
                } }
                tbody { @for c in calls {
                    @let id = text(&c["callId"]);
                    tr {
                        td { a href={ "/calls/" (crate::queries::paging::path_segment(&id)) } { (id) } }
                        td { (text(&c["appId"])) }
                        td { (text(&c["outcome"])) }
                        td { (keys(c)) }
                        td { (c["reports"]) }
                        td { (when_text(st, &c["lastReceivedAt"])) }
                    }
                } }
            } }
        }
    }
}

/// The keys pressed in the call, in order.
fn keys(call: &Value) -> String {
    let keys = call["keys"].as_array().into_iter().flatten();
    keys.map(text).collect::<Vec<_>>().join(" ")
}
