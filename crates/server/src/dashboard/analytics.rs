//! `GET /analytics`: the apps; `GET /analytics/{appId}?range=24h|7d|30d` (or `from`/`to`
//! dates): an app's IVR over the span: calls and their outcomes, the funnel of the most common
//! command sequences, the prompts by hang-up share, the keys entered at each DTMF prompt.

use super::{
    drawn::{funnel, keys},
    frame::{offset, page},
    Failure,
};
use crate::{
    error::ApiError,
    queries::{
        analytics::{figures, Figures, Prompt, Span},
        paging::{self, path_segment},
        retries::now_ms,
    },
    state::AppState,
};
use axum::extract::{rejection::PathRejection, Path, RawQuery, State};
use maud::{html, Markup};
use std::sync::Arc;

/// The spans offered, by `?range=`.
const RANGES: [(&str, i64); 3] = [("24h", 1), ("7d", 7), ("30d", 30)];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Asked {
    range: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

pub(crate) async fn index(State(st): State<Arc<AppState>>) -> Markup {
    let mut apps: Vec<&str> = st.apps.keys().map(|a| a.as_str()).collect();
    apps.sort_unstable();
    let body = html! {
        @if apps.is_empty() { p { "No app is configured ([[apps]])." } }
        ul { @for app in &apps { li { a href={ "/analytics/" (path_segment(app)) } { (app) } } } }
    };
    page("Analytics", &st, true, body)
}

pub(crate) async fn app(
    State(st): State<Arc<AppState>>,
    app_id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Markup, Failure> {
    let Path(app) = app_id?;
    let asked: Asked = paging::query(query.as_deref())?;
    let (span, range) = span(&st, &asked)?;
    let f = figures(&st, &app, &span).await?;
    let body = html! {
        (span_line(&st, &app, &span, range))
        (summary(&f))
        h2 { "Funnel" }
        p { "The most common command sequences: how many calls reached each step." }
        @if f.funnel.is_empty() { p { "No call in this span." } }
        @for (i, path) in f.funnel.iter().enumerate() { (funnel(i, path)) }
        h2 { "Prompts, by hang-up share" }
        (prompts(&f))
        h2 { "Keys entered" }
        @for p in f.prompts.iter().filter(|p| p.dtmf.is_some()) { (keys(p)) }
    };
    Ok(page(&format!("Analytics · {app}"), &st, true, body))
}

/// The span asked for: `from`/`to` when given, else `range` (7 days when absent).
fn span<'a>(st: &AppState, asked: &'a Asked) -> Result<(Span, Option<&'a str>), ApiError> {
    let offset = offset(st);
    let now = now_ms(st);
    if asked.from.is_some() || asked.to.is_some() {
        let span = Span::parse(asked.from.as_deref(), asked.to.as_deref(), now, offset)?;
        return Ok((span, None));
    }
    let range = asked
        .range
        .as_deref()
        .filter(|r| !r.is_empty())
        .unwrap_or("7d");
    let Some((name, days)) = RANGES.into_iter().find(|(name, _)| *name == range) else {
        let reason = format!("{range:?} is not one of 24h, 7d, 30d");
        return Err(ApiError::invalid("range", reason));
    };
    let from = chrono::DateTime::from_timestamp_millis(now - days * 86_400_000)
        .unwrap_or_default()
        .to_rfc3339();
    Ok((Span::parse(Some(&from), None, now, offset)?, Some(name)))
}

fn span_line(st: &AppState, app: &str, span: &Span, range: Option<&str>) -> Markup {
    let shown = |t: chrono::DateTime<chrono::FixedOffset>| t.format("%Y-%m-%d %H:%M").to_string();
    let query = format!(
        "from={}&to={}",
        path_segment(&span.from().to_rfc3339()),
        path_segment(&span.to().to_rfc3339())
    );
    let app = path_segment(app);
    html! {
        p #span {
            (shown(span.from())) " to " (shown(span.to())) " (UTC" (offset(st).to_string()) "): "
            @for (name, _) in RANGES {
                @if Some(name) == range { strong { (name) } } @else { a href={ "?range=" (name) } { (name) } }
                " "
            }
            "· " a href={ "/v1/apps/" (app) "/analytics.csv?" (query) } { "CSV" }
            " · " a href={ "/v1/apps/" (app) "/analytics?" (query) } { "JSON" }
        }
    }
}

fn summary(f: &Figures) -> Markup {
    html! {
        ul.figures #summary {
            li { strong { (f.calls) } "calls" }
            li { strong { (percent(f.completed_share)) } "completed" }
            li { strong { (percent(f.hung_up_share)) } "hung up early" }
            li { strong { (duration(f.length_median_ms)) } "median length" }
            li { strong { (duration(f.length_p90_ms)) } "p90 length" }
        }
    }
}

/// Every prompt, the highest hang-up share first.
fn prompts(f: &Figures) -> Markup {
    let mut sorted: Vec<_> = f.prompts.iter().collect();
    let share = |p: &&Prompt| p.hung_up_share.unwrap_or(0.0);
    sorted.sort_by(|a, b| {
        share(b)
            .total_cmp(&share(a))
            .then(a.position.cmp(&b.position))
    });
    html! {
        div.scroll { table.prompts {
            thead { tr { th { "#" } th { "Prompt" } th { "Played" } th { "Hung up during" }
                         th { "Listened to the end" } th { "Median listened" } } }
            tbody { @for p in sorted { tr {
                td { (p.position) } td { (shown_prompt(&p.prompt)) } td { (p.played) }
                td { (percent(p.hung_up_share)) } td { (percent(p.to_end_share)) }
                td { (duration(p.listened_median_ms)) }
            } } }
        } }
    }
}

/// A prompt's name as shown: `(none)` for a command without data.
pub(super) fn shown_prompt(prompt: &str) -> &str {
    match prompt {
        "" => "(none)",
        p => p,
    }
}

pub(super) fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "—".to_owned(), |s| format!("{:.1} %", s * 100.0))
}

fn duration(ms: Option<i64>) -> String {
    match ms {
        None => "—".to_owned(),
        Some(ms) if ms < 60_000 => format!("{} s", ms / 1000),
        Some(ms) => format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000),
    }
}
