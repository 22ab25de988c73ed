//! The destination kinds, each one [`Transport`] in its own module. A forward kind's module
//! also reads its own settings and shows them ([`Forward`]), and is registered by one line in
//! `settings::KINDS`; nothing else tells the kinds apart.
//!
//! - `callback`: the sender's kind, multrpt to an app's callback URL (the contract's codes).
//! - `webhook`: an internal webhook (2xx decides).
//! - `nats`: NATS JetStream (the publish acknowledgement decides).
//! - `rabbitmq`: RabbitMQ (the publisher confirm decides).
//! - `redis`: Redis Streams (Redis's answer to `XADD` decides).
//! - `mqtt`: MQTT (the broker's `PUBACK` or `PUBCOMP` decides).
//! - `settings`: the registry of forward kinds and what reading their settings shares.
//! - `body`, `template`, `http`: what several kinds share.

pub mod body;
pub mod callback;
pub mod http;
pub mod mqtt;
pub mod nats;
pub mod rabbitmq;
pub mod reach;
pub mod redis;
pub mod settings;
pub mod template;
pub mod webhook;

use crate::transport::Transport;
use ivrhook_protocol::SigningSecret;
pub use reach::Reach;
use std::sync::Arc;

/// A forward kind's settings, read by its module: what they show and the transport they make.
pub trait Forward: std::fmt::Debug + Send + Sync {
    /// The kind's name, as `kind =` writes it.
    fn name(&self) -> &'static str;

    /// The settings as `GET /v1/destinations` and the setup page show them: no credential.
    fn describe(&self) -> serde_json::Value;

    /// The transport; HTTP kinds take the client of their `reach`. Nothing connects until
    /// the first delivery.
    fn transport(&self, clients: &http::Clients, reach: Reach) -> Arc<dyn Transport>;

    /// Why its URL will be refused from `reach`, when the URL alone shows it (HTTP kinds).
    fn refused_by(&self, _reach: Reach) -> Option<String> {
        None
    }
}

/// A destination's kind and its kind's settings, validated at the edge (the config file).
#[derive(Debug, Clone)]
pub enum Kind {
    /// An app's callback URL (the sender).
    Callback(callback::Spec),
    /// A `[[destinations]]` entry's kind: webhook, nats, rabbitmq, …
    Forward(Arc<dyn Forward>),
    /// Recordings fetched into the recordings store (`crate::recordings`).
    Recordings(Arc<crate::recordings::Spec>),
}

impl Kind {
    /// The kind's name: `callback`, or the forward kind's.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Callback(_) => "callback",
            Kind::Forward(f) => f.name(),
            Kind::Recordings(_) => "recordings",
        }
    }

    /// Why the URL will be refused from `reach`, when the URL alone shows it: an address
    /// literal or `localhost` out of reach. A name is checked as it resolves.
    pub fn refused_by(&self, reach: Reach) -> Option<String> {
        match self {
            Kind::Callback(spec) => http::url_refused(&spec.url, reach),
            Kind::Forward(f) => f.refused_by(reach),
            // Each link is checked as it is fetched.
            Kind::Recordings(_) => None,
        }
    }

    /// The settings as the API and the setup page show them: no credential.
    pub fn describe(&self) -> serde_json::Value {
        match self {
            Kind::Callback(s) => serde_json::json!({
                "kind": "callback", "url": shown(s.url.as_str()), "signed": s.secret.is_some(),
            }),
            Kind::Forward(f) => f.describe(),
            Kind::Recordings(spec) => spec.describe(),
        }
    }

    /// The kind's transport; HTTP kinds share the client of their `reach`. Only the
    /// recordings destination writes to the store itself (what it kept).
    pub(crate) fn transport(
        self,
        clients: &http::Clients,
        reach: Reach,
        store: &Arc<dyn ivrhook_store::Store>,
        metrics: &crate::EngineMetrics,
    ) -> Arc<dyn Transport> {
        match self {
            Kind::Callback(spec) => {
                let client = clients.get(reach).clone();
                Arc::new(callback::Callback::new(client, spec, reach))
            }
            Kind::Forward(f) => f.transport(clients, reach),
            Kind::Recordings(spec) => Arc::new(crate::recordings::Keeper::new(
                spec,
                Arc::clone(store),
                metrics.recordings.clone(),
            )),
        }
    }
}

/// Standard Webhooks headers: `id` is stable across retries, the timestamp is real time.
pub(crate) fn sign(
    request: reqwest::RequestBuilder,
    secret: &SigningSecret,
    id: &str,
    body: &[u8],
) -> reqwest::RequestBuilder {
    let timestamp = chrono::Utc::now().timestamp();
    let signature = secret.sign(id, timestamp, body);
    request
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
}

/// A URL as logs and `Debug` may show it: no password, no query (either may carry a
/// credential).
pub fn shown(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => "<not a URL>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_shown_url_keeps_no_credential() {
        assert_eq!(
            super::shown("amqp://guest:secret@127.0.0.1:5672/%2f?heartbeat=5#x"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(
            super::shown("https://crm.internal/ivr?token=abc"),
            "https://crm.internal/ivr"
        );
    }
}
