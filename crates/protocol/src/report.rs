//! The decoded report: what the platform told us about one call's command list.
//!
//! `view()` gives the JSON form ivrhook stores and shows in its timeline API: times both as
//! RFC 3339 and as the original text, durations in milliseconds, hang-up decoded.

use crate::{AppId, CallId, Timestamp};
use serde_json::{json, Map, Value};

/// How the command list ended (`status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallStatus {
    /// `0`: every command ran and the call was not hung up.
    Completed,
    /// `1`: the user hung up before the list finished.
    HungUp,
}

impl CallStatus {
    pub fn as_int(self) -> i64 {
        match self {
            CallStatus::Completed => 0,
            CallStatus::HungUp => 1,
        }
    }
}

/// One `multrpt` (or other) report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub app_id: AppId,
    pub call_id: CallId,
    pub event: String,
    /// Required for `multrpt`; other events may lack it.
    pub status: Option<CallStatus>,
    /// Pass-through data the business attached when it started the commands.
    pub data: Option<String>,
    /// The entries of the results array, in order.
    pub entries: Vec<Entry>,
    pub hangup: Option<Hangup>,
    /// Fields the contract does not name, kept as they came.
    pub extra: Map<String, Value>,
}

/// An entry of the results array.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Command(Command),
    /// Not an object (the spec's example ends with a bare `"value"`): kept as it came.
    Unrecognised(Value),
}

/// One executed command. Fields the table requires may still be absent or unreadable: the
/// lenient decoder keeps the entry and warns rather than lose the report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Command {
    /// `ivrreportdtmf` or `playoverrpt`; absent in the spec's examples.
    pub event: Option<String>,
    /// The command's result code, `0` meaning success; kept as text.
    pub code: Option<String>,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    /// Keys the user pressed; an empty string is kept as `None`.
    pub dtmf: Option<String>,
    pub data: Option<String>,
    pub extra: Map<String, Value>,
}

impl Command {
    /// `end - start` in milliseconds, when both are known.
    pub fn duration_ms(&self) -> Option<i64> {
        Some((self.end.as_ref()?.at() - self.start.as_ref()?.at()).num_milliseconds())
    }
}

/// The hang-up notice sent inside `hungup`.
#[derive(Debug, Clone, PartialEq)]
pub enum Hangup {
    Notice(HangupNotice),
    /// Text that did not decode to a JSON object: kept raw.
    Undecodable(String),
}

/// A decoded hang-up notice. Every field is optional: the spec shows but does not define it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HangupNotice {
    pub event: Option<String>,
    pub call_id: Option<String>,
    pub app_id: Option<String>,
    /// Call direction (`dir`), as text.
    pub direction: Option<String>,
    /// The recording's URL (`fileName`).
    pub recording_url: Option<String>,
    /// Hang-up reason code, as text.
    pub reason: Option<String>,
    /// When the hang-up happened (`timeStamp`).
    pub time: Option<Timestamp>,
    pub extra: Map<String, Value>,
}

fn time_view(t: &Option<Timestamp>) -> (Value, Value) {
    match t {
        Some(t) => (json!(t.rfc3339()), json!(t.text())),
        None => (Value::Null, Value::Null),
    }
}

impl Report {
    /// The JSON form stored and shown by the timeline API.
    pub fn view(&self) -> Value {
        json!({
            "appId": self.app_id,
            "callId": self.call_id,
            "event": self.event,
            "status": self.status.map(CallStatus::as_int),
            "data": self.data,
            "commands": self.entries.iter().map(Entry::view).collect::<Vec<_>>(),
            "hangup": self.hangup.as_ref().map(Hangup::view),
            "extra": self.extra,
        })
    }
}

impl Entry {
    pub fn view(&self) -> Value {
        match self {
            Entry::Unrecognised(v) => json!({ "recognised": false, "value": v }),
            Entry::Command(c) => {
                let (start, start_text) = time_view(&c.start);
                let (end, end_text) = time_view(&c.end);
                json!({
                    "recognised": true,
                    "event": c.event,
                    "code": c.code,
                    "start": start,
                    "startText": start_text,
                    "end": end,
                    "endText": end_text,
                    "durationMs": c.duration_ms(),
                    "dtmf": c.dtmf,
                    "data": c.data,
                    "extra": c.extra,
                })
            }
        }
    }
}

impl Hangup {
    pub fn view(&self) -> Value {
        match self {
            Hangup::Undecodable(raw) => json!({ "decoded": false, "raw": raw }),
            Hangup::Notice(n) => {
                let (time, time_text) = time_view(&n.time);
                json!({
                    "decoded": true,
                    "recordingUrl": n.recording_url,
                    "reason": n.reason,
                    "direction": n.direction,
                    "time": time,
                    "timeText": time_text,
                    "event": n.event,
                    "callId": n.call_id,
                    "appId": n.app_id,
                    "extra": n.extra,
                })
            }
        }
    }
}
