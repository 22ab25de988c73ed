//! The dashboard at `/`: pages ivrhook renders itself (maud), nothing fetched from elsewhere.
//! Without `admin_token` it is open, as the API is, and says so in a banner; with one it asks
//! for the token on a sign-in page (`signin`). Every action is a POST that `guard` checks.
//!
//! - `overview`: activity charts (`chart`) and each destination's state, updated live.
//! - `calls`: the call search; `call`: a call's page with its timeline (`timeline`).
//! - `deliveries`: listing, one delivery, retry (tables from `rows`); `bulk`: a
//!   destination's bulk retry.
//! - `setup`: destinations and apps as loaded.
//! - `analytics`: an app's IVR analytics, drawn by `drawn`.
//! - `frame`: the page around every page, times and shared bits.

mod analytics;
mod bulk;
mod call;
mod calls;
mod chart;
mod deliveries;
mod drawn;
mod frame;
mod guard;
mod overview;
mod rows;
mod setup;
mod timeline;

use crate::{error::ApiError, state::AppState};
use axum::{
    middleware,
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
pub(crate) use frame::page;
use std::sync::Arc;
use tower_http::compression::CompressionLayer;

use crate::paths::{
    below, ANALYTICS, CALLS, DELIVERIES, DESTINATIONS, OVERVIEW, REPORTS, SIGNIN, SIGNOUT,
};

pub(crate) fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(overview::overview))
        .route(&below(OVERVIEW, "live"), get(overview::live))
        .route(CALLS, get(calls::search))
        .route(&below(CALLS, "{call_id}"), get(call::call))
        .route(&below(REPORTS, "{id}/raw"), get(call::raw))
        .route(DELIVERIES, get(deliveries::list))
        .route(&below(DELIVERIES, "{id}"), get(deliveries::one))
        .route(&below(DELIVERIES, "{id}/retry"), post(deliveries::retry))
        .route(DESTINATIONS, get(setup::setup))
        .route(ANALYTICS, get(analytics::index))
        .route(&below(ANALYTICS, "{app_id}"), get(analytics::app))
        .route(
            &below(DESTINATIONS, "{name}/retry"),
            get(bulk::confirm).post(bulk::run),
        )
        .route(&below(DESTINATIONS, "{name}/pause"), post(setup::pause))
        .route(&below(DESTINATIONS, "{name}/resume"), post(setup::resume))
        .route_layer(middleware::from_fn_with_state(
            state,
            crate::signin::require_session,
        ))
        .route(
            SIGNIN,
            get(crate::signin::sign_in_form).post(crate::signin::sign_in),
        )
        .route(SIGNOUT, post(crate::signin::sign_out))
        .route_layer(middleware::from_fn(guard::same_origin))
        // A call's page with hundreds of reports and attempts is mostly repeated markup.
        .layer(CompressionLayer::new())
}

/// A dashboard page that could not be shown: the API's error, as a page.
pub(crate) struct Failure(ApiError);

impl<E: Into<ApiError>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.into())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, _) = self.0.status();
        let body = maud::html! {
            p role="alert" { (self.0.to_string()) }
            p { a href="/" { "Back to the overview" } }
        };
        (status, frame::bare("Not shown", body)).into_response()
    }
}
