//! MQTT for the forwarding tests: the machine's Mosquitto (`TEST_MQTT_URL`, default
//! mqtt://127.0.0.1:1883), or a broker of a test's own that it can stop and start again, and a
//! subscriber at QoS 1 that keeps what it receives.

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::{
    net::SocketAddr,
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::process::{Child, Command};

/// What a subscriber received: (topic, payload), in arrival order.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

const START: &str = "mosquitto -d -c /etc/mosquitto/mosquitto.conf";

pub fn mqtt_url() -> String {
    std::env::var("TEST_MQTT_URL").unwrap_or_else(|_| "mqtt://127.0.0.1:1883".into())
}

/// A subscriber to `filter` at QoS 1 on the broker at `addr`; with `persistent`, its session
/// outlives its connection (messages published while it is away wait for it).
pub struct Subscriber {
    received: Received,
    _client: AsyncClient,
}

impl Subscriber {
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
    let url = reqwest::Url::parse(&mqtt_url()).unwrap();
    let host = url.host_str().unwrap();
    format!("{host}:{}", url.port().unwrap_or(1883))
        .parse()
        .unwrap()
}

/// A Mosquitto of the test's own, keeping its sessions on disk across a stop.
pub struct OwnBroker {
    pub addr: SocketAddr,
    dir: PathBuf,
    child: Option<Child>,
    _keep: tempfile::TempDir,
}

impl OwnBroker {
    pub async fn start() -> OwnBroker {
        let keep = tempfile::tempdir().expect("temp dir");
        let addr = crate::sink::free_addr().await;
        let dir = keep.path().to_owned();
        let config = format!(
            "listener {} 127.0.0.1\nallow_anonymous true\npersistence true\n\
             persistence_location {}/\nuser {}\n",
            addr.port(),
            dir.display(),
            // Run as root, Mosquitto becomes the `mosquitto` user, who cannot write here.
            std::env::var("USER").unwrap_or_else(|_| "root".into())
        );
        std::fs::write(dir.join("mosquitto.conf"), config).unwrap();
        let mut own = OwnBroker {
            addr,
            dir,
            child: None,
            _keep: keep,
        };
        own.restart().await;
        own
    }

    pub fn url(&self) -> String {
        format!("mqtt://{}", self.addr)
    }

    /// Starts the broker (again), and waits until it takes connections.
    pub async fn restart(&mut self) {
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(self.dir.join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("mosquitto starts ({e}); apt-get install mosquitto"));
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(self.addr).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "mosquitto did not listen"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the broker as an operator does (SIGTERM: it saves its sessions), and waits.
    pub async fn stop(&mut self) {
        let mut child = self.child.take().expect("running");
        let pid = child.id().expect("a pid") as i32;
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
        child.wait().await.unwrap();
    }
}
