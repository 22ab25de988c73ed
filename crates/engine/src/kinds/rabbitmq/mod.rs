//! RabbitMQ (AMQP 0.9.1): each forwarded report published persistent, with `mandatory` set,
//! on a channel in confirm mode; delivered on the broker's confirm. A message no queue is
//! bound for comes back (basic.return) and is dead with the reason instead of being dropped.
//!
//! The connection is made on the first delivery and kept; when it or its channel fails, it is
//! dropped and the next delivery makes a new one.

mod settings;

pub use settings::DEF;

use super::{body::BodyMode, template::Template};
use crate::outgoing::Outgoing;
use crate::transport::{Outcome, Transport};
use async_trait::async_trait;
use lapin::{
    options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions},
    types::FieldTable,
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};
use std::time::Duration;
use tokio::sync::Mutex;

/// A RabbitMQ destination as configured.
#[derive(Clone)]
pub struct Spec {
    /// `amqp://user:pass@host:port/vhost` (never logged).
    pub url: String,
    /// The exchange to publish to ("" is the default exchange, which routes by queue name).
    pub exchange: String,
    /// The routing key, filled per report.
    pub routing_key: Template,
    /// What each message carries.
    pub body: BodyMode,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("url", &super::shown(&self.url))
            .field("exchange", &self.exchange)
            .field("routing_key", &self.routing_key)
            .field("body", &self.body)
            .finish()
    }
}

/// A connection and its confirm-mode channel; `generation` tells a failed one from its
/// replacement, so a late failure does not drop a link that works.
struct Link {
    _connection: Connection,
    channel: Channel,
    generation: u64,
}

pub(crate) struct Rabbitmq {
    spec: Spec,
    link: Mutex<(Option<Link>, u64)>,
}

impl std::fmt::Debug for Rabbitmq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rabbitmq")
            .field("exchange", &self.spec.exchange)
            .finish_non_exhaustive()
    }
}

impl Rabbitmq {
    pub fn new(spec: Spec) -> Self {
        Rabbitmq {
            spec,
            link: Mutex::new((None, 0)),
        }
    }

    /// The channel to publish on, connecting the first time and after a failure.
    async fn channel(&self) -> Result<(Channel, u64), String> {
        let mut held = self.link.lock().await;
        if let Some(link) = &held.0 {
            return Ok((link.channel.clone(), link.generation));
        }
        let connection = Connection::connect(&self.spec.url, ConnectionProperties::default())
            .await
            .map_err(|e| format!("could not connect to RabbitMQ: {e}"))?;
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| format!("could not open a RabbitMQ channel: {e}"))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| format!("RabbitMQ refused publisher confirms: {e}"))?;
        if !self.spec.exchange.is_empty() {
            let passive = ExchangeDeclareOptions {
                passive: true,
                ..Default::default()
            };
            let exchange = self.spec.exchange.as_str();
            channel
                .exchange_declare(
                    exchange.into(),
                    ExchangeKind::Topic,
                    passive,
                    FieldTable::default(),
                )
                .await
                .map_err(|e| format!("RabbitMQ exchange {exchange:?} is not there: {e}"))?;
        }
        held.1 += 1;
        let generation = held.1;
        held.0 = Some(Link {
            _connection: connection,
            channel: channel.clone(),
            generation,
        });
        Ok((channel, generation))
    }

    /// Drops the link a failed publish used, unless it was replaced meanwhile.
    async fn forget(&self, generation: u64) {
        let mut held = self.link.lock().await;
        if held.0.as_ref().is_some_and(|l| l.generation == generation) {
            held.0 = None;
        }
    }

    async fn publish(&self, channel: &Channel, outgoing: &Outgoing) -> Result<Outcome, String> {
        let delivery = outgoing.claimed();
        let key = self
            .spec
            .routing_key
            .render(&delivery.payload, &delivery.call_id);
        let body = self.spec.body.render(outgoing);
        let properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type(self.spec.body.content_type().into())
            .with_message_id(format!("{}:d{}", delivery.call_id, delivery.delivery_id).into());
        let options = BasicPublishOptions {
            mandatory: true,
            immediate: false,
        };
        let exchange = self.spec.exchange.as_str();
        let confirm = channel
            .basic_publish(
                exchange.into(),
                key.as_str().into(),
                options,
                &body,
                properties,
            )
            .await
            .map_err(|e| format!("publishing failed: {e}"))?
            .await
            .map_err(|e| format!("no confirm from RabbitMQ: {e}"))?;
        Ok(match confirm {
            Confirmation::Ack(None) => Outcome::delivered(None),
            Confirmation::Ack(Some(returned)) => Outcome::dead(format!(
                "unroutable: exchange {exchange:?} has no queue bound for routing key {key:?} \
                 (RabbitMQ returned it: {} {})",
                returned.reply_code, returned.reply_text
            )),
            Confirmation::Nack(_) => {
                Outcome::unreachable("RabbitMQ refused the message (basic.nack)".into())
            }
            Confirmation::NotRequested => {
                return Err("the channel is not in confirm mode".into());
            }
        })
    }
}

#[async_trait]
impl Transport for Rabbitmq {
    async fn send(&self, delivery: &Outgoing, timeout: Duration) -> Outcome {
        let attempt = async {
            let (channel, generation) = self.channel().await?;
            let published = self.publish(&channel, delivery).await;
            if published.is_err() {
                self.forget(generation).await;
            }
            published
        };
        match tokio::time::timeout(timeout, attempt).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => Outcome::unreachable(e),
            Err(_) => {
                // The link may be stuck: the next delivery makes a new one.
                self.link.lock().await.0 = None;
                Outcome::unreachable(format!("no confirm from RabbitMQ within {timeout:?}"))
            }
        }
    }
}
