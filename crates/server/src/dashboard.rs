//! The dashboard at `/`: pages ivrhook renders itself (maud), nothing fetched from elsewhere.
//! Without `admin_token` it is open, as the API is, and says so in a banner; with one it asks
//! for the token on a sign-in page (`signin`).

use crate::{api::recent_calls, error::ApiError, state::AppState};
use axum::{
    extract::State,
    middleware,
    routing::{get, post},
    Router,
};
use maud::{html, Markup, DOCTYPE};
use serde_json::Value;
use std::sync::Arc;

const CSS: &str = "body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1a1a1a}\
header{background:#1d3557;color:#fff;padding:.5rem 1rem;display:flex;justify-content:space-between}\
header a{color:#fff;margin-right:1rem}.signout{margin:0}\
main{max-width:72rem;margin:0 auto;padding:1rem}\
.banner{background:#fff3cd;color:#5c4400;margin:0;padding:.5rem 1rem}\
table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}\
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd}\
.scroll{overflow-x:auto}";

pub(crate) fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(overview))
        .route_layer(middleware::from_fn_with_state(
            state,
            crate::signin::require_session,
        ))
        .route("/signin", post(crate::signin::sign_in))
        .route("/signout", post(crate::signin::sign_out))
}

/// `GET /`: each destination's state now, and the most recent calls.
pub async fn overview(State(st): State<Arc<AppState>>) -> Result<Markup, ApiError> {
    let (calls, _) = recent_calls(&st, None, i64::MAX, 20).await?;
    let body = html! {
        h2 { "Destinations" }
        (destinations(&st))
        h2 { "Recent calls" }
        (call_table(&calls))
    };
    Ok(page("Overview", &st, true, body))
}

/// A page in the dashboard's frame; `signed_in` shows the sign-out button (with a token).
pub(crate) fn page(title: &str, st: &AppState, signed_in: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · ivrhook" }
                style { (CSS) }
            }
            body {
                header {
                    nav aria-label="Main" { a href="/" { "Overview" } a href="/docs" { "API" } }
                    @if signed_in && st.config.admin_token.is_some() {
                        form.signout method="post" action="/signout" { button type="submit" { "Sign out" } }
                    }
                }
                @if st.config.admin_token.is_none() {
                    p.banner role="status" {
                        "This dashboard is open to anyone who can reach it: no admin_token is set."
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

fn destinations(st: &AppState) -> Markup {
    let all = st.config.all_destinations();
    html! {
        @if all.is_empty() { p { "No destination is configured." } }
        @else {
            div.scroll { table {
                thead { tr { th { "Destination" } th { "In flight" } th { "Breaker" } th { "Backlog" } } }
                tbody { @for d in &all {
                    @let live = st.engine.as_ref().and_then(|e| e.live(&d.name));
                    tr {
                        td { (d.name) }
                        td { (live.as_ref().map_or(0, |l| l.active)) " of " (d.max_in_flight) }
                        td { (live.as_ref().map_or("—".into(), |l| format!("{:?}", l.breaker).to_lowercase())) }
                        td { (live.as_ref().map_or(0, |l| l.backlog)) }
                    }
                } }
            } }
        }
    }
}

fn call_table(calls: &[Value]) -> Markup {
    let text = |v: &Value| {
        v.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string())
    };
    html! {
        @if calls.is_empty() { p { "No report has been received yet." } }
        @else {
            div.scroll { table {
                thead { tr { th { "Call" } th { "App" } th { "Outcome" } th { "Keys" } th { "Reports" } th { "Last report" } } }
                tbody { @for c in calls {
                    tr {
                        td { (text(&c["callId"])) }
                        td { (text(&c["appId"])) }
                        td { (c["outcome"].as_str().unwrap_or("—")) }
                        td { (c["keys"].as_array().map(|k| k.iter().map(text).collect::<Vec<_>>().join(" ")).unwrap_or_default()) }
                        td { (c["reports"]) }
                        td { (text(&c["lastReceivedAt"])) }
                    }
                } }
            } }
        }
    }
}
