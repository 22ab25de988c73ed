//! Calls as both faces list them: by their newest report, within a window of receive times,
//! and one call's reports; a report by its id.

use super::views::report_json;
use crate::{error::ApiError, state::AppState};
use ivrhook_protocol::CallId;
use ivrhook_store::StoredReport;
use serde_json::{json, Value};
use std::collections::HashSet;

/// Reports read at a time while walking down.
const SCAN: u32 = 500;

/// Receive times a listing keeps to, `[from, to)` in milliseconds, each bound optional.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Window {
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

/// Up to `limit` calls whose newest report (in `window`) is below `before`, newest first, and
/// the cursor of the next page (`None`: no more). Ids grow with receive times, so the walk
/// stops at the first report older than the window.
pub(crate) async fn recent(
    st: &AppState,
    app: Option<&str>,
    window: Window,
    before: i64,
    limit: usize,
) -> Result<(Vec<Value>, Option<i64>), ApiError> {
    let (mut calls, mut seen, mut cursor) = (Vec::new(), HashSet::new(), before);
    let mut exhausted = false;
    while calls.len() < limit && !exhausted {
        let rows = st.store.reports_before(cursor, app, SCAN).await?;
        exhausted = rows.len() < SCAN as usize;
        for r in rows {
            cursor = r.id;
            let at = r.received_at.timestamp_millis();
            if window.from_ms.is_some_and(|from| at < from) {
                exhausted = true;
                break;
            }
            if window.to_ms.is_some_and(|to| at >= to) {
                continue;
            }
            if !seen.insert((r.app_id.clone(), r.call_id.clone())) {
                continue;
            }
            if let Some(call) = summary(st, &r, before).await? {
                calls.push(call);
                if calls.len() == limit {
                    exhausted = false;
                    break;
                }
            }
        }
    }
    Ok((calls, (!exhausted).then_some(cursor)))
}

/// The call's summary under each app that reported it (the call search).
pub(crate) async fn of_call(st: &AppState, call: &CallId) -> Result<Vec<Value>, ApiError> {
    let reports = st.store.reports_for_call(call).await?;
    let mut newest: Vec<&StoredReport> = Vec::new();
    for r in reports.iter().rev() {
        if !newest.iter().any(|n| n.app_id == r.app_id) {
            newest.push(r);
        }
    }
    let calls = newest.into_iter().filter_map(|n| {
        let of_app = reports.iter().filter(|r| r.app_id == n.app_id);
        summarised(n, of_app.collect(), i64::MAX)
    });
    Ok(calls.collect())
}

/// The call of `newest` (its newest report below the cursor), or `None` when the call has a
/// newer report: an earlier page listed it.
async fn summary(
    st: &AppState,
    newest: &StoredReport,
    before: i64,
) -> Result<Option<Value>, ApiError> {
    let call = CallId::try_from(newest.call_id.as_str())
        .map_err(|e| ApiError::invalid("callId", e.to_string()))?;
    let reports = st.store.reports_for_call(&call).await?;
    let of_app = reports.iter().filter(|r| r.app_id == newest.app_id);
    Ok(summarised(newest, of_app.collect(), before))
}

/// The summary of the call of `newest` from its reports under that app, or `None` when one
/// is at or above `before`.
fn summarised(newest: &StoredReport, reports: Vec<&StoredReport>, before: i64) -> Option<Value> {
    if reports.iter().any(|r| r.id >= before) {
        return None;
    }
    let shown: Vec<Value> = reports.iter().map(|r| report_json(r)).collect();
    let keys: Vec<&Value> = (shown.iter())
        .flat_map(|r| r["commands"].as_array().into_iter().flatten())
        .map(|c| &c["keys"])
        .filter(|k| k.as_str().is_some_and(|k| !k.is_empty()))
        .collect();
    let last = shown.last().unwrap_or(&Value::Null);
    let outcome = match newest.status {
        Some(0) => json!("completed"),
        Some(1) => json!("hungup"),
        _ => Value::Null,
    };
    Some(json!({
        "callId": newest.call_id,
        "appId": newest.app_id,
        "reports": reports.len(),
        "firstReceivedAt": shown.first().map_or(Value::Null, |r| r["receivedAt"].clone()),
        "lastReceivedAt": last["receivedAt"],
        "outcome": outcome,
        "keys": keys,
        "recording": last["hangup"]["recordingUrl"],
    }))
}

/// The report whose id is `text`.
pub(crate) async fn stored(st: &AppState, text: &str) -> Result<StoredReport, ApiError> {
    let id: i64 = (text.parse().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::invalid("id", format!("{text:?} is not a report id")))?;
    let mut found = st.store.reports_after(id - 1, 1).await?;
    match found.pop() {
        Some(r) if r.id == id => Ok(r),
        _ => Err(ApiError::NotFound(format!("no report {id}"))),
    }
}
