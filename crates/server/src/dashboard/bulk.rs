//! A destination's bulk retry: `GET /destinations/{name}/retry?from=&to=` counts the dead and
//! pending deliveries created in the range and asks for confirmation; the confirmation POSTs
//! the same range, which sends them now.

use super::{
    calls::local_time,
    frame::{given, page, when},
    Failure,
};
use crate::{
    error::ApiError,
    queries::{
        paging,
        retries::{self, retry_between},
    },
    state::AppState,
};
use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State},
};
use ivrhook_store::outbox::{RetryRange, RetryStates};
use maud::{html, Markup};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Range {
    from: Option<String>,
    to: Option<String>,
}

/// The destination's dead and pending deliveries in the range: the fields as the page shows
/// times, or the confirmation's milliseconds.
fn range(st: &AppState, name: &str, r: &Range) -> Result<RetryRange, ApiError> {
    let read = |field, v: Option<&str>| match v.map(str::parse::<i64>) {
        Some(Ok(ms)) => Ok(Some(ms)),
        _ => local_time(st, field, v),
    };
    let from = read("from", given(&r.from))?;
    let to = read("to", given(&r.to))?;
    retries::range(st, name, (from, to), RetryStates::DeadAndPending)
}

fn destination(st: &AppState, name: &str) -> Result<(), ApiError> {
    let known = st
        .engine
        .as_ref()
        .is_some_and(|e| e.destination(name).is_some());
    known
        .then_some(())
        .ok_or_else(|| ApiError::NotFound(format!("destination: {name:?} is not configured")))
}

pub(crate) async fn confirm(
    State(st): State<Arc<AppState>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Markup, Failure> {
    destination(&st, &name)?;
    let q: Range = paging::query(query.as_deref())?;
    let range = range(&st, &name, &q)?;
    let (from, to) = (range.from_ms, range.to_ms);
    let n = st.store.count_range(&range).await?;
    let v = |f: &Option<String>| f.clone().unwrap_or_default();
    let body = html! {
        form.filters method="get" {
            label { "Created from" input type="datetime-local" name="from" value=(v(&q.from)); }
            label { "to" input type="datetime-local" name="to" value=(v(&q.to)); }
            button #count type="submit" { "Count" }
        }
        p.count role="status" {
            strong { (n) } " dead or pending deliveries to " (name) " were created between "
            (when(&st, from)) " and " (when(&st, to)) "."
        }
        @if n > 0 {
            form method="post" {
                input type="hidden" name="from" value=(from);
                input type="hidden" name="to" value=(to);
                button #confirm type="submit" { "Send these " (n) " deliveries now" }
            }
        }
    };
    Ok(page(
        &format!("Retry deliveries to {name}"),
        &st,
        true,
        body,
    ))
}

pub(crate) async fn run(
    State(st): State<Arc<AppState>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Markup, Failure> {
    destination(&st, &name)?;
    let form: Range = serde_urlencoded::from_bytes(&body)
        .map_err(|e| ApiError::invalid("body", format!("is not the confirmation form: {e}")))?;
    let n = retry_between(&st, &range(&st, &name, &form)?).await?;
    let body = html! {
        p.done role="status" { strong { (n) } " deliveries to " (name) " go now." }
        p { a href={ "/deliveries?destination=" (name) } { "See them" } }
    };
    Ok(page(
        &format!("Retry deliveries to {name}"),
        &st,
        true,
        body,
    ))
}
