//! `GET /deliveries?destination=&app=&state=&after=`: deliveries with filters;
//! `GET /deliveries/{id}`: one with every attempt; `POST /deliveries/{id}/retry`: it goes now.

use super::{
    frame::{given, page, text},
    rows::{attempt_table, delivery_rows},
    Failure,
};
use crate::{
    config::Scopes,
    error::ApiError,
    queries::{paging, retries::retry_now},
    state::AppState,
};
use axum::{
    extract::{Path, RawQuery, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Extension,
};
use ivrhook_store::outbox::{DeliveryFilter, DeliveryState};
use maud::{html, Markup};
use serde::Deserialize;
use std::sync::Arc;

/// Deliveries a page shows.
const PAGE: u32 = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Filters {
    destination: Option<String>,
    app: Option<String>,
    state: Option<String>,
    after: Option<String>,
}

pub(crate) async fn list(
    State(st): State<Arc<AppState>>,
    Extension(scopes): Extension<Scopes>,
    RawQuery(query): RawQuery,
) -> Result<Markup, Failure> {
    let q: Filters = paging::query(query.as_deref())?;
    let page_query = paging::Page::parse(given(&q.after), Some(&PAGE.to_string()))?;
    let state = given(&q.state)
        .map(|s| {
            DeliveryState::parse(s).ok_or_else(|| {
                ApiError::invalid("state", format!("{s:?} must be pending, delivered or dead"))
            })
        })
        .transpose()?;
    let filter = DeliveryFilter {
        app_id: given(&q.app).map(str::to_owned),
        destination: given(&q.destination).map(str::to_owned),
        state,
        after: page_query.after,
        limit: PAGE,
    };
    let rows = st.store.deliveries(filter).await?;
    let next = page_query.listing_next(rows.len(), rows.last().map(|d| d.id));
    let body = html! {
        (filters(&st, &q))
        (delivery_rows(&st, &rows, false, scopes.operate).await?)
        @if let Some(next) = next {
            a rel="next" href={ "/deliveries?" (serde_urlencoded::to_string([
                ("destination", given(&q.destination).unwrap_or("")),
                ("app", given(&q.app).unwrap_or("")),
                ("state", given(&q.state).unwrap_or("")),
                ("after", &next.to_string())]).unwrap_or_default()) } { "Older deliveries →" }
        }
    };
    Ok(page("Deliveries", &st, true, body))
}

fn filters(st: &AppState, q: &Filters) -> Markup {
    let names: Vec<String> = (st.config.all_destinations().into_iter())
        .map(|d| d.name)
        .collect();
    let chosen = |v: &Option<String>, o: &str| given(v) == Some(o);
    html! {
        form.filters method="get" action="/deliveries" {
            label { "Destination" select name="destination" {
                option value="" { "any" }
                @for n in &names { option value=(n) selected[chosen(&q.destination, n)] { (n) } }
            } }
            label { "App" input name="app" value=(q.app.clone().unwrap_or_default()); }
            label { "State" select name="state" {
                option value="" { "any" }
                @for s in ["pending", "delivered", "dead"] {
                    option value=(s) selected[chosen(&q.state, s)] { (s) }
                }
            } }
            button #filter type="submit" { "Show" }
        }
    }
}

pub(crate) async fn one(
    State(st): State<Arc<AppState>>,
    Extension(scopes): Extension<Scopes>,
    Path(id): Path<String>,
) -> Result<Markup, Failure> {
    let id = parse_id(&id)?;
    let (d, attempts) = (st.store.delivery(id).await?)
        .ok_or_else(|| ApiError::NotFound(format!("no delivery {id}")))?;
    let shown = crate::queries::waiting::explained(&st, &d).await?;
    let body = html! {
        (delivery_rows(&st, std::slice::from_ref(&d), false, scopes.operate).await?)
        @if let Some(why) = shown.get("waiting") { p.waiting { "Waiting: " (text(&why["detail"])) } }
        h2 { "Attempts (" (attempts.len()) ")" }
        (attempt_table(&st, &attempts))
    };
    Ok(page(&format!("Delivery {id}"), &st, true, body))
}

fn parse_id(text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::invalid("id", format!("{text:?} is not a delivery id")))
}

/// `POST /deliveries/{id}/retry`, then back to the delivery's page.
pub(crate) async fn retry(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let id = parse_id(&id)?;
    retry_now(&st, id).await?;
    let to = format!("/deliveries/{id}");
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response())
}
