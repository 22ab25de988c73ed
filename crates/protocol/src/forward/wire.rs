//! The forwarded form serialised straight from the decoded report: no `serde_json::Value`
//! tree to build and drop for each report sent. Keys go out in sorted order, the order a
//! `Value` object of the same form writes them, so both give the same bytes.

use super::{command_kind, last_keys, status_name, Received, SCHEMA_VERSION};
use crate::{Decoded, Entry, Hangup, Timestamp};
use serde::ser::{Serialize, SerializeMap, Serializer};

/// The report's forwarded form (`forward::forwarded`).
#[derive(Debug, Clone, Copy)]
pub struct Forwarded<'a> {
    pub(super) decoded: &'a Decoded,
    pub(super) received: Received,
}

impl Serialize for Forwarded<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (r, d) = (&self.decoded.report, self.decoded);
        let received_at = chrono::DateTime::from_timestamp_millis(self.received.at_ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        let mut m = s.serialize_map(Some(14))?;
        m.serialize_entry("appId", &r.app_id)?;
        m.serialize_entry("callId", &r.call_id)?;
        m.serialize_entry("commands", &Commands(&r.entries))?;
        m.serialize_entry("data", &r.data)?;
        m.serialize_entry("event", &r.event)?;
        m.serialize_entry("extra", &r.extra)?;
        m.serialize_entry("forms", &d.forms)?;
        m.serialize_entry("hangup", &r.hangup.as_ref().map(WireHangup))?;
        m.serialize_entry("keys", &last_keys(r))?;
        m.serialize_entry("receivedAt", &received_at)?;
        m.serialize_entry("reportId", &self.received.id)?;
        m.serialize_entry("schemaVersion", &SCHEMA_VERSION)?;
        m.serialize_entry("status", &r.status.map(status_name))?;
        m.serialize_entry("warnings", &d.warnings)?;
        m.end()
    }
}

struct Commands<'a>(&'a [Entry]);

impl Serialize for Commands<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(WireEntry))
    }
}

struct WireEntry<'a>(&'a Entry);

impl Serialize for WireEntry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = match self.0 {
            Entry::Command(c) => c,
            Entry::Unrecognised(v) => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("kind", "unrecognised")?;
                m.serialize_entry("value", v)?;
                return m.end();
            }
        };
        let mut m = s.serialize_map(Some(9))?;
        m.serialize_entry("code", &c.code)?;
        m.serialize_entry("data", &c.data)?;
        m.serialize_entry("durationMs", &c.duration_ms())?;
        m.serialize_entry("end", &c.end.as_ref().map(Timestamp::rfc3339))?;
        m.serialize_entry("event", &c.event)?;
        m.serialize_entry("extra", &c.extra)?;
        m.serialize_entry("keys", &c.dtmf)?;
        m.serialize_entry("kind", command_kind(c))?;
        m.serialize_entry("start", &c.start.as_ref().map(Timestamp::rfc3339))?;
        m.end()
    }
}

struct WireHangup<'a>(&'a Hangup);

impl Serialize for WireHangup<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = match self.0 {
            Hangup::Notice(n) => n,
            Hangup::Undecodable(text) => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("decoded", &false)?;
                m.serialize_entry("raw", text)?;
                return m.end();
            }
        };
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("decoded", &true)?;
        m.serialize_entry("direction", &n.direction)?;
        m.serialize_entry("reason", &n.reason)?;
        m.serialize_entry("recordingUrl", &n.recording_url)?;
        m.serialize_entry("time", &n.time.as_ref().map(Timestamp::rfc3339))?;
        m.end()
    }
}
