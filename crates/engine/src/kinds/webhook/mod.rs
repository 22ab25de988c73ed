//! An internal webhook: each forwarded report POSTed as JSON; any 2xx is delivered
//! (`classify_status`).

mod settings;

pub use settings::DEF;

use super::{
    body::BodyMode,
    http::{exchange, literal_refused, Answer},
    Reach,
};
use crate::outgoing::Outgoing;
use crate::{
    classify::{classify_status, Verdict},
    transport::{Outcome, Transport},
};
use async_trait::async_trait;
use ivrhook_protocol::SigningSecret;
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use std::time::Duration;

/// A webhook destination as configured.
#[derive(Clone)]
pub struct Spec {
    /// Where reports are posted.
    pub url: reqwest::Url,
    /// What each request carries.
    pub body: BodyMode,
    /// Signs each request when set.
    pub secret: Option<SigningSecret>,
    /// Sent with every request, after ivrhook's own.
    pub headers: HeaderMap,
}

/// Shows header names, never their values (an `Authorization` header is a credential).
impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<&str> = self.headers.keys().map(|k| k.as_str()).collect();
        f.debug_struct("Spec")
            .field("url", &super::shown(self.url.as_str()))
            .field("body", &self.body)
            .field("secret", &self.secret)
            .field("headers", &headers)
            .finish()
    }
}

#[derive(Debug)]
pub(crate) struct Webhook {
    client: reqwest::Client,
    spec: Spec,
    reach: Reach,
}

impl Webhook {
    pub fn new(client: reqwest::Client, spec: Spec, reach: Reach) -> Self {
        Webhook {
            client,
            spec,
            reach,
        }
    }
}

#[async_trait]
impl Transport for Webhook {
    async fn send(&self, delivery: &Outgoing, timeout: Duration) -> Outcome {
        if let Some(refused) = literal_refused(&self.spec.url, self.reach) {
            return Outcome::dead(refused);
        }
        let body = self.spec.body.render(delivery);
        let delivery = delivery.claimed();
        let mut request = self
            .client
            .post(self.spec.url.clone())
            .timeout(timeout)
            .header(CONTENT_TYPE, self.spec.body.content_type())
            .header("ivrhook-call-id", &delivery.call_id)
            .headers(self.spec.headers.clone());
        if let Some(secret) = &self.spec.secret {
            // Standard Webhooks: the id is the delivery's, the same on every retry.
            let id = format!("dlv_{}", delivery.delivery_id);
            request = super::sign(request, secret, &id, &body);
        }
        match exchange(request.body(body)).await {
            Ok(answer) => read(&answer),
            Err(failed) => failed,
        }
    }
}

/// A 5xx or a 408 says the webhook is down (for its breaker); a 429 that it is busy, which its
/// `Retry-After` handles.
fn read(answer: &Answer) -> Outcome {
    let verdict = classify_status(answer.status, answer.retry_after.as_deref());
    let down = matches!(verdict, Verdict::Retry { .. }) && answer.status != 429;
    answer.outcome(verdict, None, down)
}
