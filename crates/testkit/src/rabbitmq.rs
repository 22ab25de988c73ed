//! RabbitMQ for the forwarding tests: the machine's broker (`TEST_AMQP_URL`, default
//! amqp://guest:guest@127.0.0.1:5672/%2f), an exchange and a durable queue per test, and an
//! outage made by stopping the broker's application (`rabbitmqctl stop_app`) and starting it
//! again. Tests that need the broker up hold `BROKER` shared; the outage holds it alone.
#![allow(missing_docs)] // each function's name and line say what it does

use lapin::{
    options::{
        BasicAckOptions, BasicGetOptions, ExchangeDeclareOptions, ExchangeDeleteOptions,
        QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
    },
    types::FieldTable,
    BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind,
};

pub static BROKER: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

const START: &str = "rabbitmq-server -detached, then rabbitmqctl await_startup";

pub fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// A test's exchange (topic) and a durable queue bound to it with `binding`.
#[derive(Debug)]
pub struct Topology {
    pub exchange: String,
    pub queue: String,
    _connection: Connection,
    channel: Channel,
}

pub async fn channel() -> (Connection, Channel) {
    let url = amqp_url();
    let connection = Connection::connect(&url, ConnectionProperties::default())
        .await
        .unwrap_or_else(|e| {
            panic!("RabbitMQ is not reachable at {url} ({e}); start it with: {START}")
        });
    let channel = connection.create_channel().await.expect("a channel");
    (connection, channel)
}

impl Topology {
    pub async fn declare(name: &str, binding: &str) -> Topology {
        let (connection, channel) = channel().await;
        let (exchange, queue) = (format!("ivrtest.{name}"), format!("ivrtest.{name}"));
        let _ = channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await;
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        };
        channel
            .exchange_declare(
                exchange.as_str().into(),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await
            .expect("declare the test exchange");
        let queue_options = QueueDeclareOptions {
            durable: true,
            ..Default::default()
        };
        channel
            .queue_declare(queue.as_str().into(), queue_options, FieldTable::default())
            .await
            .expect("declare the test queue");
        channel
            .queue_bind(
                queue.as_str().into(),
                exchange.as_str().into(),
                binding.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind the test queue");
        Topology {
            exchange,
            queue,
            _connection: connection,
            channel,
        }
    }

    /// Every message in the queue, taken off it: (routing key, properties, body).
    pub async fn drain(&self) -> Vec<(String, BasicProperties, Vec<u8>)> {
        let (_c, channel) = channel().await;
        let mut out = Vec::new();
        while let Some(m) = channel
            .basic_get(self.queue.as_str().into(), BasicGetOptions::default())
            .await
            .expect("basic.get")
        {
            let d = m.delivery;
            d.acker.ack(BasicAckOptions::default()).await.expect("ack");
            out.push((d.routing_key.to_string(), d.properties, d.data));
        }
        out
    }

    pub async fn remove(self) {
        let (_c, channel) = channel().await;
        let _ = channel
            .queue_delete(self.queue.as_str().into(), QueueDeleteOptions::default())
            .await;
        let _ = channel
            .exchange_delete(
                self.exchange.as_str().into(),
                ExchangeDeleteOptions::default(),
            )
            .await;
        drop(self.channel);
    }
}

/// Runs `rabbitmqctl <command>`, failing the test if it fails.
pub async fn rabbitmqctl(command: &str) {
    let out = tokio::process::Command::new("rabbitmqctl")
        .arg(command)
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!("cannot run rabbitmqctl ({e}): apt-get install rabbitmq-server")
        });
    assert!(
        out.status.success(),
        "rabbitmqctl {command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts the broker's application again when dropped, so a failing outage test does not
/// leave it stopped.
#[derive(Debug)]
pub struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        let _ = std::process::Command::new("rabbitmqctl")
            .arg("start_app")
            .output();
    }
}
