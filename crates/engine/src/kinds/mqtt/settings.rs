//! An MQTT destination's settings: `url`, `topic`, `qos`, `retain` and `client_id`.

use super::{Mqtt, Spec};
use crate::kinds::{
    http::Clients,
    settings::{Entry, KindDef, KindError},
    template::Template,
    Forward, Reach,
};
use crate::transport::Transport;
use rumqttc::QoS;
use serde_json::{json, Value};
use std::sync::Arc;

/// The MQTT kind.
pub static DEF: KindDef = KindDef {
    name: "mqtt",
    keys: &["url", "topic", "qos", "retain", "client_id"],
    reference: "\
# mqtt: MQTT 3.1.1, the broker's PUBACK (qos 1) or PUBCOMP (qos 2) delivers. url =
# \"mqtt://user:pass@host:1883\" or \"mqtts://…\" (TLS, the machine's roots); the topic
# ({app} {event} {status} {call}); qos 1 or 2 (0 is refused: a report must not be lost);
# whether the broker retains the last message; the client id (default: one per node).
# topic = \"ivr/{app}/{status}\"
# qos = 1
# retain = false
# client_id = \"ivrhook-node-1\"
",
    parse,
};

fn parse(entry: &Entry<'_>) -> Result<Arc<dyn Forward>, KindError> {
    let topic = entry.required(
        "topic",
        "is required for an mqtt destination, e.g. \"ivr/{app}\"",
    )?;
    let qos = match entry.number("qos")?.unwrap_or(1) {
        1 => QoS::AtLeastOnce,
        2 => QoS::ExactlyOnce,
        0 => {
            let reason = "0 may lose a report without a word; use 1 (at least once) or 2";
            return Err(entry.invalid("qos", reason));
        }
        n => return Err(entry.invalid("qos", format!("{n} is not a QoS; use 1 or 2"))),
    };
    let client_id = entry.text("client_id")?.map(str::to_owned);
    if client_id.as_deref().is_some_and(str::is_empty) {
        return Err(entry.invalid("client_id", "must not be empty"));
    }
    Ok(Arc::new(Spec {
        url: entry.url(&["mqtt", "mqtts"])?,
        topic: Template::parse(topic).map_err(|e| entry.invalid("topic", e))?,
        qos,
        retain: entry.flag("retain")?.unwrap_or(false),
        client_id,
        body: entry.body(),
    }))
}

impl Forward for Spec {
    fn name(&self) -> &'static str {
        DEF.name
    }

    fn describe(&self) -> Value {
        json!({
            "kind": "mqtt", "url": crate::kinds::shown(&self.url), "topic": self.topic.text(),
            "qos": self.qos as u8, "retain": self.retain, "clientId": self.client_id,
            "body": self.body.as_str(),
        })
    }

    fn transport(&self, _clients: &Clients, _reach: Reach) -> Arc<dyn Transport> {
        Arc::new(Mqtt::new(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::body::BodyMode;

    fn parsed(keys: Value) -> Result<Arc<dyn Forward>, String> {
        let keys = keys.as_object().unwrap().clone();
        let entry = Entry::new(&keys, "destinations[0]", BodyMode::Decoded);
        parse(&entry).map_err(|e| format!("{}: {}", e.key, e.reason))
    }

    #[test]
    fn every_mistake_names_its_key() {
        let url = "mqtt://127.0.0.1:1883";
        let cases = [
            (json!({"url": url}), "destinations[0].topic: is required"),
            (
                json!({"url": url, "topic": "t", "qos": 0}),
                "destinations[0].qos: 0 may lose a report",
            ),
            (
                json!({"url": url, "topic": "t", "qos": 3}),
                "destinations[0].qos: 3 is not a QoS",
            ),
            (
                json!({"url": url, "topic": "t", "retain": 1}),
                "destinations[0].retain: found an integer",
            ),
            (
                json!({"url": url, "topic": "t", "client_id": ""}),
                "destinations[0].client_id: must not be empty",
            ),
            (
                json!({"url": "tcp://x", "topic": "t"}),
                "destinations[0].url: tcp://x must be a mqtt/mqtts URL",
            ),
        ];
        for (keys, expected) in cases {
            let got = parsed(keys.clone()).expect_err("refused");
            assert!(
                got.starts_with(expected),
                "{keys}\n  gave: {got}\n  want: {expected}"
            );
        }
    }

    #[test]
    fn a_full_entry_shows_no_credential() {
        let keys = json!({"url": "mqtts://ivr:s3cret@broker.internal:8883", "topic": "ivr/{app}",
                          "qos": 2, "retain": true, "client_id": "node-a"});
        let spec = parsed(keys).unwrap();
        let shown = spec.describe();
        assert_eq!(shown["url"], "mqtts://ivr:***@broker.internal:8883");
        assert_eq!(
            (shown["qos"].as_u64(), shown["retain"].as_bool()),
            (Some(2), Some(true))
        );
        assert!(!format!("{spec:?}").contains("s3cret"));
    }
}
