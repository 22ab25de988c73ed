//! The destination kinds, each one [`Transport`] in its own module; [`Kind::transport`] is the
//! only place that tells them apart.
//!
//! - `callback`: the sender's kind, multrpt to an app's callback URL (the contract's codes).
//! - `webhook`: an internal webhook (2xx decides).
//! - `nats`: NATS JetStream (the publish acknowledgement decides).
//! - `rabbitmq`: RabbitMQ (the publisher confirm decides).
//! - `body`, `template`, `http`: what several kinds share.

pub mod body;
pub mod callback;
pub mod http;
pub mod nats;
pub mod rabbitmq;
pub mod reach;
pub mod template;
pub mod webhook;

use crate::transport::Transport;
use ivrhook_protocol::SigningSecret;
pub use reach::Reach;
use std::sync::Arc;

/// A destination's kind and its kind's settings, validated at the edge (the config file).
#[derive(Debug, Clone)]
pub enum Kind {
    /// An app's callback URL (the sender).
    Callback(callback::Spec),
    /// An internal webhook.
    Webhook(webhook::Spec),
    /// A NATS JetStream subject.
    Nats(nats::Spec),
    /// A RabbitMQ exchange.
    Rabbitmq(rabbitmq::Spec),
}

impl Kind {
    /// Why an HTTP kind's URL will be refused from `reach`, when the URL alone shows it: an
    /// address literal or `localhost` out of reach. A name is checked as it resolves.
    pub fn refused_by(&self, reach: Reach) -> Option<String> {
        let url = match self {
            Kind::Callback(spec) => &spec.url,
            Kind::Webhook(spec) => &spec.url,
            Kind::Nats(_) | Kind::Rabbitmq(_) => return None,
        };
        if url.host_str() == Some("localhost") {
            let ip = std::net::Ipv4Addr::LOCALHOST.into();
            return reach
                .refuses(ip)
                .map(|kind| reach::refusal("localhost", ip, kind));
        }
        http::literal_refused(url, reach)
    }

    /// The kind's transport; HTTP kinds share the client of their `reach`. Nothing connects
    /// until the first delivery.
    pub fn transport(self, clients: &http::Clients, reach: Reach) -> Arc<dyn Transport> {
        let client = clients.get(reach).clone();
        match self {
            Kind::Callback(spec) => Arc::new(callback::Callback::new(client, spec, reach)),
            Kind::Webhook(spec) => Arc::new(webhook::Webhook::new(client, spec, reach)),
            Kind::Nats(spec) => Arc::new(nats::Nats::new(spec)),
            Kind::Rabbitmq(spec) => Arc::new(rabbitmq::Rabbitmq::new(spec)),
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
