//! `GET /destinations`: destinations and apps as loaded (no credential: the API's masked
//! view), and each destination's state; `state_table` is also the overview's.

use super::{
    frame::{page, when},
    Failure,
};
use crate::{
    config::Scopes,
    error::ApiError,
    queries::setup::{app_json, destination_json},
    state::AppState,
};
use axum::{
    extract::{Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Extension,
};
use ivrhook_engine::{breaker::BreakerState, Live};
use ivrhook_store::outbox::DeliveryState;
use maud::{html, Markup};
use std::{collections::HashMap, sync::Arc};

pub(crate) async fn setup(
    State(st): State<Arc<AppState>>,
    Extension(scopes): Extension<Scopes>,
) -> Result<Markup, Failure> {
    let destinations = st.config.all_destinations();
    let body = html! {
        h2 { "State" }
        (state_table(&st, scopes.operate).await?)
        h2 { "Destinations as configured" }
        @for d in &destinations {
            details.config { summary { (d.name) } pre { (pretty(&destination_json(&st, d))) } }
        }
        h2 { "Apps" }
        @if st.accept_any_app { p { "No [[apps]] are configured: any appId is accepted (loopback only)." } }
        @for a in &st.config.apps {
            details.config { summary { (a.id) } pre { (pretty(&app_json(&st, a))) } }
        }
    };
    Ok(page("Destinations and apps", &st, true, body))
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// One destination's row: what the engine sees now and what the store counts.
struct Row {
    name: String,
    max_in_flight: u32,
    live: Option<Live>,
    /// Pending deliveries and when the oldest was created.
    pending: Option<(i64, i64)>,
    dead: i64,
}

/// Each destination now: requests in flight, breaker, backlog, lag (the age of its oldest
/// pending delivery) and dead letters, with the way to retry them; then the open breakers.
pub(crate) async fn state_table(st: &AppState, operate: bool) -> Result<Markup, ApiError> {
    let mut counts: HashMap<(String, DeliveryState), (i64, i64)> = HashMap::new();
    for c in st.store.delivery_counts().await? {
        counts.insert((c.destination, c.state), (c.count, c.oldest_created_at_ms));
    }
    let rows: Vec<Row> = (st.config.all_destinations().into_iter())
        .map(|d| Row {
            live: st.engine.as_ref().and_then(|e| e.live(&d.name)),
            pending: counts
                .get(&(d.name.clone(), DeliveryState::Pending))
                .copied(),
            dead: counts
                .get(&(d.name.clone(), DeliveryState::Dead))
                .map_or(0, |c| c.0),
            max_in_flight: d.max_in_flight,
            name: d.name,
        })
        .collect();
    let now = chrono::Utc::now().timestamp_millis();
    Ok(html! {
        @if rows.is_empty() { p { "No destination is configured." } }
        @else {
            div.scroll { table.destinations {
                thead { tr {
                    th { "Destination" } th { "In flight" } th { "Breaker" } th { "Backlog" }
                    th { "Lag" } th { "Dead" }
                    @if operate { th { "Sending" } }
                } }
                tbody { @for r in &rows { (row(r, now, operate)) } }
            } }
            (breakers(st, &rows))
        }
    })
}

fn row(r: &Row, now: i64, operate: bool) -> Markup {
    let live = r.live.as_ref();
    let backlog = live.map_or(r.pending.map_or(0, |p| p.0), |l| l.backlog);
    let lag_s = r
        .pending
        .map_or(0.0, |p| (now - p.1).max(0) as f64 / 1000.0);
    html! {
        tr {
            td { (r.name) }
            td { (live.map_or(0, |l| l.active)) " of " (r.max_in_flight) }
            td { (live.map_or("—", |l| breaker_name(l.breaker))) }
            td { (backlog) }
            td { (format!("{lag_s:.1} s")) }
            td {
                (r.dead)
                @if operate && r.dead > 0 { " " a href={ "/destinations/" (r.name) "/retry" } { "retry…" } }
            }
            @if operate { td { (switch(&r.name, live.and_then(|l| l.paused_since_ms).is_some())) } }
        }
    }
}

/// A paused destination's resume button, or a running one's pause button.
fn switch(name: &str, paused: bool) -> Markup {
    let (action, label) = match paused {
        true => ("resume", "Resume"),
        false => ("pause", "Pause"),
    };
    html! {
        @if paused { "paused " }
        form.inline method="post" action={ "/destinations/" (name) "/" (action) } {
            button.switch type="submit" { (label) }
        }
    }
}

/// `POST /destinations/{name}/pause`, then back to the page.
pub(crate) async fn pause(
    State(st): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response, Failure> {
    switched(&st, &name, true).await
}

/// `POST /destinations/{name}/resume`, then back to the page.
pub(crate) async fn resume(
    State(st): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response, Failure> {
    switched(&st, &name, false).await
}

async fn switched(st: &AppState, name: &str, pause: bool) -> Result<Response, Failure> {
    crate::queries::pause::switch(st, name, pause)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("destination: {name:?} is not configured")))?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/destinations")]).into_response())
}

fn breakers(st: &AppState, rows: &[Row]) -> Markup {
    let open: Vec<(&str, Option<i64>)> = (rows.iter())
        .filter_map(|r| {
            let l = r
                .live
                .as_ref()
                .filter(|l| l.breaker != BreakerState::Closed)?;
            Some((r.name.as_str(), l.reopens_at_ms))
        })
        .collect();
    html! {
        @if open.is_empty() { p.breakers { "No circuit breaker is open." } }
        @else { ul.breakers { @for (name, until) in &open {
            li {
                "Circuit breaker open: " strong { (name) }
                @if let Some(at) = until { " until " (when(st, *at)) }
            }
        } } }
    }
}

fn breaker_name(b: BreakerState) -> &'static str {
    match b {
        BreakerState::Closed => "closed",
        BreakerState::Open => "open",
        BreakerState::HalfOpen => "half-open",
    }
}
