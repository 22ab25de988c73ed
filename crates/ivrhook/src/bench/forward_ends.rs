//! The business's ends of `bench forward`: the destinations a run forwards to, served or
//! subscribed to by the bench, and when each report arrived at each.

use axum::{body::Bytes, extract::State, routing::post, Router};
use futures_util::StreamExt;
use redis::AsyncCommands;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};
use tokio::time::Instant;

/// Which destinations a run forwards to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kinds {
    /// A webhook the bench serves and a NATS JetStream stream.
    WebhookNats,
    /// A Redis stream.
    Redis,
    /// An MQTT topic.
    Mqtt,
}

impl Kinds {
    /// `webhook-nats`, `redis` or `mqtt`, as `--kind` writes it.
    pub fn parse(text: &str) -> Result<Kinds, String> {
        match text {
            "webhook-nats" => Ok(Kinds::WebhookNats),
            "redis" => Ok(Kinds::Redis),
            "mqtt" => Ok(Kinds::Mqtt),
            other => Err(format!("{other:?} is not one of webhook-nats, redis, mqtt")),
        }
    }
}

/// Where the destinations' servers are.
#[derive(Debug, Clone)]
pub struct Servers {
    /// NATS with JetStream.
    pub nats: String,
    /// Redis.
    pub redis: String,
    /// An MQTT broker.
    pub mqtt: String,
}

/// When each callId arrived, per destination.
pub type Arrived = Mutex<HashMap<String, Instant>>;

/// The destinations of a run: their names, the configuration that makes them, and arrivals.
#[derive(Debug)]
pub struct Ends {
    /// Each destination's name, in the order of `arrivals`.
    pub names: Vec<&'static str>,
    /// The `[[destinations]]` entries.
    pub config: String,
    /// When each report arrived, per destination.
    pub arrivals: Vec<Arc<Arrived>>,
    stream: Option<(String, String)>,
}

impl Ends {
    /// Starts the bench's receiving ends for `kinds`.
    pub async fn start(kinds: Kinds, servers: &Servers) -> Result<Ends, String> {
        let run = std::process::id();
        match kinds {
            Kinds::WebhookNats => webhook_and_nats(&servers.nats, run).await,
            Kinds::Redis => redis_stream(&servers.redis, run).await,
            Kinds::Mqtt => mqtt_topic(&servers.mqtt, run).await,
        }
    }

    /// Removes what the run made on the servers (its JetStream stream).
    pub async fn finish(self) {
        if let Some((nats, stream)) = self.stream {
            if let Ok(client) = async_nats::connect(nats).await {
                let _ = async_nats::jetstream::new(client)
                    .delete_stream(stream)
                    .await;
            }
        }
    }
}

/// The callId of a forwarded report (compact JSON, so a scan finds it).
fn call_id(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("\"callId\":\"")? + 10;
    let len = text[start..].find('"')?;
    Some(text[start..start + len].to_owned())
}

fn arrived(map: &Arrived, body: &[u8]) {
    if let Some(call) = call_id(body) {
        let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(call).or_insert_with(Instant::now);
    }
}

async fn webhook(State(a): State<Arc<Arrived>>, body: Bytes) -> &'static str {
    arrived(&a, &body);
    "ok"
}

async fn webhook_and_nats(nats: &str, run: u32) -> Result<Ends, String> {
    let (at_hook, at_bus) = (Arc::new(Arrived::default()), Arc::new(Arrived::default()));
    let listener =
        (tokio::net::TcpListener::bind("127.0.0.1:0").await).map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}/hook",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let app = Router::new()
        .route("/hook", post(webhook))
        .with_state(Arc::clone(&at_hook));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = (async_nats::connect(nats).await).map_err(|e| format!("--nats {nats}: {e}"))?;
    let prefix = format!("ivrbench-{run}");
    let mut messages =
        (client.subscribe(format!("{prefix}.>")).await).map_err(|e| e.to_string())?;
    let seen = Arc::clone(&at_bus);
    tokio::spawn(async move {
        let _client = client;
        while let Some(m) = messages.next().await {
            arrived(&seen, &m.payload);
        }
    });
    let stream = format!("IVRBENCH_{run}");
    let config = format!(
        "[[destinations]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{url}\"\nmax_in_flight = 64\n\
         [[destinations]]\nname = \"bus\"\nkind = \"nats\"\nurl = \"{nats}\"\nmax_in_flight = 64\n\
         subject = \"{prefix}.{{app}}.{{status}}\"\nstream = \"{stream}\"\ncreate_stream = true\n"
    );
    Ok(Ends {
        names: vec!["webhook", "nats"],
        config,
        arrivals: vec![at_hook, at_bus],
        stream: Some((nats.to_owned(), stream)),
    })
}

