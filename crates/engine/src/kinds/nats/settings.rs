//! A NATS destination's settings: `url`, `subject`, `stream` and `create_stream`.

use super::{Nats, Spec};
use crate::kinds::{
    http::Clients,
    settings::{Entry, KindDef, KindError},
    template::Template,
    Forward, Reach,
};
use crate::transport::Transport;
use serde_json::{json, Value};
use std::sync::Arc;

/// The NATS JetStream kind.
pub static DEF: KindDef = KindDef {
    name: "nats",
    keys: &["url", "subject", "stream", "create_stream"],
    reference: "\
# nats: JetStream, the publish acknowledgement delivers. url = \"nats://…\" or \"tls://…\";
# the subject ({app} {event} {status} {call}), the stream it must land in, and whether to
# make that stream (listening on the subject with * for each placeholder).
# subject = \"ivr.{app}.{status}\"
# stream = \"IVR\"
# create_stream = false
",
    parse,
};

fn parse(entry: &Entry<'_>) -> Result<Arc<dyn Forward>, KindError> {
    let subject = entry.required(
        "subject",
        "is required for a nats destination, e.g. \"ivr.{app}.{status}\"",
    )?;
    let stream = entry.text("stream")?.map(str::to_owned);
    if let Some(s) = &stream {
        if s.is_empty() || s.contains(['.', '*', '>', ' ', '/', '\\']) {
            let reason = format!("{s:?} is not a JetStream stream name");
            return Err(entry.invalid("stream", reason));
        }
    }
    let create_stream = entry.flag("create_stream")?.unwrap_or(false);
    if create_stream && stream.is_none() {
        let reason = "needs stream: the name of the stream to make";
        return Err(entry.invalid("create_stream", reason));
    }
    Ok(Arc::new(Spec {
        url: entry.url(&["nats", "tls"])?,
        subject: Template::parse(subject).map_err(|e| entry.invalid("subject", e))?,
        stream,
        create_stream,
        body: entry.body(),
    }))
}

impl Forward for Spec {
    fn name(&self) -> &'static str {
        DEF.name
    }

    fn describe(&self) -> Value {
        json!({
            "kind": "nats", "url": crate::kinds::shown(&self.url), "subject": self.subject.text(),
            "stream": self.stream, "createStream": self.create_stream, "body": self.body.as_str(),
        })
    }

    fn transport(&self, _clients: &Clients, _reach: Reach) -> Arc<dyn Transport> {
        Arc::new(Nats::new(self.clone()))
    }
}
