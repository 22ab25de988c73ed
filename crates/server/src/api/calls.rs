//! Registering calls (for `require_known_calls`) and reading a call's timeline.

use crate::queries::{
    recordings::recording_json,
    views::{outbound_json, report_json, time},
    waiting::{deliveries_json, explained},
};
use crate::{error::ApiError, state::AppState};
use axum::{
    body::Bytes,
    extract::{
        rejection::{BytesRejection, PathRejection},
        Path, State,
    },
    http::StatusCode,
    Json,
};
use ivrhook_protocol::{AppId, CallId};
use serde_json::{json, Value};
use std::sync::Arc;

/// `POST /v1/apps/{appId}/calls` with `{"callId": "..."}`: 201 when new, 200 when known.
#[utoipa::path(post, path = "/v1/apps/{app_id}/calls", operation_id = "register_call", tag = "calls",
    description = "Registers a call the business placed, for apps with require_known_calls.",
    params(("app_id" = String, Path, description = "a configured app")),
    request_body(content = Object, description = "{\"callId\": \"…\", \"reportWithin\": \"15m\"}: reportWithin (optional, else the app's expect_report_within) makes the call overdue when no report came by then", content_type = "application/json"),
    responses((status = 201, description = "registered", body = Object),
              (status = 200, description = "already registered", body = Object),
              (status = 404, description = "the app is not configured", body = crate::error::ErrorBody), crate::error::Refused))]
pub async fn register(
    State(st): State<Arc<AppState>>,
    app_id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (Path(app_id), body) = (app_id?, body?);
    let app = AppId::try_from(app_id).map_err(|e| ApiError::invalid("appId", e.to_string()))?;
    if !st.apps.contains_key(&app) && !st.accept_any_app {
        return Err(ApiError::NotFound(format!(
            "appId: {app} is not a configured app"
        )));
    }
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid("body", format!("is not valid JSON: {e}")))?;
    let call = match body.get("callId") {
        Some(Value::String(s)) => {
            CallId::try_from(s.as_str()).map_err(|e| ApiError::invalid("callId", e.to_string()))?
        }
        Some(_) => return Err(ApiError::invalid("callId", "must be a string")),
        None => return Err(ApiError::invalid("callId", "required field is missing")),
    };
    let due = report_due(&st, &app, &body)?;
    let new = st.store.register_call(&app, &call, due).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let due = st.store.call_deadline(&app, &call).await?;
    let due = due.map_or(Value::Null, |d| time(d.report_due_at_ms));
    Ok((
        status,
        Json(json!({"appId": app, "callId": call, "new": new, "reportDueAt": due})),
    ))
}

/// When the call's report is due: `reportWithin` from now, else the app's
/// `expect_report_within`, else never.
fn report_due(st: &AppState, app: &AppId, body: &Value) -> Result<Option<i64>, ApiError> {
    let within = match body.get("reportWithin") {
        None | Some(Value::Null) => (st.config.apps.iter())
            .find(|a| a.id == *app)
            .and_then(|a| a.expect_report_within),
        Some(Value::String(text)) => Some(
            crate::config::report_within(text).map_err(|e| ApiError::invalid("reportWithin", e))?,
        ),
        Some(_) => {
            let reason = "must be a duration such as \"15m\"";
            return Err(ApiError::invalid("reportWithin", reason));
        }
    };
    let now = crate::queries::retries::now_ms(st);
    Ok(within.map(|d| now + d.as_millis() as i64))
}

/// The configured apps the call was registered with (`POST /v1/apps/{appId}/calls`).
async fn registered_with(st: &AppState, call: &CallId) -> Result<Vec<String>, ApiError> {
    let mut apps = Vec::new();
    for app in st.apps.keys() {
        if st.store.is_call_known(app, call).await? {
            apps.push(app.to_string());
        }
    }
    apps.sort();
    Ok(apps)
}

/// `GET /v1/calls/{callId}`: every report received for the call (and each one's forward
/// deliveries) and every report sent for it (with its delivery), oldest first.
#[utoipa::path(get, path = "/v1/calls/{call_id}", operation_id = "call_timeline", tag = "calls",
    description = "The call's timeline: registrations (with each report deadline and its state: waiting, due, on_time, overdue, late), reports received with their forwards, outbound events with their deliveries.",
    params(("call_id" = String, Path, description = "the callId")),
    responses((status = 200, description = "the timeline", body = Object),
              (status = 404, description = "neither registered nor reported", body = crate::error::ErrorBody), crate::error::Refused))]
pub async fn timeline(
    State(st): State<Arc<AppState>>,
    call_id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(call_id) = call_id?;
    let call = CallId::try_from(call_id).map_err(|e| ApiError::invalid("callId", e.to_string()))?;
    let reports = st.store.reports_for_call(&call).await?;
    let outbound = st.store.outbound_for_call(&call).await?;
    let registered = registered_with(&st, &call).await?;
    if reports.is_empty() && outbound.is_empty() && registered.is_empty() {
        return Err(ApiError::NotFound(format!(
            "callId: {call} was not registered, and no report has been received or sent for it"
        )));
    }
    let forwards = st.store.forwards_for_call(&call).await?;
    let recording = crate::queries::recordings::of_call(&st, call.as_str(), &reports, &forwards)
        .await?
        .map_or(Value::Null, |r| recording_json(&r, call.as_str()));
    let reports: Vec<Value> = reports.iter().map(report_json).collect();
    let mut shown = Vec::with_capacity(outbound.len());
    for o in &outbound {
        let mut event = outbound_json(o);
        event["delivery"] = explained(&st, &o.delivery).await?;
        shown.push(event);
    }
    let outbound = shown;
    let forwards = deliveries_json(&st, &forwards).await?;
    let now = crate::queries::retries::now_ms(&st);
    let mut deadlines = Vec::new();
    for app in st.apps.keys() {
        if let Some(d) = st.store.call_deadline(app, &call).await? {
            deadlines.push(crate::queries::overdue::deadline_json(&d, now));
        }
    }
    Ok(Json(json!({
        "callId": call,
        "registeredWith": registered,
        "reportDeadlines": deadlines,
        "reports": reports,
        "forwards": forwards,
        "outbound": outbound,
        "recording": recording,
    })))
}
