//! What a forwarded report looks like on the wire: the stable decoded form
//! (`ivrhook_protocol::forward`) or the platform's bytes as received.

use crate::outgoing::Outgoing;
use bytes::Bytes;
use ivrhook_protocol::{
    decode,
    forward::{forwarded, undecodable, Received},
    DecodeOptions, Decoded,
};
use ivrhook_store::outbox::{Payload, ReceivedReport};

/// What a forward carries: the decoded form or the bytes received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BodyMode {
    /// The documented JSON form, `schemaVersion` 1.
    #[default]
    Decoded,
    /// The body exactly as the platform sent it.
    Raw,
}

impl BodyMode {
    /// `decoded` or `raw`, as the configuration writes and the API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyMode::Decoded => "decoded",
            BodyMode::Raw => "raw",
        }
    }

    /// `decoded` or `raw`, as the configuration writes it.
    pub fn parse(text: &str) -> Result<BodyMode, String> {
        match text {
            "decoded" => Ok(BodyMode::Decoded),
            "raw" => Ok(BodyMode::Raw),
            other => Err(format!("{other:?} must be \"decoded\" or \"raw\"")),
        }
    }

    /// The `Content-Type` a body of this mode is sent with.
    pub fn content_type(self) -> &'static str {
        "application/json"
    }

    /// The bytes to send for a delivery.
    pub fn render(self, delivery: &Outgoing) -> Bytes {
        match (self, &delivery.claimed().payload) {
            (_, Payload::Event { body, .. }) => Bytes::copy_from_slice(body),
            (BodyMode::Raw, Payload::Report(r)) => Bytes::copy_from_slice(&r.raw),
            (BodyMode::Decoded, Payload::Report(r)) => {
                let shared = delivery.shared();
                let rendered = shared
                    .rendered
                    .get_or_init(|| decoded(r, shared.decoded.as_ref()));
                rendered.clone()
            }
        }
    }
}

/// The report's decoded form: from the receiver's decoding when it has it, otherwise decoded
/// again as it was when received (leniently: it was accepted; with the offset it was read
/// with). A body this decoder no longer reads still goes out, with the reason and the raw
/// text, rather than being held back.
fn decoded(r: &ReceivedReport, known: Option<&Decoded>) -> Bytes {
    let received = Received {
        id: r.id,
        at_ms: r.received_at_ms,
    };
    let again;
    let decoded = match known {
        Some(d) => Ok(d),
        None => {
            again = decode(&r.raw, &DecodeOptions::as_received(r.utc_offset.as_deref()));
            again.as_ref()
        }
    };
    let value = match decoded {
        Ok(d) => serde_json::to_vec(&forwarded(d, received)),
        Err(e) => serde_json::to_vec(&undecodable(
            received,
            &r.app_id,
            &r.event,
            &e.to_string(),
            &r.raw,
        )),
    };
    Bytes::from(value.unwrap_or_default())
}
