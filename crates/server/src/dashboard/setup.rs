//! `GET /destinations`: destinations and apps as loaded (no credential: the API's masked
//! view), and each destination's state; `state_table` is also the overview's.

use super::{
    frame::{page, when},
    Failure,
};
use crate::{
    api::setup::{app_json, destination_json},
    error::ApiError,
    state::AppState,
};
use axum::extract::State;
use ivrhook_engine::breaker::BreakerState;
use ivrhook_store::outbox::DeliveryState;
use maud::{html, Markup};
use std::{collections::HashMap, sync::Arc};

pub(crate) async fn setup(State(st): State<Arc<AppState>>) -> Result<Markup, Failure> {
    let destinations = st.config.all_destinations();
    let body = html! {
        h2 { "State" }
        (state_table(&st).await?)
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

/// Each destination now: requests in flight, breaker, backlog, lag (the age of its oldest
/// pending delivery) and dead letters, with the way to retry them.
pub(crate) async fn state_table(st: &AppState) -> Result<Markup, ApiError> {
    let all = st.config.all_destinations();
    let mut counts: HashMap<(String, DeliveryState), (i64, i64)> = HashMap::new();
    for c in st.store.delivery_counts().await? {
        counts.insert((c.destination, c.state), (c.count, c.oldest_created_at_ms));
    }
    let now = chrono::Utc::now().timestamp_millis();
    let lives: Vec<_> = (all.iter())
        .map(|d| st.engine.as_ref().and_then(|e| e.live(&d.name)))
        .collect();
    let open: Vec<(&str, Option<i64>)> = (all.iter().zip(&lives))
        .filter_map(|(d, l)| {
            l.as_ref()
                .filter(|l| l.breaker != BreakerState::Closed)
                .map(|l| (d.name.as_str(), l.reopens_at_ms))
        })
        .collect();
    Ok(html! {
        @if all.is_empty() { p { "No destination is configured." } }
        @else {
            div.scroll { table.destinations {
                thead { tr { th { "Destination" } th { "In flight" } th { "Breaker" } th { "Backlog" } th { "Lag" } th { "Dead" } } }
                tbody { @for (d, live) in all.iter().zip(&lives) {
                    @let pending = counts.get(&(d.name.clone(), DeliveryState::Pending));
                    @let dead = counts.get(&(d.name.clone(), DeliveryState::Dead)).map_or(0, |c| c.0);
                    tr {
                        td { (d.name) }
                        td { (live.as_ref().map_or(0, |l| l.active)) " of " (d.max_in_flight) }
                        td { (live.as_ref().map_or("—".into(), |l| breaker_name(l.breaker))) }
                        td { (live.as_ref().map_or(pending.map_or(0, |p| p.0), |l| l.backlog)) }
                        td { (pending.map_or("0 s".into(), |p| format!("{:.1} s", (now - p.1).max(0) as f64 / 1000.0))) }
                        td { (dead) @if dead > 0 { " " a href={ "/destinations/" (d.name) "/retry" } { "retry…" } } }
                    }
                } }
            } }
            @if open.is_empty() { p.breakers { "No circuit breaker is open." } }
            @else { ul.breakers { @for (name, until) in &open {
                li { "Circuit breaker open: " strong { (name) } @if let Some(at) = until { " until " (when(st, *at)) } }
            } } }
        }
    })
}

fn breaker_name(b: BreakerState) -> String {
    match b {
        BreakerState::Closed => "closed".into(),
        BreakerState::Open => "open".into(),
        BreakerState::HalfOpen => "half-open".into(),
    }
}
