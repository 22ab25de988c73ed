//! The hang-up notice in `hungup`: JSON text inside a string as the table says, or (as some
//! senders do) a plain object. An empty string means there is none.

use super::fields::{kind, take_code, take_text_lenient, take_time, FieldPath, Sink};
use crate::{Hangup, HangupNotice};
use serde_json::{Map, Value};

pub(crate) fn decode(value: Value, sink: &mut Sink) -> Option<Hangup> {
    match value {
        Value::Null => {
            sink.form("hungup:empty");
            None
        }
        Value::String(s) if s.trim().is_empty() => {
            sink.form("hungup:empty");
            None
        }
        Value::String(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => {
                sink.form("hungup:text");
                Some(Hangup::Notice(notice(map, sink)))
            }
            _ => {
                sink.warn_kept("hungup", "text is not a JSON object", "kept undecoded");
                Some(Hangup::Undecodable(text))
            }
        },
        Value::Object(map) => {
            sink.form("hungup:object");
            Some(Hangup::Notice(notice(map, sink)))
        }
        other => {
            sink.warn_kept(
                "hungup",
                format!("must be JSON text or an object, got {}", kind(&other)),
                "kept undecoded",
            );
            Some(Hangup::Undecodable(other.to_string()))
        }
    }
}

fn notice(mut map: Map<String, Value>, sink: &mut Sink) -> HangupNotice {
    let mut text = |map: &mut Map<String, Value>, key: &str| {
        take_text_lenient(map, key, FieldPath::within("hungup", key), sink)
    };
    let event = text(&mut map, "event");
    let call_id = text(&mut map, "callId");
    let app_id = text(&mut map, "appId");
    let recording_url = text(&mut map, "fileName");
    let direction = take_code(&mut map, "dir", FieldPath::within("hungup", "dir"), sink);
    let reason = take_code(
        &mut map,
        "reason",
        FieldPath::within("hungup", "reason"),
        sink,
    );
    let time = take_time(
        &mut map,
        "timeStamp",
        FieldPath::within("hungup", "timeStamp"),
        sink,
    );
    HangupNotice {
        event,
        call_id,
        app_id,
        direction,
        recording_url,
        reason,
        time,
        extra: map,
    }
}
