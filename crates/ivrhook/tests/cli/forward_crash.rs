//! SIGKILL with a backlog of forward deliveries to a webhook, NATS JetStream, RabbitMQ, a Redis
//! stream and an MQTT broker: after a restart everything is handed on to all five, and a message
//! published to JetStream before the kill but recorded after it is in the stream once (its
//! `Nats-Msg-Id` is the same when it is published again).

use crate::proc::*;
use async_nats::jetstream;
use ivrhook_testkit::{
    mqtt,
    rabbitmq::{self, Topology},
    redis_streams, Sink,
};
use serde_json::Value;
use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

const STREAM: &str = "IVRTEST_KILL";
const DUPLICATE: &str = "the stream already had this message";

async fn stream() -> jetstream::stream::Stream {
    let url = std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let client = async_nats::connect(&url).await.unwrap_or_else(|e| {
        panic!(
            "NATS is not reachable at {url} ({e}); start it with: start-stop-daemon --start \
                --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js \
                -sd /var/lib/nats-server"
        )
    });
    let js = jetstream::new(client);
    let _ = js.delete_stream(STREAM).await;
    js.create_stream(jetstream::stream::Config {
        name: STREAM.into(),
        subjects: vec!["ivrtest-kill.>".into()],
        ..Default::default()
    })
    .await
    .expect("create the test stream")
}

/// The callIds in the stream, with how many messages each has.
async fn in_stream(s: &mut jetstream::stream::Stream) -> HashMap<String, usize> {
    let last = s.info().await.unwrap().state.last_sequence;
    let mut seen = HashMap::new();
    for seq in 1..=last {
        let m = s.get_raw_message(seq).await.unwrap();
        let call = m.subject.trim_start_matches("ivrtest-kill.").to_owned();
        *seen.entry(call).or_insert(0) += 1;
    }
    seen
}

/// Waits until no delivery to `bus` is pending.
async fn drained(base: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let pending: Value = crate::http()
            .get(format!(
                "{base}/v1/deliveries?destination=bus&state=pending"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if pending["deliveries"].as_array().is_some_and(Vec::is_empty) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the backlog never drained"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Attempts of every delivery to `bus` that found its message already in the stream.
async fn republished(base: &str) -> usize {
    let client = crate::http();
    let (mut n, mut after) = (0, "0".to_owned());
    loop {
        let page: Value = client
            .get(format!(
                "{base}/v1/deliveries?destination=bus&limit=1000&after={after}"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let deliveries = page["deliveries"].as_array().unwrap();
        if deliveries.is_empty() {
            return n;
        }
        for d in deliveries {
            let one: Value = client
                .get(format!("{base}/v1/deliveries/{}", d["id"]))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            n += one["attempts"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["warning"].as_str().is_some_and(|w| w.contains(DUPLICATE)))
                .count();
        }
        match page["next"].as_str() {
            Some(next) => after = next.to_owned(),
            None => return n,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_a_forward_backlog_hands_everything_on_and_jetstream_keeps_it_once() {
    let (_guard, dir) = temp_dir();
    let mut s = stream().await;
    let hooked = Sink::start().await;
    let hook = hooked.url();
    let nats = std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let (redis, key) = (
        redis_streams::redis_url(),
        redis_streams::fresh_key("kill").await,
    );
    let topics = format!("ivrtest-kill/{}", std::process::id());
    let filter = format!("{topics}/#");
    let screens = mqtt::Subscriber::start(mqtt::machine_broker(), &filter, false).await;
    let archive = Topology::declare("kill", "#").await;
    std::fs::write(
        dir.join("ivrhook.toml"),
        format!(
            "[[destinations]]\nname = \"bus\"\nkind = \"nats\"\nurl = \"{nats}\"\n\
             subject = \"ivrtest-kill.{{call}}\"\nstream = \"{STREAM}\"\nmax_in_flight = 64\n\
             [[destinations]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"{hook}\"\n\
             [[destinations]]\nname = \"stream\"\nkind = \"redis\"\nurl = \"{redis}\"\n\
             stream = \"{key}\"\nfields = true\n\
             [[destinations]]\nname = \"screens\"\nkind = \"mqtt\"\nurl = \"{}\"\n\
             topic = \"{topics}/{{call}}\"\n\
             [[destinations]]\nname = \"archive\"\nkind = \"rabbitmq\"\nurl = \"{}\"\n\
             exchange = \"{}\"\nrouting_key = \"{{call}}\"\n",
            mqtt::mqtt_url(),
            rabbitmq::amqp_url(),
            archive.exchange,
        ),
    )
    .unwrap();
    // The calls each of the Redis stream and the MQTT subscriber has.
    let in_redis = || async {
        let entries = redis_streams::entries(&key).await;
        let call =
            |e: &HashMap<String, Vec<u8>>| String::from_utf8_lossy(&e["callId"]).into_owned();
        entries.iter().map(call).collect::<HashSet<String>>()
    };
    let at_screens = || -> HashSet<String> {
        (screens.received().iter())
            .map(|(topic, _)| topic.rsplit('/').next().unwrap_or_default().to_owned())
            .collect()
    };
    // Kill while forwarding until a message published before a kill is seen again after it;
    // each round kills a node with deliveries in flight.
    for round in 0..10 {
        let mut server = serve(&dir, &["--config", "ivrhook.toml"]).await;
        let load = Load::named(&server.base, 16, &format!("kill{round}"));
        load.wait_for_acks(300).await;
        server.child.start_kill().expect("SIGKILL sent");
        server.child.wait().await.unwrap();
        load.finish().await;
        let mut again = serve(&dir, &["--config", "ivrhook.toml"]).await;
        drained(&again.base).await;
        let sent_again = republished(&again.base).await;
        again.child.start_kill().unwrap();
        again.child.wait().await.unwrap();
        eprintln!("round {round}: {sent_again} published again after the kill");
        if sent_again > 0 {
            break;
        }
    }
    let mut server = serve(&dir, &["--config", "ivrhook.toml"]).await;
    let stored: HashSet<String> = stored_call_ids(&server.base).await.into_iter().collect();
    // The calls taken off the RabbitMQ queue so far.
    let mut queued = HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let at_hook = hooked.by_call().len();
        let (redis, screens) = (in_redis().await.len(), at_screens().len());
        queued.extend(archive.drain().await.into_iter().map(|(call, _, _)| call));
        let all = [
            in_stream(&mut s).await.len(),
            at_hook,
            queued.len(),
            redis,
            screens,
        ];
        if all.iter().all(|n| *n >= stored.len()) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not everything was handed on"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = in_stream(&mut s).await;
    let keys: HashSet<String> = seen.keys().cloned().collect();
    assert_eq!(keys, stored, "every stored report in the stream");
    let hooked: HashSet<String> = hooked.by_call().into_keys().collect();
    assert_eq!(hooked, stored, "every stored report at the webhook");
    assert_eq!(queued, stored, "every stored report in the RabbitMQ queue");
    assert_eq!(
        in_redis().await,
        stored,
        "every stored report in the Redis stream"
    );
    assert_eq!(
        at_screens(),
        stored,
        "every stored report at the MQTT subscriber"
    );
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "in the stream more than once: {twice:?}");
    assert!(
        republished(&server.base).await > 0,
        "no message published before a kill was published again after it"
    );
    server.child.start_kill().unwrap();
    archive.remove().await;
}
