//! `GET /calls/{callId}`: the call's timeline drawn to scale, its commands in order, the
//! hang-up and recording, each report received and each delivery of the call with its
//! attempts. `GET /reports/{id}/raw`: a report's body as the platform sent it.

use super::{
    frame::{clock, page, text, when_text},
    rows::delivery_rows,
    timeline::{self, seconds, HungUp, Step},
    Failure,
};
use crate::{
    config::Scopes,
    error::ApiError,
    queries::{
        calls::stored,
        paging::path_segment,
        recordings::{of_call, CallRecording},
        views::report_json,
    },
    state::AppState,
};
use axum::{
    extract::{Path, State},
    http::header,
    response::IntoResponse,
    Extension,
};
use ivrhook_protocol::CallId;
use maud::{html, Markup};
use serde_json::Value;
use std::sync::Arc;

pub(crate) async fn call(
    State(st): State<Arc<AppState>>,
    Extension(scopes): Extension<Scopes>,
    Path(call_id): Path<String>,
) -> Result<Markup, Failure> {
    let call = CallId::try_from(call_id).map_err(|e| ApiError::invalid("callId", e.to_string()))?;
    let stored = st.store.reports_for_call(&call).await?;
    let reports: Vec<Value> = stored.iter().map(report_json).collect();
    let mut deliveries = st.store.forwards_for_call(&call).await?;
    let recording = of_call(&st, call.as_str(), &stored, &deliveries).await?;
    let outbound = st.store.outbound_for_call(&call).await?;
    deliveries.extend(outbound.into_iter().map(|o| o.delivery));
    if reports.is_empty() && deliveries.is_empty() {
        let why = format!("callId: no report has been received or sent for {call}");
        return Err(ApiError::NotFound(why).into());
    }
    deliveries.sort_by_key(|d| d.id);
    let (steps, hangup) = timeline::read(&reports);
    let body = html! {
        section aria-labelledby="timeline" {
            h2 #timeline { "IVR timeline" }
            @if let Some(svg) = timeline::svg(&steps, hangup.as_ref()) { div.scroll { (svg) } }
            (command_list(&st, &steps))
            (hangup_part(hangup.as_ref()))
            @if let Some(r) = &recording { (recording_part(&st, &call, r, scopes.operate)) }
        }
        section aria-labelledby="reports" {
            h2 #reports { "Reports received (" (reports.len()) ")" }
            @for r in &reports { (report_part(&st, r)) }
        }
        section aria-labelledby="deliveries" {
            h2 #deliveries { "Deliveries (" (deliveries.len()) ")" }
            (delivery_rows(&st, &deliveries, true, scopes.operate).await?)
        }
    };
    Ok(page(&format!("Call {call}"), &st, true, body))
}

fn command_list(st: &AppState, steps: &[Step]) -> Markup {
    html! {
        ol.commands {
            @for s in steps {
                li {
                    strong { (s.kind) } ", "
                    @if let Some(ms) = s.start_ms { "started " (clock(st, ms)) ", " }
                    "lasted " (seconds(s.duration_ms)) ", code " (s.code)
                    @if let Some(k) = &s.keys { ", keys pressed: " kbd { (k) } }
                }
            }
        }
    }
}

fn hangup_part(h: Option<&HungUp>) -> Markup {
    let Some(h) = h else {
        return html! { p.outcome { "Not hung up before the command list ended." } };
    };
    html! { p.hangup { "Hung up, reason " strong { (h.reason) } "." } }
}

/// The recording: the kept copy played from ivrhook, or where its fetch stands (a failed one
/// with its reason and, for an operator, a retry); the platform's link in every case.
fn recording_part(st: &AppState, call: &CallId, r: &CallRecording, operate: bool) -> Markup {
    let link = r.link.as_str();
    let platform = (link.starts_with("https://") || link.starts_with("http://")).then_some(link);
    let fetch = r.fetch.as_ref();
    html! {
        div.recording data-state=(r.state) {
            p { "Recording " strong.state { (r.state) } ": " a.recording href=(link) rel="noreferrer" { (link) } }
            @if let Some(k) = &r.kept {
                audio.kept controls preload="metadata" src={ "/v1/calls/" (path_segment(call.as_str())) "/recording" } {}
                p.kept {
                    (k.size) " bytes, " (k.content_type) ", kept " (clock(st, k.kept_at_ms))
                    br; "SHA-256 " code.sha256 { (k.sha256) }
                }
            } @else if r.state == "off" {
                @if let Some(url) = platform { audio controls preload="none" src=(url) {} }
                p { "Not kept: this app does not keep recordings (recordings = true)." }
            } @else if let Some(d) = fetch {
                p.fetch {
                    (d.attempts) " attempt(s)"
                    @if let Some(e) = d.last_error.as_ref().filter(|_| r.state == "failed") { ": " span.reason { (e) } }
                }
                @if r.state == "failed" && operate {
                    form method="post" action={ "/deliveries/" (d.id) "/retry" } {
                        button.retry type="submit" aria-label="Fetch the recording again" { "Fetch again" }
                    }
                }
            }
        }
    }
}

fn report_part(st: &AppState, r: &Value) -> Markup {
    let mut decoded = r.clone();
    if let Some(m) = decoded.as_object_mut() {
        m.remove("raw");
    }
    let warnings = r["warnings"].as_array().cloned().unwrap_or_default();
    let decoded = serde_json::to_string(&decoded).unwrap_or_default();
    html! {
        details.report {
            summary {
                "Report " (r["reportId"]) ", received " (when_text(st, &r["receivedAt"]))
                ", status " (text(&r["status"]))
                @if !warnings.is_empty() { ", " (warnings.len()) " warning(s)" }
            }
            @if !warnings.is_empty() { ul { @for w in &warnings { li { (text(w)) } } } }
            pre { (decoded) }
            p { a href={ "/reports/" (r["reportId"]) "/raw" } { "The body as received" } }
        }
    }
}

/// The body exactly as received, as text (accepted bodies are UTF-8), never run as a page.
pub(crate) async fn raw(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, Failure> {
    let r = stored(&st, &id).await?;
    let headers = [
        (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    Ok((headers, r.raw))
}
