//! Redis Streams: each forwarded report added to a stream (`XADD`) with the forwarded body in
//! the field `body`; delivered when Redis answers with the entry's id. An `XADD` whose answer
//! is lost is sent again on the schedule, so an entry can be added twice: each carries the
//! delivery's `idempotency_key`, the same on every retry, for consumers to drop the second.
//!
//! The connection (redis's connection manager) is made on the first delivery and kept; it
//! reconnects by itself after the server goes away, and an `XADD` meanwhile is retried.

mod settings;

pub use settings::DEF;

use super::{body::BodyMode, template::Template};
use crate::outgoing::Outgoing;
use crate::{
    classify::Verdict,
    transport::{Outcome, Transport},
};
use async_trait::async_trait;
use ivrhook_store::outbox::Payload;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;
use tokio::sync::Mutex;

/// A Redis Streams destination as configured.
#[derive(Clone)]
pub struct Spec {
    /// `redis://host:port/db` or `rediss://…` (TLS), credentials allowed (never logged).
    pub url: String,
    /// The password from `password_env`, when the URL does not carry one.
    pub password: Option<String>,
    /// The stream's key, filled per report.
    pub stream: Template,
    /// Trim the stream to about this many entries (`MAXLEN ~`).
    pub max_len: Option<u64>,
    /// Add `callId`, `appId` and `code` beside the body.
    pub fields: bool,
    /// What each entry's `body` carries.
    pub body: BodyMode,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("url", &super::shown(&self.url))
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("stream", &self.stream)
            .field("max_len", &self.max_len)
            .field("fields", &self.fields)
            .field("body", &self.body)
            .finish()
    }
}

pub(crate) struct Redis {
    spec: Spec,
    connection: Mutex<Option<ConnectionManager>>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("stream", &self.spec.stream)
            .finish_non_exhaustive()
    }
}

impl Redis {
    pub fn new(spec: Spec) -> Self {
        Redis {
            spec,
            connection: Mutex::new(None),
        }
    }

    /// The connection, made the first time; it reconnects by itself afterwards.
    async fn connection(&self, timeout: Duration) -> Result<ConnectionManager, String> {
        let mut held = self.connection.lock().await;
        if let Some(c) = held.as_ref() {
            return Ok(c.clone());
        }
        let client = settings::client(&self.spec).map_err(|e| format!("Redis URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1);
        let connection = (client.get_connection_manager_with_config(config).await)
            .map_err(|e| format!("could not connect to Redis: {e}"))?;
        *held = Some(connection.clone());
        Ok(connection)
    }

    /// `XADD key [MAXLEN ~ n] * body … idempotency_key … [callId … appId … code …]`.
    fn command(&self, outgoing: &Outgoing, key: &str) -> redis::Cmd {
        let delivery = outgoing.claimed();
        let (source, app, code) = match &delivery.payload {
            Payload::Report(r) => (format!("r{}", r.id), r.app_id.as_str(), r.status),
            Payload::Event { id, .. } => (format!("e{id}"), "", None),
        };
        let mut cmd = redis::cmd("XADD");
        cmd.arg(key);
        if let Some(n) = self.spec.max_len {
            cmd.arg("MAXLEN").arg("~").arg(n);
        }
        let id = format!("{}:{source}:d{}", delivery.call_id, delivery.delivery_id);
        let body = self.spec.body.render(outgoing);
        cmd.arg("*").arg("body").arg(body.as_ref());
        cmd.arg("idempotency_key").arg(id);
        if self.spec.fields {
            let code = code.map_or(String::new(), |c| c.to_string());
            cmd.arg("callId")
                .arg(&delivery.call_id)
                .arg("appId")
                .arg(app);
            cmd.arg("code").arg(code);
        }
        cmd
    }
}

#[async_trait]
impl Transport for Redis {
    async fn send(&self, outgoing: &Outgoing, timeout: Duration) -> Outcome {
        let mut connection = match tokio::time::timeout(timeout, self.connection(timeout)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Outcome::unreachable(e),
            Err(_) => {
                return Outcome::unreachable(format!("Redis: no connection within {timeout:?}"))
            }
        };
        let delivery = outgoing.claimed();
        let key = (self.spec.stream).render(&delivery.payload, &delivery.call_id);
        let command = self.command(outgoing, &key);
        let added = command.query_async::<String>(&mut connection);
        match tokio::time::timeout(timeout, added).await {
            Err(_) => Outcome::unreachable(format!("no answer to XADD {key} within {timeout:?}")),
            Ok(Err(e)) if e.code().is_some() => {
                // Redis answered, and refused this one (a key that is not a stream): it is up.
                let reason = format!("XADD {key} refused: {e}");
                Outcome {
                    error: Some(reason.clone()),
                    ..Outcome::of(Verdict::Retry {
                        reason,
                        retry_after: None,
                    })
                }
            }
            Ok(Err(e)) => Outcome::unreachable(format!("XADD {key} failed: {e}")),
            Ok(Ok(entry)) => Outcome {
                excerpt: Some(format!("stream {key} entry {entry}")),
                ..Outcome::delivered(None)
            },
        }
    }
}
