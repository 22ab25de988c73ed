//! `POST /v1/apps/{appId}/events`: hand ivrhook a report to deliver to the app's callback URL.
//! 202 only after the event and its delivery are committed together (transactional outbox);
//! the engine sends it at once when it can (its `accept`).

use crate::queries::views::delivery_json;
use crate::{error::ApiError, state::AppState};
use axum::{
    body::Bytes,
    extract::{
        rejection::{BytesRejection, PathRejection},
        Path, State,
    },
    http::{HeaderMap, StatusCode},
    Json,
};
use ivrhook_engine::callback_name;
use ivrhook_protocol::{decode, AppId, CallId, DecodeOptions};
use ivrhook_store::outbox::{DeliveryRow, EventIds, NewEvent, Submitted};
use serde_json::{json, Value};
use std::sync::Arc;

const MAX_IDEMPOTENCY_KEY: usize = 256;

#[utoipa::path(post, path = "/v1/apps/{app_id}/events", operation_id = "submit_event", tag = "outbound events",
    description = "Hands a report to the sender: an outbound event, delivered to the app's callback_url.",
    params(("app_id" = String, Path, description = "an app with a callback_url"),
           ("Idempotency-Key" = Option<String>, Header, description = "a repeat returns the first event")),
    request_body(content = Object, description = "a multrpt report that follows the contract", content_type = "application/json"),
    responses((status = 202, description = "committed with its delivery", body = Object),
              (status = 200, description = "a repeat of an Idempotency-Key", body = Object),
              (status = 404, description = "the app has no callback_url", body = crate::error::ErrorBody), crate::error::Refused))]
pub async fn submit(
    State(st): State<Arc<AppState>>,
    app_id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (Path(app_id), body) = (app_id?, body?);
    let app = AppId::try_from(app_id).map_err(|e| ApiError::invalid("appId", e.to_string()))?;
    let destination = callback_name(&app);
    let engine = st
        .engine
        .as_ref()
        .filter(|e| e.destination(&destination).is_some())
        .ok_or_else(|| without_callback(&st, &app))?;
    // What goes out must meet the contract: strict, so nothing only tolerated is sent on.
    let options = DecodeOptions {
        strict: true,
        ..st.config.inbound.decode
    };
    let decoded = decode(&body, &options).map_err(|e| ApiError::invalid(e.field, e.reason))?;
    if decoded.report.app_id != app {
        return Err(ApiError::invalid(
            "appId",
            format!(
                "is {} in the body but {app} in the path",
                decoded.report.app_id
            ),
        ));
    }
    let idempotency_key = idempotency_key(&headers)?;
    let now = engine.clock().now_ms();
    let first_attempt_at_ms = engine.first_attempt_at(&destination, now);
    let event = NewEvent {
        destination,
        app_id: app.clone(),
        call_id: decoded.report.call_id,
        idempotency_key,
        body: body.to_vec(),
        created_at_ms: now,
        first_attempt_at_ms,
        lease: None,
    };
    let (status, ids) = match engine.submit(event).await? {
        Submitted::New(ids) | Submitted::Leased(ids) => (StatusCode::ACCEPTED, ids),
        Submitted::Existing(ids) => {
            same_body_as_first(&st, ids, &body).await?;
            (StatusCode::OK, ids)
        }
    };
    let body = json!({
        "eventId": ids.event_id,
        "deliveryId": ids.delivery_id,
        "duplicate": status == StatusCode::OK,
    });
    Ok((status, Json(body)))
}

/// A key names one event: reused with another body it is a mistake to report, not a repeat to
/// answer with the first event (as the IETF Idempotency-Key draft says: 422).
async fn same_body_as_first(st: &AppState, ids: EventIds, body: &[u8]) -> Result<(), ApiError> {
    let call = (st.store.delivery(ids.delivery_id).await?)
        .and_then(|(delivery, _)| CallId::try_from(delivery.call_id).ok());
    let first = match call {
        Some(call) => st.store.outbound_for_call(&call).await?,
        None => Vec::new(),
    };
    let first = first.iter().find(|o| o.delivery.id == ids.delivery_id);
    match first {
        Some(o) if o.body != body => Err(ApiError::invalid(
            "Idempotency-Key",
            format!(
                "was used for event {} with a different body; a new event needs a new key",
                ids.event_id
            ),
        )),
        _ => Ok(()),
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY)
        .ok_or_else(|| {
            ApiError::invalid(
                "Idempotency-Key",
                format!("must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"),
            )
        })?;
    Ok(Some(key.to_owned()))
}

pub(crate) fn delivery_response(d: &DeliveryRow) -> Json<Value> {
    Json(json!({"delivery": delivery_json(d)}))
}

/// Why an app's reports cannot be sent: it is not one of the configured apps, or it is one
/// without a `callback_url`.
pub(crate) fn without_callback(st: &AppState, app: &AppId) -> ApiError {
    ApiError::NotFound(match st.apps.contains_key(app) {
        true => format!(
            "appId: {app} has no callback_url configured: sending needs one in its [[apps]] entry"
        ),
        false => format!(
            "appId: {app} is not an app of this server: add it under [[apps]] with its callback_url"
        ),
    })
}
