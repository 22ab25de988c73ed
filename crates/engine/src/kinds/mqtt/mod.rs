//! MQTT (3.1.1): each forwarded report published to a topic at QoS 1 or 2, delivered when the
//! broker's `PUBACK` (QoS 1) or `PUBCOMP` (QoS 2) arrives. A connection that drops before
//! then fails the attempts waiting on it, which are retried on the schedule: a report can
//! reach subscribers twice, never not at all.
//!
//! The connection is made on the first delivery and kept; once it drops it is not resumed
//! (nothing it had in flight is sent again by the client) and the next delivery makes a new one.

mod link;
mod settings;

pub use settings::DEF;

use super::{body::BodyMode, template::Template};
use crate::outgoing::Outgoing;
use crate::transport::{Outcome, Transport};
use async_trait::async_trait;
use link::Link;
use rumqttc::QoS;
use std::time::Duration;
use tokio::sync::Mutex;

/// An MQTT destination as configured.
#[derive(Clone)]
pub struct Spec {
    /// `mqtt://host:port` or `mqtts://…` (TLS), credentials allowed (never logged).
    pub url: String,
    /// The topic each report is published to, filled per report.
    pub topic: Template,
    /// 1 (at least once, the default) or 2 (exactly once between ivrhook and the broker).
    pub qos: QoS,
    /// Whether the broker keeps the last report of each topic for new subscribers.
    pub retain: bool,
    /// The client id; each node makes its own when not given (`ivrhook-{node}`).
    pub client_id: Option<String>,
    /// What each message carries.
    pub body: BodyMode,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("url", &super::shown(&self.url))
            .field("topic", &self.topic)
            .field("qos", &self.qos)
            .field("retain", &self.retain)
            .field("client_id", &self.client_id)
            .field("body", &self.body)
            .finish()
    }
}

pub(crate) struct Mqtt {
    spec: Spec,
    /// This node's client id, when the configuration gives none.
    node: String,
    link: Mutex<Option<Link>>,
}

impl std::fmt::Debug for Mqtt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mqtt")
            .field("topic", &self.spec.topic)
            .finish_non_exhaustive()
    }
}

impl Mqtt {
    pub fn new(spec: Spec) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let node = format!("ivrhook-{}-{:06x}", std::process::id(), seed & 0xff_ffff);
        Mqtt {
            spec,
            node,
            link: Mutex::new(None),
        }
    }

    /// The live connection, a new one when there is none or it dropped.
    async fn link(&self) -> Result<Link, String> {
        let mut held = self.link.lock().await;
        if let Some(link) = held.as_ref().filter(|l| l.is_alive()) {
            return Ok(link.clone());
        }
        let client_id = self.spec.client_id.as_deref().unwrap_or(&self.node);
        let link = Link::open(&self.spec.url, client_id)?;
        *held = Some(link.clone());
        Ok(link)
    }
}

#[async_trait]
impl Transport for Mqtt {
    async fn send(&self, outgoing: &Outgoing, timeout: Duration) -> Outcome {
        let link = match self.link().await {
            Ok(link) => link,
            Err(e) => return Outcome::unreachable(e),
        };
        let delivery = outgoing.claimed();
        let topic = self.spec.topic.render(&delivery.payload, &delivery.call_id);
        let body = self.spec.body.render(outgoing);
        let acked = match link.publish(&topic, self.spec.qos, self.spec.retain, body) {
            Ok(acked) => acked,
            Err(e) => return Outcome::unreachable(e),
        };
        let what = match self.spec.qos {
            QoS::ExactlyOnce => "PUBCOMP",
            _ => "PUBACK",
        };
        match tokio::time::timeout(timeout, acked).await {
            Err(_) => Outcome::unreachable(format!("no {what} for {topic} within {timeout:?}")),
            Ok(Err(_)) => Outcome::unreachable(format!(
                "the connection closed before the {what} for {topic}"
            )),
            Ok(Ok(Err(e))) => Outcome::unreachable(format!("MQTT: {e}")),
            Ok(Ok(Ok(()))) => Outcome {
                excerpt: Some(format!("{what} for {topic}")),
                ..Outcome::delivered(None)
            },
        }
    }
}
