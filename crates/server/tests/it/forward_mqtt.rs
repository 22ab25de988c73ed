//! Received reports published to an MQTT broker at QoS 1: a subscriber receives every one,
//! each call's in order; with the broker stopped for a while and started again, nothing is
//! lost.

use crate::{helpers::*, mqtt_broker::OwnBroker};
use ivrhook_testkit::mqtt::{machine_broker, mqtt_url, Subscriber};
use serde_json::Value;
use std::collections::HashSet;

fn destination(url: &str, topic: &str) -> String {
    format!(
        "[[destinations]]\nname = \"broker\"\nkind = \"mqtt\"\nurl = \"{url}\"\n\
         topic = \"{topic}\"\ntimeout = \"1s\"\n\
         retry_schedule = [\"0s\", \"200ms\", \"200ms\", \"200ms\", \"200ms\", \"200ms\", \"200ms\", \"200ms\", \"200ms\"]\n"
    )
}

/// The pass-through data of each message for `call`, in arrival order.
fn order(received: &[(String, Vec<u8>)], call: &str) -> Vec<String> {
    (received.iter())
        .map(|(_, body)| serde_json::from_slice::<Value>(body).unwrap())
        .filter(|v| v["callId"] == call)
        .map(|v| v["data"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_receives_every_report_in_call_order() {
    let root = format!("ivrtest/{}", std::process::id());
    let subscriber = Subscriber::start(machine_broker(), &format!("{root}/#"), false).await;
    let app = spawn_with(&destination(
        &mqtt_url(),
        &format!("{root}/{{app}}/{{status}}"),
    ))
    .await;
    for n in 0..4 {
        for call in ["mqtt-a", "mqtt-b"] {
            let body = call_report(call, n, u8::from(n == 3), None).to_string();
            assert_eq!(app.post_callback(body).await.code, "000000");
        }
    }
    delivered(&app, "broker", 8).await;
    eventually("every report at the subscriber", || async {
        subscriber.received().len() >= 8
    })
    .await;
    let received = subscriber.received();
    assert_eq!(received.len(), 8, "once each");
    for call in ["mqtt-a", "mqtt-b"] {
        assert_eq!(
            order(&received, call),
            ["n=0", "n=1", "n=2", "n=3"],
            "{call}"
        );
    }
    assert_eq!(received[7].0, format!("{root}/{APP}/hungup"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_stopped_and_started_again_loses_nothing() {
    let mut broker = OwnBroker::start().await;
    let subscriber = Subscriber::start(broker.addr, "ivrtest/stop/#", true).await;
    let app = spawn_with(&destination(&broker.url(), "ivrtest/stop/{call}")).await;
    let post = |from: u32| {
        let app = &app;
        async move {
            for n in from..from + 20 {
                let body = call_report(&format!("stop-{n}"), n, 0, None).to_string();
                assert_eq!(app.post_callback(body).await.code, "000000");
            }
        }
    };
    post(0).await;
    delivered(&app, "broker", 20).await;
    broker.stop().await;
    post(20).await;
    // Down: the new reports' attempts fail and wait for their next try.
    eventually("an attempt refused while the broker is down", || async {
        let (_, page) = app
            .get("/v1/deliveries?destination=broker&state=pending")
            .await;
        let pending = page["deliveries"].as_array().map_or(0, Vec::len);
        pending > 0 && page["deliveries"][0]["lastError"].is_string()
    })
    .await;
    broker.restart().await;
    delivered(&app, "broker", 40).await;
    eventually("every report at the subscriber", || async {
        let calls: HashSet<String> = (subscriber.received().iter())
            .map(|(topic, _)| topic.rsplit('/').next().unwrap().to_owned())
            .collect();
        calls.len() == 40
    })
    .await;
    app.stop().await;
}
