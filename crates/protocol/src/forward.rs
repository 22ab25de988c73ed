//! The decoded form a received report is forwarded in (`body = "decoded"`): a stable,
//! documented JSON shape, versioned by `schemaVersion`, that the business's systems read
//! without knowing the platform's many spellings. A field is never renamed or removed within a
//! version; new fields may be added. The README documents each one.

use crate::{CallStatus, Command, Decoded, Entry, Hangup, Report, Timestamp};
use serde_json::{json, Value};

/// The version of the shape below.
pub const SCHEMA_VERSION: u32 = 1;

/// Where a report came from, beside its body.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    /// The receiver's id for the report (its place in the feed).
    pub id: i64,
    /// When the receiver accepted it, milliseconds since the epoch.
    pub at_ms: i64,
}

/// The report's forwarded form.
pub fn forward_json(decoded: &Decoded, received: Received) -> Value {
    let r = &decoded.report;
    json!({
        "schemaVersion": SCHEMA_VERSION,
        "reportId": received.id,
        "receivedAt": rfc3339_ms(received.at_ms),
        "appId": r.app_id,
        "callId": r.call_id,
        "event": r.event,
        "status": r.status.map(status_name),
        "data": r.data,
        "keys": last_keys(r),
        "commands": r.entries.iter().map(entry).collect::<Vec<_>>(),
        "hangup": r.hangup.as_ref().map(hangup),
        "forms": decoded.forms,
        "warnings": decoded.warnings,
    })
}

/// `completed` or `hungup`, as filters and subjects name a call's outcome.
pub fn status_name(status: CallStatus) -> &'static str {
    match status {
        CallStatus::Completed => "completed",
        CallStatus::HungUp => "hungup",
    }
}

/// The keys pressed on the report's last command (the caller's choice), if any.
pub fn last_keys(r: &Report) -> Option<&str> {
    match r.entries.last()? {
        Entry::Command(c) => c.dtmf.as_deref(),
        Entry::Unrecognised(_) => None,
    }
}

/// Whether the report carries a recording's URL (in its hang-up notice).
pub fn has_recording(r: &Report) -> bool {
    matches!(&r.hangup, Some(Hangup::Notice(n)) if n.recording_url.as_deref().is_some_and(|u| !u.is_empty()))
}

/// What a command did: `dtmf` (collected keys), `playback` (TTS or a voice file), or
/// `unknown` when the platform did not say (the spec's examples omit `event`) and no keys came.
pub fn command_kind(c: &Command) -> &'static str {
    match c.event.as_deref() {
        Some("ivrreportdtmf") => "dtmf",
        Some("playoverrpt") => "playback",
        _ if c.dtmf.is_some() => "dtmf",
        _ => "unknown",
    }
}

fn entry(e: &Entry) -> Value {
    let c = match e {
        Entry::Unrecognised(v) => return json!({"kind": "unrecognised", "value": v}),
        Entry::Command(c) => c,
    };
    json!({
        "kind": command_kind(c),
        "event": c.event,
        "code": c.code,
        "start": c.start.as_ref().map(Timestamp::rfc3339),
        "end": c.end.as_ref().map(Timestamp::rfc3339),
        "durationMs": c.duration_ms(),
        "keys": c.dtmf,
        "data": c.data,
    })
}

fn hangup(h: &Hangup) -> Value {
    match h {
        Hangup::Undecodable(text) => json!({"decoded": false, "raw": text}),
        Hangup::Notice(n) => json!({
            "decoded": true,
            "reason": n.reason,
            "recordingUrl": n.recording_url,
            "direction": n.direction,
            "time": n.time.as_ref().map(Timestamp::rfc3339),
        }),
    }
}

fn rfc3339_ms(ms: i64) -> Value {
    chrono::DateTime::from_timestamp_millis(ms).map_or(Value::Null, |t| {
        json!(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode, DecodeOptions};

    const HUNG_UP: &str = r#"{"appId":"a1","callId":"c1","event":"multrpt","data":"order-7",
        "result":[{"event":"playoverrpt","code":"0","start":"20180112172322010","end":"20180112172325010"},
                  {"event":"ivrreportdtmf","code":"0","start":"20180112172325010","end":"20180112172329110","dtmfCode":"1"}],
        "status":1,
        "hungup":"{\"reason\":16,\"fileName\":\"https://rec.example/r.wav\",\"dir\":1,\"timeStamp\":\"20180112172330000\"}"}"#;

    #[test]
    fn a_hung_up_call_reads_as_documented() {
        let d = decode(HUNG_UP.as_bytes(), &DecodeOptions::default()).unwrap();
        let v = forward_json(
            &d,
            Received {
                id: 42,
                at_ms: 1_515_749_010_000,
            },
        );
        assert_eq!(v["schemaVersion"], 1);
        assert_eq!(v["reportId"], 42);
        assert_eq!(v["receivedAt"], "2018-01-12T09:23:30.000Z");
        assert_eq!(
            (v["appId"].as_str(), v["callId"].as_str()),
            (Some("a1"), Some("c1"))
        );
        assert_eq!(
            (v["status"].as_str(), v["keys"].as_str()),
            (Some("hungup"), Some("1"))
        );
        assert_eq!(v["data"], "order-7");
        let play = &v["commands"][0];
        assert_eq!(play["kind"], "playback");
        assert_eq!(play["start"], "2018-01-12T17:23:22.010+08:00");
        assert_eq!(play["durationMs"], 3000);
        assert_eq!(play["keys"], Value::Null);
        let dtmf = &v["commands"][1];
        assert_eq!(
            (dtmf["kind"].as_str(), dtmf["keys"].as_str()),
            (Some("dtmf"), Some("1"))
        );
        assert_eq!(dtmf["durationMs"], 4100);
        let h = &v["hangup"];
        assert_eq!(h["reason"], "16");
        assert_eq!(h["recordingUrl"], "https://rec.example/r.wav");
        assert_eq!(h["time"], "2018-01-12T17:23:30.000+08:00");
        assert!(has_recording(&d.report));
        assert!(v["forms"].as_array().is_some_and(|f| !f.is_empty()));
        assert_eq!(v["warnings"], json!([]));
    }

    #[test]
    fn commands_without_an_event_are_dtmf_only_when_keys_came() {
        let body = r#"{"appId":"a","callId":"c","event":"multrpt","status":0,
            "isNonProfit":[{"code":0,"start":20180112172322010,"end":20180112172325010},
                           {"code":0,"start":20180112172325010,"end":20180112172326010,"dtmfCode":"25"},
                           "value"]}"#;
        let d = decode(body.as_bytes(), &DecodeOptions::default()).unwrap();
        let v = forward_json(&d, Received { id: 1, at_ms: 0 });
        let kinds: Vec<&str> = (0..3)
            .filter_map(|i| v["commands"][i]["kind"].as_str())
            .collect();
        assert_eq!(kinds, ["unknown", "dtmf", "unrecognised"]);
        assert_eq!(v["commands"][2]["value"], "value");
        assert_eq!(v["keys"], Value::Null, "the last entry pressed nothing");
        assert_eq!(
            (v["status"].as_str(), v["hangup"].is_null()),
            (Some("completed"), true)
        );
        assert!(!has_recording(&d.report));
        assert_eq!(v["warnings"][0]["field"], "isNonProfit[2]");
    }
}
