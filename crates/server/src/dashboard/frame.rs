//! The frame around every page (navigation, the open-dashboard banner, the style sheet) and
//! the small pieces pages share: times in the receiver's offset, JSON text.

use crate::state::AppState;
use chrono::{DateTime, FixedOffset, SecondsFormat};
use maud::{html, Markup, DOCTYPE};
use serde_json::Value;

/// Dark text on light ground, links underlined: readable contrast (WCAG AA) without a theme.
const CSS: &str = "body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fff}\
header{background:#1d3557;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem;justify-content:space-between}\
nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem}header a{color:#fff}.signout{margin:0}\
main{max-width:72rem;margin:0 auto;padding:1rem}h1{overflow-wrap:anywhere}\
.banner{flex-basis:100%;background:#fff3cd;color:#5c4400;margin:0 -1rem -.5rem;padding:.5rem 1rem}\
table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}\
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}\
.scroll{overflow-x:auto}pre{white-space:pre-wrap;word-break:break-all;background:#f4f4f4;padding:.5rem}\
form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin-bottom:1rem}\
form.filters label{display:flex;flex-direction:column;font-size:.85rem}\
input,select,button{font:inherit;padding:.25rem .4rem}button{cursor:pointer}form.inline{display:inline}\
:focus-visible{outline:3px solid #e76f51;outline-offset:2px}\
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:1rem}\
svg{max-width:100%;height:auto}.dead{color:#9b1c1c}.delivered{color:#1b5e20}\
.figures{display:flex;flex-wrap:wrap;gap:1.5rem;padding:0;list-style:none}\
.figures strong{display:block;font-size:1.6rem}figure{margin:0 0 1rem}.funnel svg,.keys svg{width:600px}";

/// A page in the dashboard's frame; `signed_in` shows the sign-out button (with a token).
pub(crate) fn page(title: &str, st: &AppState, signed_in: bool, body: Markup) -> Markup {
    let open = st.access.is_open();
    let signout = signed_in && !open;
    let banner = match (open, st.config.api_open) {
        (_, true) => Some(
            "api_open = true: ivrhook asks no token for this dashboard or the API; whatever is \
             in front of it must check who comes in.",
        ),
        (true, false) => Some(
            "This dashboard is open to anyone who can reach it: no admin_token or api_tokens \
             are set (allowed on loopback only).",
        ),
        (false, false) => None,
    };
    frame(title, banner, signout, body)
}

/// A page without the server's state (an error page): navigation, no banner.
pub(crate) fn bare(title: &str, body: Markup) -> Markup {
    frame(title, None, false, body)
}

fn frame(title: &str, banner: Option<&str>, signout: bool, body: Markup) -> Markup {
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
                    nav aria-label="Main" {
                        a href="/" { "Overview" } a href="/calls" { "Calls" }
                        a href="/deliveries" { "Deliveries" } a href="/destinations" { "Destinations" }
                        a href="/analytics" { "Analytics" }
                        a href="/docs" { "API" }
                    }
                    @if signout {
                        form.signout method="post" action="/signout" { button type="submit" { "Sign out" } }
                    }
                    @if let Some(text) = banner { p.banner role="status" { (text) } }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// The receiver's `inbound.utc_offset`: the platform's clock, in which people read times.
pub(crate) fn offset(st: &AppState) -> FixedOffset {
    st.config.inbound.decode.offset.fixed()
}

/// A time in the receiver's offset, with UTC on hover.
pub(crate) fn when(st: &AppState, ms: i64) -> Markup {
    shown(st, ms, "%Y-%m-%d %H:%M:%S")
}

/// A time of day to the millisecond (a command's start), as `when`.
pub(crate) fn clock(st: &AppState, ms: i64) -> Markup {
    shown(st, ms, "%H:%M:%S%.3f")
}

fn shown(st: &AppState, ms: i64, format: &str) -> Markup {
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => {
            let utc = t.to_rfc3339_opts(SecondsFormat::Millis, true);
            let local = t.with_timezone(&offset(st)).format(format);
            html! { time datetime=(utc) title={ "UTC " (utc) } { (local) } }
        }
        None => html! { "—" },
    }
}

/// A time the API's JSON gives as RFC 3339 (`null`: a dash).
pub(crate) fn when_text(st: &AppState, v: &Value) -> Markup {
    let ms = (v.as_str())
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_millis());
    ms.map_or_else(|| html! { "—" }, |ms| when(st, ms))
}

/// A JSON value as a person reads it: a string bare, `null` as a dash, anything else as JSON.
pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".to_owned(),
        other => other.to_string(),
    }
}

/// A query or form string, `None` when absent or empty (an empty form field).
pub(crate) fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
