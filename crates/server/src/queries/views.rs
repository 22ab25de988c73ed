//! How stored rows look in the API's JSON.

use chrono::SecondsFormat;
use ivrhook_protocol::{
    decode,
    forward::{forwarded, undecodable, Received},
    DecodeOptions,
};
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

/// A stored report in the one decoded form (the one forwards carry, `schemaVersion` 1),
/// decoded from its raw body as it was when received (leniently, with the offset it was read
/// with), then what the receiver recorded around it. Accepted bodies are always UTF-8, so
/// `raw` is the exact text.
pub(crate) fn report_json(r: &StoredReport) -> Value {
    let received = Received {
        id: r.id,
        at_ms: r.received_at.timestamp_millis(),
    };
    let options = DecodeOptions::as_received(r.utc_offset.as_deref());
    let decoded = match decode(&r.raw, &options) {
        Ok(d) => serde_json::to_value(forwarded(&d, received)).unwrap_or_default(),
        Err(e) => undecodable(received, &r.app_id, &r.event, &e.to_string(), &r.raw),
    };
    let mut obj = match decoded {
        Value::Object(m) => m,
        _ => Default::default(),
    };
    for (k, v) in [
        ("callId", json!(r.call_id)),
        ("peer", json!(r.peer)),
        ("duplicates", json!(r.duplicates)),
        ("raw", json!(String::from_utf8_lossy(&r.raw))),
    ] {
        obj.insert(k.to_owned(), v);
    }
    Value::Object(obj)
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
