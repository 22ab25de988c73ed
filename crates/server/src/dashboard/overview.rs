//! `GET /`: the last hour on this node (reports received and deliveries made per minute,
//! answers by code), each destination's state, open breakers and the recent calls.
//! `GET /overview/live` is the same without the frame: the page's script swaps it in when the
//! report stream says a report arrived, and every ten seconds for the deliveries.

use super::{
    calls::call_table,
    chart::{bars, Series},
    frame::{page, when},
    setup::state_table,
    Failure,
};
use crate::{
    config::Scopes,
    queries::calls::{recent as recent_calls, Window},
    state::AppState,
};
use axum::{extract::State, Extension};
use ivrhook_engine::activity::Minute;
use maud::{html, Markup, PreEscaped};
use std::{collections::BTreeMap, sync::Arc};

/// Refetches the live part when a report arrives (at most twice a second) and every ten
/// seconds; a failed fetch leaves the page as it is.
const SCRIPT: &str = "(()=>{const l=document.getElementById('live');let t=0;\
const r=()=>{clearTimeout(t);t=setTimeout(()=>fetch('/overview/live',{credentials:'same-origin'})\
.then(x=>x.ok?x.text():null).then(h=>{if(h!==null){l.innerHTML=h;l.dataset.updated=Date.now()}})\
.catch(()=>{}),500)};\
if(window.EventSource){new EventSource('/v1/reports/stream').addEventListener('report',r)}\
setInterval(r,10000)})();";

pub(crate) async fn overview(
    State(st): State<Arc<AppState>>,
    Extension(scopes): Extension<Scopes>,
) -> Result<Markup, Failure> {
    let live = live_part(&st, scopes.operate).await?;
    let body = html! {
        div #live aria-live="polite" { (live) }
        script { (PreEscaped(SCRIPT)) }
    };
    Ok(page("Overview", &st, true, body))
}

pub(crate) async fn live(
    State(st): State<Arc<AppState>>,
    Extension(scopes): Extension<Scopes>,
) -> Result<Markup, Failure> {
    Ok(live_part(&st, scopes.operate).await?)
}

async fn live_part(st: &AppState, operate: bool) -> Result<Markup, crate::error::ApiError> {
    let now = chrono::Utc::now().timestamp_millis();
    let activity = st.metrics.engine.activity();
    let hour = activity.last_hour(now);
    let since = activity.since_ms();
    let (calls, _) = recent_calls(st, None, Window::default(), i64::MAX, 20).await?;
    let count = |f: fn(&Minute) -> u64| hour.iter().map(f).collect::<Vec<u64>>();
    let reports = [Series {
        name: "reports",
        colour: "#457b9d",
        counts: count(|m| m.reports),
    }];
    let deliveries = [
        Series {
            name: "delivered",
            colour: "#2a9d8f",
            counts: count(|m| m.delivered),
        },
        Series {
            name: "retried",
            colour: "#e9c46a",
            counts: count(|m| m.retried),
        },
        Series {
            name: "dead",
            colour: "#c1121f",
            counts: count(|m| m.dead),
        },
    ];
    Ok(html! {
        p #counting {
            "The last hour on this node"
            @if now - since < 3_600_000 {
                ", counted since it started at " (when(st, since))
            }
            "."
        }
        div.charts {
            (bars("reports-chart", "Reports received", &reports))
            (bars("deliveries-chart", "Delivery attempts", &deliveries))
        }
        (answers(&hour))
        (overdue(st).await?)
        h2 { "Destinations" }
        (state_table(st, operate).await?)
        h2 { "Recent calls" }
        (call_table(st, &calls))
    })
}

/// How many registered calls are overdue, with the way to their list.
async fn overdue(st: &AppState) -> Result<Markup, crate::error::ApiError> {
    let n: u64 = st
        .store
        .overdue_counts()
        .await?
        .iter()
        .map(|(_, n)| n)
        .sum();
    Ok(html! {
        p #overdue {
            a href="/calls?state=overdue" { strong { (n) } " overdue calls" }
            ": registered calls whose report did not come by its deadline."
        }
    })
}

fn answers(hour: &[Minute]) -> Markup {
    let mut by_code: BTreeMap<&str, u64> = BTreeMap::new();
    for (code, n) in hour.iter().flat_map(|m| &m.answers) {
        *by_code.entry(code).or_default() += n;
    }
    html! {
        h2 { "Answers by code" }
        @if by_code.is_empty() { p { "No delivery attempt in the last hour." } }
        @else { table.answers {
            thead { tr { th { "Answer" } th { "Attempts" } } }
            tbody { @for (code, n) in &by_code { tr { td { (code) } td { (n) } } } }
        } }
    }
}
