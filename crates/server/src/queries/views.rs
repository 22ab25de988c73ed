//! How stored rows look in the API's JSON.

use chrono::SecondsFormat;
use ivrhook_protocol::{decode, DecodeOptions};
use ivrhook_store::{
    outbox::{AttemptRow, DeliveryRow, DeliveryState, OutboundRow, Source},
    StoredReport,
};
use serde_json::{json, Value};

pub(crate) fn time(ms: i64) -> Value {
    chrono::DateTime::from_timestamp_millis(ms).map_or(Value::Null, |t| {
        json!(t.to_rfc3339_opts(SecondsFormat::Millis, true))
    })
}

/// A stored report: the decoded form's fields, then what the receiver recorded around it.
/// Accepted bodies are always UTF-8, so `raw` is the exact text.
pub(crate) fn report_json(r: &StoredReport) -> Value {
    let decoded = r.decoded.clone().unwrap_or_else(|| derive(r));
    let mut obj = match decoded {
        Value::Object(m) => m,
        _ => Default::default(),
    };
    for (k, v) in [
        ("id", json!(r.id)),
        ("appId", json!(r.app_id)),
        ("callId", json!(r.call_id)),
        ("receivedAt", time(r.received_at.timestamp_millis())),
        ("peer", json!(r.peer)),
        ("warnings", r.warnings.clone()),
        ("duplicates", json!(r.duplicates)),
        ("raw", json!(String::from_utf8_lossy(&r.raw))),
    ] {
        obj.insert(k.to_owned(), v);
    }
    Value::Object(obj)
}

/// The decoded form of a row that keeps only its raw body: the lenient decoder with the offset
/// the row was received with. A body this decoder no longer reads (it accepted it once) says
/// why instead of hiding the row.
fn derive(r: &StoredReport) -> Value {
    let options = DecodeOptions::as_received(r.utc_offset.as_deref());
    match decode(&r.raw, &options) {
        Ok(d) => serde_json::from_str(&d.stored_json()).unwrap_or_default(),
        Err(e) => json!({"decodeError": e.to_string()}),
    }
}

pub(crate) fn delivery_json(d: &DeliveryRow) -> Value {
    let pending = d.state == DeliveryState::Pending;
    let (event_id, report_id) = match d.source {
        Source::Event(id) => (Some(id), None),
        Source::Report(id) => (None, Some(id)),
    };
    json!({
        "id": d.id,
        "destination": d.destination,
        "eventId": event_id,
        "reportId": report_id,
        "appId": d.app_id,
        "callId": d.call_id,
        "state": d.state.as_str(),
        "attempts": d.attempts,
        "nextAttemptAt": if pending { time(d.next_attempt_at_ms) } else { Value::Null },
        "createdAt": time(d.created_at_ms),
        "updatedAt": time(d.updated_at_ms),
        "finishedAt": d.finished_at_ms.map_or(Value::Null, time),
        "lastError": d.last_error,
    })
}

pub(crate) fn attempt_json(a: &AttemptRow) -> Value {
    json!({
        "id": a.id,
        "startedAt": time(a.started_at_ms),
        "durationMs": a.duration_ms,
        "httpStatus": a.http_status,
        "code": a.code,
        "bodyExcerpt": a.body_excerpt,
        "error": a.error,
        "warning": a.warning,
        "outcome": a.outcome,
    })
}

/// An event sent for a call: its body (as JSON when it parses) and its delivery.
pub(crate) fn outbound_json(o: &OutboundRow) -> Value {
    let body = serde_json::from_slice::<Value>(&o.body)
        .unwrap_or_else(|_| json!(String::from_utf8_lossy(&o.body)));
    let event_id = match o.delivery.source {
        Source::Event(id) => Some(id),
        Source::Report(_) => None,
    };
    json!({"eventId": event_id, "body": body, "delivery": delivery_json(&o.delivery)})
}
