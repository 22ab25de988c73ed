//! MQTT for the forwarding tests: the machine's Mosquitto (`TEST_MQTT_URL`, default
//! mqtt://127.0.0.1:1883), and a subscriber at QoS 1 that keeps what it receives.

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

/// What a subscriber received: (topic, payload), in arrival order.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

const START: &str = "mosquitto -d -c /etc/mosquitto/mosquitto.conf";

/// The machine's broker's URL.
pub fn mqtt_url() -> String {
    std::env::var("TEST_MQTT_URL").unwrap_or_else(|_| "mqtt://127.0.0.1:1883".into())
}

/// A subscriber to `filter` at QoS 1 on the broker at `addr`; with `persistent`, its session
/// outlives its connection (messages published while it is away wait for it).
#[derive(Debug)]
pub struct Subscriber {
    received: Received,
    _client: AsyncClient,
}

impl Subscriber {
    /// Subscribes, and waits until the broker has the subscription.
    pub async fn start(addr: SocketAddr, filter: &str, persistent: bool) -> Subscriber {
        let id = format!("ivrtest-sub-{}-{}", std::process::id(), addr.port());
        let mut options = MqttOptions::new(id, addr.ip().to_string(), addr.port());
        options
            .set_clean_session(!persistent)
            .set_keep_alive(Duration::from_secs(5));
        let (client, mut events) = AsyncClient::new(options, 64);
        client.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
        let received: Received = Arc::default();
        let (subscribed, ready) = tokio::sync::oneshot::channel();
        let kept = Arc::clone(&received);
        tokio::spawn(async move {
            let mut subscribed = Some(subscribed);
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = subscribed.take().map(|s| s.send(()));
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        kept.lock().unwrap().push((p.topic, p.payload.to_vec()));
                    }
                    Ok(_) => {}
                    // The broker is away: the next poll connects again.
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        let subscribed = tokio::time::timeout(Duration::from_secs(10), ready).await;
        assert!(
            matches!(subscribed, Ok(Ok(()))),
            "no MQTT broker answers at {addr}; start the machine's with: {START}"
        );
        Subscriber {
            received,
            _client: client,
        }
    }

    /// Every message so far, in arrival order: (topic, payload).
    pub fn received(&self) -> Vec<(String, Vec<u8>)> {
        self.received.lock().unwrap().clone()
    }
}

/// The machine's broker's address.
pub fn machine_broker() -> SocketAddr {
    let url = mqtt_url();
    let rest = (url.strip_prefix("mqtt://")).expect("TEST_MQTT_URL is mqtt://host:port");
    let rest = rest.trim_end_matches('/');
    let with_port = match rest.contains(':') {
        true => rest.to_owned(),
        false => format!("{rest}:1883"),
    };
    let mut found = std::net::ToSocketAddrs::to_socket_addrs(&with_port).expect("an address");
    found.next().expect("an address")
}
