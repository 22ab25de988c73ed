//! The sender's kind: an event POSTed byte for byte to an app's callback URL, the verdict read
//! from the contract's code in the answer (`classify`).

use super::{
    http::{exchange, literal_refused, Answer},
    Reach,
};
use crate::outgoing::Outgoing;
use crate::{
    classify::{classify_code, read_code, Verdict},
    transport::{Outcome, Transport},
};
use async_trait::async_trait;
use ivrhook_protocol::SigningSecret;
use ivrhook_store::outbox::Payload;
use reqwest::header::CONTENT_TYPE;
use std::time::Duration;

/// Where an app's reports go.
#[derive(Clone)]
pub struct Spec {
    /// The app's `callback_url`.
    pub url: reqwest::Url,
    /// Signs each request when set.
    pub secret: Option<SigningSecret>,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("url", &super::shown(self.url.as_str()))
            .field("secret", &self.secret)
            .finish()
    }
}

#[derive(Debug)]
pub(crate) struct Callback {
    client: reqwest::Client,
    spec: Spec,
    reach: Reach,
}

impl Callback {
    pub fn new(client: reqwest::Client, spec: Spec, reach: Reach) -> Self {
        Callback {
            client,
            spec,
            reach,
        }
    }
}

#[async_trait]
impl Transport for Callback {
    async fn send(&self, delivery: &Outgoing, timeout: Duration) -> Outcome {
        let Payload::Event { id, body } = &delivery.claimed().payload else {
            return Outcome::dead("a callback destination sends submitted events only".into());
        };
        if let Some(refused) = literal_refused(&self.spec.url, self.reach) {
            return Outcome::dead(refused);
        }
        let mut request = self
            .client
            .post(self.spec.url.clone())
            .timeout(timeout)
            .header(CONTENT_TYPE, "application/json")
            .body(body.clone());
        if let Some(secret) = &self.spec.secret {
            // Standard Webhooks: the id is stable across retries, the timestamp is real time.
            request = super::sign(request, secret, &format!("evt_{id}"), body);
        }
        match exchange(request).await {
            Ok(answer) => read(&answer),
            Err(failed) => failed,
        }
    }
}

/// The contract decides where the answer names a code; the HTTP status where it does not.
fn read(answer: &Answer) -> Outcome {
    let code = read_code(&answer.body);
    let verdict = classify_code(
        answer.status,
        answer.retry_after.as_deref(),
        code.as_deref(),
    );
    // The breaker is for a URL that is down: an HTTP error without a contract code. A
    // business that answers 108102 or 108104 is up; each delivery backs off on its own.
    let down = matches!(verdict, Verdict::Retry { .. }) && code.is_none();
    answer.outcome(verdict, code, down)
}
