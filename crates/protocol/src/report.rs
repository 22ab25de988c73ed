//! The decoded report: what the platform told us about one call's command list.
//!
//! Its `Serialize` gives the JSON form ivrhook stores and shows in its timeline API: times
//! both as RFC 3339 and as the original text, durations in milliseconds, hang-up decoded.

use crate::{AppId, CallId, Timestamp};
use serde::{ser::SerializeMap, Serialize, Serializer};
use serde_json::{Map, Value};

/// How the command list ended (`status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallStatus {
    /// `0`: every command ran and the call was not hung up.
    Completed,
    /// `1`: the user hung up before the list finished.
    HungUp,
}

impl CallStatus {
    /// The number the contract writes: 0 or 1.
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
    /// The business's app (`appId`).
    pub app_id: AppId,
    /// The call the report is about (`callId`).
    pub call_id: CallId,
    /// What the report is: `multrpt` for a command list's results.
    pub event: String,
    /// Required for `multrpt`; other events may lack it.
    pub status: Option<CallStatus>,
    /// Pass-through data the business attached when it started the commands.
    pub data: Option<String>,
    /// The entries of the results array, in order.
    pub entries: Vec<Entry>,
    /// The hang-up notice (`hungup`), when the user hung up.
    pub hangup: Option<Hangup>,
    /// Fields the contract does not name, kept as they came.
    pub extra: Map<String, Value>,
}

/// An entry of the results array.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// An object: one executed command.
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
    /// When the command started.
    pub start: Option<Timestamp>,
    /// When it ended.
    pub end: Option<Timestamp>,
    /// Keys the user pressed; an empty string is kept as `None`.
    pub dtmf: Option<String>,
    /// The prompt or menu the business passed with the command.
    pub data: Option<String>,
    /// Fields the contract does not name, kept as they came.
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
    /// A JSON object (or JSON text holding one).
    Notice(HangupNotice),
    /// Text that did not decode to a JSON object: kept raw.
    Undecodable(String),
}

/// A decoded hang-up notice. Every field is optional: the spec shows but does not define it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HangupNotice {
    /// The notice's own event name.
    pub event: Option<String>,
    /// The call, as the notice names it.
    pub call_id: Option<String>,
    /// The app, as the notice names it.
    pub app_id: Option<String>,
    /// Call direction (`dir`), as text.
    pub direction: Option<String>,
    /// The recording's URL (`fileName`).
    pub recording_url: Option<String>,
    /// Hang-up reason code, as text.
    pub reason: Option<String>,
    /// When the hang-up happened (`timeStamp`).
    pub time: Option<Timestamp>,
    /// Fields the spec does not show, kept as they came.
    pub extra: Map<String, Value>,
}

impl Report {
    /// Writes the view's fields into a map being serialised (so other fields can join them).
    pub fn serialize_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        map.serialize_entry("appId", &self.app_id)?;
        map.serialize_entry("callId", &self.call_id)?;
        map.serialize_entry("event", &self.event)?;
        map.serialize_entry("status", &self.status.map(CallStatus::as_int))?;
        map.serialize_entry("data", &self.data)?;
        map.serialize_entry("commands", &self.entries)?;
        map.serialize_entry("hangup", &self.hangup)?;
        map.serialize_entry("extra", &self.extra)
    }
}

/// The view, written straight to the output: no intermediate `Value` tree on the hot path.
impl Serialize for Report {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        self.serialize_fields(&mut map)?;
        map.end()
    }
}

/// A time as RFC 3339 and as the platform's text.
fn time_fields<M: SerializeMap>(
    map: &mut M,
    key: &str,
    text_key: &str,
    t: &Option<Timestamp>,
) -> Result<(), M::Error> {
    map.serialize_entry(key, &t.as_ref().map(Timestamp::rfc3339))?;
    map.serialize_entry(text_key, &t.as_ref().map(Timestamp::text))
}

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        match self {
            Entry::Unrecognised(v) => {
                map.serialize_entry("recognised", &false)?;
                map.serialize_entry("value", v)?;
            }
            Entry::Command(c) => {
                map.serialize_entry("recognised", &true)?;
                map.serialize_entry("event", &c.event)?;
                map.serialize_entry("code", &c.code)?;
                time_fields(&mut map, "start", "startText", &c.start)?;
                time_fields(&mut map, "end", "endText", &c.end)?;
                map.serialize_entry("durationMs", &c.duration_ms())?;
                map.serialize_entry("dtmf", &c.dtmf)?;
                map.serialize_entry("data", &c.data)?;
                map.serialize_entry("extra", &c.extra)?;
            }
        }
        map.end()
    }
}

impl Serialize for Hangup {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        match self {
            Hangup::Undecodable(raw) => {
                map.serialize_entry("decoded", &false)?;
                map.serialize_entry("raw", raw)?;
            }
            Hangup::Notice(n) => {
                map.serialize_entry("decoded", &true)?;
                map.serialize_entry("recordingUrl", &n.recording_url)?;
                map.serialize_entry("reason", &n.reason)?;
                map.serialize_entry("direction", &n.direction)?;
                time_fields(&mut map, "time", "timeText", &n.time)?;
                map.serialize_entry("event", &n.event)?;
                map.serialize_entry("callId", &n.call_id)?;
                map.serialize_entry("appId", &n.app_id)?;
                map.serialize_entry("extra", &n.extra)?;
            }
        }
        map.end()
    }
}
