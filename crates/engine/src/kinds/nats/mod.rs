//! NATS JetStream: each forwarded report published to a subject, delivered on the stream's
//! acknowledgement. The `Nats-Msg-Id` is the same on every retry of a delivery, so the
//! stream's duplicate window drops a message published again after its acknowledgement was
//! lost (a timeout, a node killed before it recorded the attempt).
//!
//! The client is made on the first delivery and kept; it reconnects by itself after the
//! server goes away, and a publish meanwhile times out and is retried on the schedule.

mod settings;

pub use settings::DEF;

use super::{body::BodyMode, template::Template};
use crate::outgoing::Outgoing;
use crate::transport::{Outcome, Transport};
use async_nats::jetstream::{self, context::PublishErrorKind, message::PublishMessage};
use async_trait::async_trait;
use ivrhook_store::outbox::Payload;
use std::time::Duration;
use tokio::sync::Mutex;

/// A NATS destination as configured.
#[derive(Clone)]
pub struct Spec {
    /// `nats://host:port`, credentials allowed (never logged).
    pub url: String,
    /// The subject each report is published to, filled per report.
    pub subject: Template,
    /// The stream the subject must land in (`Nats-Expected-Stream`), checked when connecting.
    pub stream: Option<String>,
    /// Make the stream, listening on the subject's wildcard, when it does not exist.
    pub create_stream: bool,
    /// What each message carries.
    pub body: BodyMode,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("url", &super::shown(&self.url))
            .field("subject", &self.subject)
            .field("stream", &self.stream)
            .field("create_stream", &self.create_stream)
            .field("body", &self.body)
            .finish()
    }
}

pub(crate) struct Nats {
    spec: Spec,
    context: Mutex<Option<jetstream::Context>>,
}

impl std::fmt::Debug for Nats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nats")
            .field("subject", &self.spec.subject)
            .finish_non_exhaustive()
    }
}

impl Nats {
    pub fn new(spec: Spec) -> Self {
        Nats {
            spec,
            context: Mutex::new(None),
        }
    }

    /// The JetStream context, connecting (and checking the stream) the first time.
    async fn context(&self, timeout: Duration) -> Result<jetstream::Context, String> {
        let mut held = self.context.lock().await;
        if let Some(js) = held.as_ref() {
            return Ok(js.clone());
        }
        // Credentials go in the options, not the URL: the client logs the URL it connects to.
        let (url, credentials) = split_credentials(&self.spec.url);
        let mut options = async_nats::ConnectOptions::new();
        if let Some((user, password)) = credentials {
            options = options.user_and_password(user, password);
        }
        let client = (options.name("ivrhook").connection_timeout(timeout))
            .connect(url.as_str())
            .await
            .map_err(|e| format!("could not connect to NATS: {e}"))?;
        let mut js = jetstream::new(client);
        js.set_timeout(timeout);
        if let Some(stream) = &self.spec.stream {
            self.check_stream(&js, stream).await?;
        }
        *held = Some(js.clone());
        Ok(js)
    }

    async fn check_stream(&self, js: &jetstream::Context, name: &str) -> Result<(), String> {
        let missing = match js.get_stream(name).await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if !self.spec.create_stream {
            return Err(format!(
                "JetStream stream {name:?} was not found ({missing}); create it, or set \
                 create_stream = true"
            ));
        }
        let config = jetstream::stream::Config {
            name: name.to_owned(),
            subjects: vec![self.spec.subject.wildcard()],
            ..Default::default()
        };
        js.create_stream(config)
            .await
            .map(|_| tracing::info!(stream = name, "created the JetStream stream"))
            .map_err(|e| format!("could not create JetStream stream {name:?}: {e}"))
    }

    fn message(&self, outgoing: &Outgoing) -> PublishMessage {
        let body = self.spec.body.render(outgoing);
        let delivery = outgoing.claimed();
        let source = match &delivery.payload {
            Payload::Report(r) => format!("r{}", r.id),
            Payload::Event { id, .. } => format!("e{id}"),
        };
        // Unique per report and destination, the same on every retry.
        let id = format!("{}:{source}:d{}", delivery.call_id, delivery.delivery_id);
        let message = PublishMessage::build()
            .payload(body)
            .message_id(id)
            .header("Content-Type", self.spec.body.content_type());
        match &self.spec.stream {
            Some(stream) => message.expected_stream(stream),
            None => message,
        }
    }
}

#[async_trait]
impl Transport for Nats {
    async fn send(&self, outgoing: &Outgoing, timeout: Duration) -> Outcome {
        let delivery = outgoing.claimed();
        let js = match tokio::time::timeout(timeout, self.context(timeout)).await {
            Ok(Ok(js)) => js,
            Ok(Err(e)) => return Outcome::unreachable(e),
            Err(_) => {
                return Outcome::unreachable(format!("NATS: no connection within {timeout:?}"))
            }
        };
        let subject = self
            .spec
            .subject
            .render(&delivery.payload, &delivery.call_id);
        let published = async {
            js.send_publish(subject.clone(), self.message(outgoing))
                .await?
                .await
        };
        match tokio::time::timeout(timeout, published).await {
            Err(_) => Outcome::unreachable(format!(
                "no JetStream acknowledgement for {subject} within {timeout:?}"
            )),
            Ok(Err(e)) if e.kind() == PublishErrorKind::StreamNotFound => {
                Outcome::unreachable(format!("no JetStream stream listens on subject {subject}"))
            }
            Ok(Err(e)) => Outcome::unreachable(format!("publishing to {subject} failed: {e}")),
            Ok(Ok(ack)) => Outcome {
                excerpt: Some(format!("stream {} sequence {}", ack.stream, ack.sequence)),
                ..Outcome::delivered(ack.duplicate.then(|| {
                    "the stream already had this message (same Nats-Msg-Id): kept once".to_owned()
                }))
            },
        }
    }
}

/// The URL without its user and password, and them (percent-decoded), when it has them.
fn split_credentials(url: &str) -> (String, Option<(String, String)>) {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        return (url.to_owned(), None);
    };
    if parsed.username().is_empty() && parsed.password().is_none() {
        return (url.to_owned(), None);
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let credentials = (
        decode(parsed.username()),
        decode(parsed.password().unwrap_or("")),
    );
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    (parsed.to_string(), Some(credentials))
}

#[cfg(test)]
mod credential_tests {
    use super::split_credentials;

    #[test]
    fn credentials_leave_the_url_for_the_options() {
        let (url, creds) = split_credentials("nats://ivr:p%40ss@127.0.0.1:4222");
        assert_eq!(url, "nats://127.0.0.1:4222");
        assert_eq!(creds, Some(("ivr".into(), "p@ss".into())));
        assert_eq!(split_credentials("nats://127.0.0.1:4222").1, None);
    }
}
