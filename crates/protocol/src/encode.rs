//! A report back to JSON, for the sender side. The shape is the documented one (`result`,
//! `code` as text, times as 17-digit text, `hungup` as JSON text) with `dtmfCode` as the
//! examples spell it; unknown fields go out as they came in.

use crate::{Entry, Hangup, HangupNotice, Report};
use serde_json::{Map, Value};

/// Text that reads as an integer goes out as a number, as the platform writes `dir` and
/// `reason`; anything else stays text so decoding gives back the same value.
fn code_value(text: &str) -> Value {
    match text.parse::<i64>() {
        Ok(n) if n.to_string() == text => Value::from(n),
        _ => Value::from(text),
    }
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        map.insert(key.to_owned(), v);
    }
}

impl Report {
    /// The report in the contract's documented form (`result`, text times), with the fields
    /// it did not read kept as they came.
    pub fn to_json(&self) -> Value {
        let mut m = self.extra.clone();
        m.insert("appId".into(), self.app_id.as_str().into());
        m.insert("callId".into(), self.call_id.as_str().into());
        m.insert("event".into(), self.event.clone().into());
        put(&mut m, "data", self.data.clone().map(Value::from));
        if self.event == "multrpt" {
            let entries = self.entries.iter().map(Entry::to_json).collect();
            m.insert("result".into(), Value::Array(entries));
        }
        put(&mut m, "status", self.status.map(|s| s.as_int().into()));
        put(&mut m, "hungup", self.hangup.as_ref().map(Hangup::to_json));
        Value::Object(m)
    }

    /// [`Report::to_json`] as the bytes a sender posts.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_json()).unwrap_or_default()
    }
}

impl Entry {
    fn to_json(&self) -> Value {
        let c = match self {
            Entry::Unrecognised(v) => return v.clone(),
            Entry::Command(c) => c,
        };
        let mut m = c.extra.clone();
        put(&mut m, "event", c.event.clone().map(Value::from));
        put(&mut m, "code", c.code.clone().map(Value::from));
        put(&mut m, "start", c.start.as_ref().map(|t| t.text().into()));
        put(&mut m, "end", c.end.as_ref().map(|t| t.text().into()));
        put(&mut m, "dtmfCode", c.dtmf.clone().map(Value::from));
        put(&mut m, "data", c.data.clone().map(Value::from));
        Value::Object(m)
    }
}

impl Hangup {
    fn to_json(&self) -> Value {
        match self {
            Hangup::Undecodable(text) => Value::from(text.as_str()),
            Hangup::Notice(n) => Value::from(notice_json(n).to_string()),
        }
    }
}

fn notice_json(n: &HangupNotice) -> Value {
    let mut m = n.extra.clone();
    let text = |s: &Option<String>| s.clone().map(Value::from);
    put(&mut m, "event", text(&n.event));
    put(&mut m, "callId", text(&n.call_id));
    put(&mut m, "appId", text(&n.app_id));
    put(&mut m, "dir", n.direction.as_deref().map(code_value));
    put(&mut m, "fileName", text(&n.recording_url));
    put(&mut m, "reason", n.reason.as_deref().map(code_value));
    put(
        &mut m,
        "timeStamp",
        n.time.as_ref().map(|t| t.text().into()),
    );
    Value::Object(m)
}
