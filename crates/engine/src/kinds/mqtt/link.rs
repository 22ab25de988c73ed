//! One connection to the broker: the client, the task that drives it, and the publishes
//! waiting for their acknowledgement. The client sends publishes in the order they were
//! handed to it, so the n-th publish handed over is the n-th `Outgoing::Publish` the event
//! loop reports, which names its packet id; the acknowledgement names the same id.

use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS, Transport};
use std::{
    collections::{HashMap, VecDeque},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};
use tokio::sync::oneshot;

type Ack = oneshot::Sender<Result<(), String>>;

#[derive(Default)]
struct Waiting {
    /// Handed to the client, not yet sent: in the order they were handed over.
    queued: VecDeque<Ack>,
    /// Sent, by packet id.
    sent: HashMap<u16, Ack>,
}

#[derive(Clone)]
pub(super) struct Link {
    client: AsyncClient,
    waiting: Arc<Mutex<Waiting>>,
    alive: Arc<AtomicBool>,
}

impl Link {
    /// A client for `url`; it connects as the task drives it.
    pub fn open(url: &str, client_id: &str) -> Result<Link, String> {
        let options = options(url, client_id)?;
        let (client, mut events) = AsyncClient::new(options, 256);
        let link = Link {
            client,
            waiting: Arc::default(),
            alive: Arc::new(AtomicBool::new(true)),
        };
        let driven = link.clone();
        tokio::spawn(async move {
            let failed = loop {
                match events.poll().await {
                    Ok(event) => driven.on(event),
                    Err(e) => break e.to_string(),
                }
            };
            driven.close(&format!("the connection to the broker failed: {failed}"));
        });
        Ok(link)
    }

    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    /// Hands a publish to the client; the receiver answers when the broker has it.
    pub fn publish(
        &self,
        topic: &str,
        qos: QoS,
        retain: bool,
        body: bytes::Bytes,
    ) -> Result<oneshot::Receiver<Result<(), String>>, String> {
        let (ack, acked) = oneshot::channel();
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        (self.client.try_publish(topic, qos, retain, body.to_vec()))
            .map_err(|e| format!("MQTT: could not hand the publish to the client: {e}"))?;
        waiting.queued.push_back(ack);
        Ok(acked)
    }

    fn on(&self, event: Event) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            Event::Outgoing(Outgoing::Publish(pkid)) => {
                if let Some(ack) = waiting.queued.pop_front() {
                    waiting.sent.insert(pkid, ack);
                }
            }
            Event::Incoming(Packet::PubAck(a)) => done(&mut waiting, a.pkid),
            Event::Incoming(Packet::PubComp(c)) => done(&mut waiting, c.pkid),
            _ => {}
        }
    }

    /// The connection is gone: every publish waiting on it fails, and it is not used again.
    fn close(&self, why: &str) {
        self.alive.store(false, Ordering::Release);
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        let sent: Vec<Ack> = waiting.sent.drain().map(|(_, ack)| ack).collect();
        for ack in waiting.queued.drain(..).chain(sent) {
            let _ = ack.send(Err(why.to_owned()));
        }
    }
}

fn done(waiting: &mut Waiting, pkid: u16) {
    if let Some(ack) = waiting.sent.remove(&pkid) {
        let _ = ack.send(Ok(()));
    }
}

/// The client's options from `url`: host, port (1883, or 8883 for `mqtts://`), the user and
/// password it carries, TLS with the machine's roots for `mqtts://`.
fn options(url: &str, client_id: &str) -> Result<MqttOptions, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("MQTT URL: {e}"))?;
    let tls = parsed.scheme() == "mqtts";
    let port = parsed.port().unwrap_or(if tls { 8883 } else { 1883 });
    let host = parsed.host_str().unwrap_or_default().to_owned();
    let mut options = MqttOptions::new(client_id, host, port);
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_clean_session(true);
    if !parsed.username().is_empty() {
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        options.set_credentials(
            decode(parsed.username()),
            decode(parsed.password().unwrap_or("")),
        );
    }
    if tls {
        options.set_transport(Transport::tls_with_config(roots()?.into()));
    }
    Ok(options)
}

/// A TLS client configuration that trusts the machine's roots.
fn roots() -> Result<rustls::ClientConfig, String> {
    let store = crate::kinds::http::machine_roots();
    if store.is_empty() {
        return Err("MQTT over TLS: no root certificate found on this machine".into());
    }
    Ok(rustls::ClientConfig::builder()
        .with_root_certificates(store)
        .with_no_client_auth())
}
