//! A call's recording as both faces show it: `kept`, `pending` (being fetched, or waiting to
//! be fetched again), `failed` (with the reason), `removed` (kept, then pruned by
//! `[retention] recordings`), or `off` (its app does not keep recordings, so only the
//! platform's link is known).

use super::views::time;
use crate::{error::ApiError, state::AppState};
use ivrhook_engine::recordings::RECORDINGS;
use ivrhook_protocol::{decode, forward::has_recording, DecodeOptions, Hangup};
use ivrhook_store::{
    outbox::{DeliveryRow, DeliveryState, Source},
    recordings::KeptRecording,
    StoredReport,
};
use serde_json::{json, Value};

/// A call's recording and where its fetch stands.
#[derive(Debug)]
pub(crate) struct CallRecording {
    /// The platform's link.
    pub link: String,
    /// `kept`, `pending`, `failed`, `removed` or `off`.
    pub state: &'static str,
    /// What is stored, once kept.
    pub kept: Option<KeptRecording>,
    /// The fetch, unless the app does not keep recordings (or retention removed it).
    pub fetch: Option<DeliveryRow>,
}

/// The call's newest recording: its newest fetch's, else its newest report's link.
pub(crate) async fn of_call(
    st: &AppState,
    call: &str,
    reports: &[StoredReport],
    forwards: &[DeliveryRow],
) -> Result<Option<CallRecording>, ApiError> {
    let kept = st.store.call_recordings(call).await?;
    let fetch = (forwards.iter())
        .filter(|d| d.destination == RECORDINGS)
        .max_by_key(|d| d.id);
    let report_of = |id: i64| reports.iter().find(|r| r.id == id);
    let source = match fetch.map(|d| d.source) {
        Some(Source::Report(id)) => report_of(id),
        _ => reports.iter().rev().find(|r| link(r).is_some()),
    };
    let Some((report, link)) = source.and_then(|r| Some((r, link(r)?))) else {
        return Ok(None);
    };
    let kept = (kept.into_iter().rev()).find(|k| k.app_id == report.app_id && k.link == link);
    let state = match (fetch.map(|d| d.state), &kept) {
        (_, Some(_)) => "kept",
        (Some(DeliveryState::Delivered), None) => "removed",
        (Some(DeliveryState::Pending), None) => "pending",
        (Some(DeliveryState::Dead), None) => "failed",
        (None, None) => "off",
    };
    Ok(Some(CallRecording {
        link,
        state,
        kept,
        fetch: fetch.cloned(),
    }))
}

/// Fetches of recordings in `state` (pending or dead), of `app` when given, a page after
/// `after`; each with its link, read from its report.
pub(crate) async fn fetches(
    st: &AppState,
    state: DeliveryState,
    app: Option<String>,
    page: &super::paging::Page,
) -> Result<(Vec<Value>, Option<i64>), ApiError> {
    let filter = ivrhook_store::outbox::DeliveryFilter {
        app_id: app,
        destination: Some(RECORDINGS.to_owned()),
        state: Some(state),
        after: page.after,
        limit: page.limit,
    };
    let rows = st.store.deliveries(filter).await?;
    let mut listed = Vec::with_capacity(rows.len());
    for d in &rows {
        let report = match d.source {
            Source::Report(id) => st.store.reports_after(id - 1, 1).await?,
            Source::Event(_) => Vec::new(),
        };
        let link = report.iter().find_map(link);
        let failed = state == DeliveryState::Dead;
        listed.push(json!({
            "callId": d.call_id, "appId": d.app_id, "link": link,
            "state": if failed { "failed" } else { "pending" },
            "attempts": d.attempts, "reason": d.last_error.as_ref().filter(|_| failed),
            "deliveryId": d.id, "since": time(d.created_at_ms),
        }));
    }
    let next = page.listing_next(rows.len(), rows.last().map(|d| d.id));
    Ok((listed, next))
}

/// The recording link of a stored report.
fn link(r: &StoredReport) -> Option<String> {
    let decoded = decode(&r.raw, &DecodeOptions::as_received(r.utc_offset.as_deref())).ok()?;
    if !has_recording(&decoded.report) {
        return None;
    }
    match decoded.report.hangup {
        Some(Hangup::Notice(n)) => n.recording_url,
        _ => None,
    }
}

/// `recording` in a call's timeline.
pub(crate) fn recording_json(r: &CallRecording, call: &str) -> Value {
    let k = r.kept.as_ref();
    let failed = r.state == "failed";
    json!({
        "link": r.link,
        "state": r.state,
        "size": k.map(|k| k.size),
        "sha256": k.map(|k| &k.sha256),
        "contentType": k.map(|k| &k.content_type),
        "keptAt": k.map_or(Value::Null, |k| time(k.kept_at_ms)),
        "key": k.map(|k| &k.key),
        "url": k.map(|_| format!("/v1/calls/{}/recording", super::paging::path_segment(call))),
        "attempts": r.fetch.as_ref().map(|d| d.attempts),
        "reason": r.fetch.as_ref().and_then(|d| d.last_error.as_ref()).filter(|_| failed),
        "deliveryId": r.fetch.as_ref().map(|d| d.id),
    })
}
