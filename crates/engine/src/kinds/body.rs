//! What a forwarded report looks like on the wire: the stable decoded form
//! (`ivrhook_protocol::forward`) or the platform's bytes as received.

use ivrhook_protocol::{
    decode,
    forward::{forward_json, Received},
    DecodeOptions,
};
use ivrhook_store::outbox::{Payload, ReceivedReport};
use serde_json::json;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BodyMode {
    /// The documented JSON form, `schemaVersion` 1.
    #[default]
    Decoded,
    /// The body exactly as the platform sent it.
    Raw,
}

impl BodyMode {
    pub fn parse(text: &str) -> Result<BodyMode, String> {
        match text {
            "decoded" => Ok(BodyMode::Decoded),
            "raw" => Ok(BodyMode::Raw),
            other => Err(format!("{other:?} must be \"decoded\" or \"raw\"")),
        }
    }

    pub fn content_type(self) -> &'static str {
        "application/json"
    }

    /// The bytes to send for a delivery's payload.
    pub fn render(self, payload: &Payload) -> Vec<u8> {
        match (self, payload) {
            (_, Payload::Event { body, .. }) => body.clone(),
            (BodyMode::Raw, Payload::Report(r)) => r.raw.clone(),
            (BodyMode::Decoded, Payload::Report(r)) => decoded(r),
        }
    }
}

/// The report decoded as it was when received: leniently (it was accepted), with the offset
/// it was read with. A body this decoder no longer reads still goes out, with the reason and
/// the raw text, rather than being held back.
fn decoded(r: &ReceivedReport) -> Vec<u8> {
    let options = DecodeOptions::as_received(r.utc_offset.as_deref());
    let received = Received {
        id: r.id,
        at_ms: r.received_at_ms,
    };
    let value = match decode(&r.raw, &options) {
        Ok(d) => forward_json(&d, received),
        Err(e) => json!({
            "schemaVersion": ivrhook_protocol::forward::SCHEMA_VERSION,
            "reportId": r.id,
            "appId": r.app_id,
            "event": r.event,
            "decodeError": e.to_string(),
            "raw": String::from_utf8_lossy(&r.raw),
        }),
    };
    serde_json::to_vec(&value).unwrap_or_default()
}