async fn redis_stream(url: &str, run: u32) -> Result<Ends, String> {
    let client = redis::Client::open(url).map_err(|e| format!("--redis {url}: {e}"))?;
    let mut reader = (client.get_multiplexed_async_connection().await)
        .map_err(|e| format!("--redis {url}: {e}"))?;
    let key = format!("ivrbench-{run}");
    let _: () = reader.del(&key).await.map_err(|e| e.to_string())?;
    let at = Arc::new(Arrived::default());
    let (seen, read) = (Arc::clone(&at), key.clone());
    tokio::spawn(async move {
        let options = redis::streams::StreamReadOptions::default()
            .block(1000)
            .count(1000);
        let mut last = "0".to_owned();
        loop {
            let reply: redis::RedisResult<redis::streams::StreamReadReply> =
                reader.xread_options(&[&read], &[&last], &options).await;
            let Ok(reply) = reply else { return };
            for entry in reply.keys.into_iter().flat_map(|k| k.ids) {
                if let Some(redis::Value::BulkString(body)) = entry.map.get("body") {
                    arrived(&seen, body);
                }
                last = entry.id;
            }
        }
    });
    let config = format!(
        "[[destinations]]\nname = \"stream\"\nkind = \"redis\"\nurl = \"{url}\"\n\
         stream = \"{key}\"\nmax_in_flight = 64\n"
    );
    Ok(Ends {
        names: vec!["redis"],
        config,
        arrivals: vec![at],
        stream: None,
    })
}

async fn mqtt_topic(url: &str, run: u32) -> Result<Ends, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("--mqtt {url}: {e}"))?;
    let host = parsed.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = parsed.port().unwrap_or(1883);
    let mut options = rumqttc::MqttOptions::new(format!("ivrbench-sub-{run}"), host, port);
    options.set_keep_alive(std::time::Duration::from_secs(30));
    let (client, mut events) = rumqttc::AsyncClient::new(options, 1024);
    let topics = format!("ivrbench/{run}");
    // At QoS 1 the broker waits for the bench's acknowledgement of each message and, with
    // the bench busy sending load, queues past its limit (Mosquitto: 1000 a client) and
    // drops the rest; at QoS 0 it sends without waiting and the subscriber keeps up.
    (client
        .subscribe(format!("{topics}/#"), rumqttc::QoS::AtMostOnce)
        .await)
        .map_err(|e| e.to_string())?;
    let at = Arc::new(Arrived::default());
    let (seen, (ready, subscribed)) = (Arc::clone(&at), tokio::sync::oneshot::channel());
    tokio::spawn(async move {
        let (_client, mut ready) = (client, Some(ready));
        while let Ok(event) = events.poll().await {
            match event {
                rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_)) => {
                    let _ = ready.take().map(|r| r.send(()));
                }
                rumqttc::Event::Incoming(rumqttc::Packet::Publish(p)) => arrived(&seen, &p.payload),
                _ => {}
            }
        }
    });
    (subscribed.await).map_err(|_| format!("--mqtt {url}: no broker answered"))?;
    let config = format!(
        "[[destinations]]\nname = \"screens\"\nkind = \"mqtt\"\nurl = \"{url}\"\n\
         topic = \"{topics}/{{app}}/{{status}}\"\nmax_in_flight = 64\n"
    );
    Ok(Ends {
        names: vec!["mqtt"],
        config,
        arrivals: vec![at],
        stream: None,
    })
}
