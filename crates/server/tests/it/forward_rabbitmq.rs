//! Received reports published to RabbitMQ: persistent, once each, in call order, confirmed by
//! the broker; an unroutable one dead with the reason; a broker outage survived.

use crate::helpers::*;
use ivrhook_testkit::rabbitmq::{amqp_url, rabbitmqctl, Restart, Topology, BROKER};
use serde_json::Value;

fn rabbitmq(exchange: &str, routing_key: &str, extra: &str) -> String {
    format!(
        "[[destinations]]\nname = \"archive\"\nkind = \"rabbitmq\"\nurl = \"{}\"\n\
         exchange = \"{exchange}\"\nrouting_key = \"{routing_key}\"\ntimeout = \"2s\"\n\
         retry_schedule = [\"0s\", \"200ms\", \"200ms\", \"200ms\", \"200ms\", \"200ms\", \"200ms\", \"200ms\"]\n{extra}\n",
        amqp_url()
    )
}

async fn count(app: &TestApp, state: &str) -> usize {
    let path = format!("/v1/deliveries?destination=archive&state={state}&limit=1000");
    app.get(&path).await.1["deliveries"]
        .as_array()
        .map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_reach_a_queue_persistent_once_each_in_call_order() {
    let _up = BROKER.read().await;
    let topology = Topology::declare("order", "#").await;
    let app = spawn_with(&rabbitmq(&topology.exchange, "{app}.{status}", "")).await;
    let mut first = String::new();
    for n in 0..3 {
        for call in ["amqp-a", "amqp-b"] {
            let body = call_report(call, n, 0, Some("1")).to_string();
            assert_eq!(app.post_callback(body.clone()).await.code, "000000");
            first = if first.is_empty() { body } else { first };
        }
    }
    assert_eq!(
        app.post_callback(first).await.code,
        "000000",
        "a platform retry"
    );
    delivered(&app, "archive", 6).await;
    let got = topology.drain().await;
    assert_eq!(got.len(), 6, "once each");
    for call in ["amqp-a", "amqp-b"] {
        let data: Vec<String> = got
            .iter()
            .map(|(_, _, body)| serde_json::from_slice::<Value>(body).unwrap())
            .filter(|v| v["callId"] == call)
            .map(|v| v["data"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(data, ["n=0", "n=1", "n=2"], "{call} in order");
    }
    let (key, properties, body) = &got[0];
    assert_eq!(key, &format!("{APP}.completed"));
    assert_eq!(properties.delivery_mode(), &Some(2), "persistent");
    assert_eq!(
        properties.content_type().as_ref().map(|c| c.as_str()),
        Some("application/json")
    );
    let v: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(v["schemaVersion"], 1);
    app.stop().await;
    topology.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unroutable_report_is_dead_with_the_reason_not_dropped() {
    let _up = BROKER.read().await;
    let topology = Topology::declare("unroutable", "only.this.key").await;
    let app = spawn_with(&rabbitmq(&topology.exchange, "{app}.{status}", "")).await;
    let body = call_report("amqp-lost", 0, 0, None).to_string();
    assert_eq!(app.post_callback(body).await.code, "000000");
    eventually("the delivery dead", || async {
        count(&app, "dead").await == 1
    })
    .await;
    let (_, d) = app.get("/v1/deliveries?destination=archive").await;
    let reason = d["deliveries"][0]["lastError"].as_str().unwrap().to_owned();
    assert!(
        reason.starts_with("unroutable:") && reason.contains("NO_ROUTE"),
        "{reason}"
    );
    assert!(topology.drain().await.is_empty());
    app.stop().await;
    topology.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_broker_fills_the_backlog_then_everything_arrives_once() {
    let _alone = BROKER.write().await;
    let topology = Topology::declare("outage", "#").await;
    let toml = rabbitmq(&topology.exchange, "{call}", "max_backlog = 3");
    let app = spawn_with(&toml).await;
    let post = |n: u32| {
        let body = call_report(&format!("outage-{n}"), n, 0, None).to_string();
        app.post_callback(body)
    };
    assert_eq!(post(0).await.code, "000000");
    delivered(&app, "archive", 1).await;

    let restart = Restart;
    rabbitmqctl("stop_app").await;
    for n in 1..4 {
        assert_eq!(post(n).await.code, "000000");
    }
    let refused = post(4).await;
    assert_eq!(refused.code, "108102");
    assert!(
        refused.msg.contains("destination archive"),
        "{}",
        refused.msg
    );
    let backlog = "ivrhook_destination_backlog{destination=\"archive\"}";
    eventually("the backlog in /metrics", || async {
        app.metric(backlog).await == 3.0
    })
    .await;

    rabbitmqctl("start_app").await;
    drop(restart);
    delivered(&app, "archive", 4).await;
    assert_eq!(post(4).await.code, "000000", "accepted again");
    delivered(&app, "archive", 5).await;
    let mut keys: Vec<String> = topology
        .drain()
        .await
        .into_iter()
        .map(|(k, _, _)| k)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["outage-0", "outage-1", "outage-2", "outage-3", "outage-4"]
    );
    app.stop().await;
    topology.remove().await;
}
