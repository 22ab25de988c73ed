//! `GET /?range=1h|24h|7d|30d`: what the whole cluster did over the range (reports received
//! and delivery attempts per bar, answers by code, from the stored counts), each
//! destination's state, open breakers and the recent calls. `GET /overview/live` is the same
//! without the frame: the page's script swaps it in when the report stream says a report
//! arrived (after the counts' one-second flush), and every ten seconds for the deliveries.

use super::{
    calls::call_table,
    chart::{bars, Series},
    frame::page,
    setup::state_table,
    Failure,
};
use crate::{
    config::Scopes,
    error::ApiError,
    queries::{
        activity::{bars as activity, Bar, Range},
        calls::{recent as recent_calls, Window},
        paging,
    },
    state::AppState,
};
use axum::{
    extract::{RawQuery, State},
    Extension,
};
use maud::{html, Markup, PreEscaped};
use std::{collections::BTreeMap, sync::Arc};

/// Refetches the live part when a report arrives (at most twice a second) and every ten
/// seconds; a failed fetch leaves the page as it is.
const SCRIPT: &str = "(()=>{const l=document.getElementById('live');let t=0;\
const r=()=>{clearTimeout(t);t=setTimeout(()=>fetch('/overview/live'+location.search,{credentials:'same-origin'})\
.then(x=>x.ok?x.text():null).then(h=>{if(h!==null){l.innerHTML=h;l.dataset.updated=Date.now()}})\
.catch(()=>{}),1200)};\
if(window.EventSource){new EventSource('/v1/reports/stream').addEventListener('report',r)}\
setInterval(r,10000)})();";

#[derive(serde::Deserialize)]
struct Asked {
    range: Option<String>,
}

/// `?range=`, the last hour when absent.
fn range(query: Option<&str>) -> Result<Range, ApiError> {
    let asked: Asked = paging::query(query)?;
    match asked.range.as_deref().filter(|r| !r.is_empty()) {
        None => Ok(Range::default()),
        Some(r) => Range::parse(r).ok_or_else(|| ApiError::Invalid {
            field: "range".into(),
            reason: format!("{r:?} is not one of 1h, 24h, 7d, 30d"),
        }),
    }
}

pub(crate) async fn overview(
    State(st): State<Arc<AppState>>,
    Extension(scopes): Extension<Scopes>,
    RawQuery(query): RawQuery,
) -> Result<Markup, Failure> {
    let live = live_part(&st, scopes.operate, range(query.as_deref())?).await?;
    let body = html! {
        div #live aria-live="polite" { (live) }
        script { (PreEscaped(SCRIPT)) }
    };
    Ok(page("Overview", &st, true, body))
}

pub(crate) async fn live(
    State(st): State<Arc<AppState>>,
    Extension(scopes): Extension<Scopes>,
    RawQuery(query): RawQuery,
) -> Result<Markup, Failure> {
    Ok(live_part(&st, scopes.operate, range(query.as_deref())?).await?)
}

async fn live_part(st: &AppState, operate: bool, range: Range) -> Result<Markup, ApiError> {
    let now = chrono::Utc::now().timestamp_millis();
    let counted = activity(st, range, now).await?;
    let (calls, _) = recent_calls(st, None, Window::default(), i64::MAX, 20).await?;
    let count = |f: fn(&Bar) -> u64| counted.iter().map(f).collect::<Vec<u64>>();
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
            "Over " (range.words()) ", all nodes: "
            @for r in Range::ALL {
                @if r == range { strong { (r.as_str()) } } @else { a href={ "/?range=" (r.as_str()) } { (r.as_str()) } }
                " "
            }
        }
        div.charts {
            (bars("reports-chart", "Reports received", &reports, range))
            (bars("deliveries-chart", "Delivery attempts", &deliveries, range))
        }
        (answers(&counted, range))
        (overdue(st).await?)
        h2 { "Destinations" }
        (state_table(st, operate).await?)
        h2 { "Recent calls" }
        (call_table(st, &calls))
    })
}

/// How many registered calls are overdue, with the way to their list.
async fn overdue(st: &AppState) -> Result<Markup, ApiError> {
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

fn answers(bars: &[Bar], range: Range) -> Markup {
    let mut by_code: BTreeMap<&str, u64> = BTreeMap::new();
    for (code, n) in bars.iter().flat_map(|m| &m.answers) {
        *by_code.entry(code).or_default() += n;
    }
    html! {
        h2 { "Answers by code" }
        @if by_code.is_empty() { p { "No delivery attempt in " (range.words()) "." } }
        @else { table.answers {
            thead { tr { th { "Answer" } th { "Attempts" } } }
            tbody { @for (code, n) in &by_code { tr { td { (code) } td { (n) } } } }
        } }
    }
}
