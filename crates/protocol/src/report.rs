//! The decoded report: what the platform told us about one call's command list. Its JSON
//! form, the one the API, the feed and the forwards share, is `forward`'s.

use crate::{AppId, CallId, Timestamp};
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
