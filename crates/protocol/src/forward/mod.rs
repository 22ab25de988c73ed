//! The decoded form a received report is forwarded in (`body = "decoded"`): a stable,
//! documented JSON shape, versioned by `schemaVersion`, that the business's systems read
//! without knowing the platform's many spellings. A field is never renamed or removed within a
//! version; new fields may be added. docs/forwarding.md documents each one.

#[cfg(test)]
mod tests;
mod wire;

use crate::{CallStatus, Command, Decoded, Entry, Hangup, Report};
use serde_json::{json, Value};
pub use wire::Forwarded;

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

/// The report's forwarded form, written straight to the output (`wire`).
pub fn forwarded(decoded: &Decoded, received: Received) -> Forwarded<'_> {
    Forwarded { decoded, received }
}

/// The form of a report this decoder no longer reads (it accepted it once): what the receiver
/// recorded, the reason, and the raw text, so that the report is shown and sent rather than
/// held back.
pub fn undecodable(
    received: Received,
    app_id: &str,
    event: &str,
    error: &str,
    raw: &[u8],
) -> Value {
    let received_at = chrono::DateTime::from_timestamp_millis(received.at_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    json!({
        "schemaVersion": SCHEMA_VERSION,
        "reportId": received.id,
        "receivedAt": received_at,
        "appId": app_id,
        "event": event,
        "decodeError": error,
        "raw": String::from_utf8_lossy(raw),
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
