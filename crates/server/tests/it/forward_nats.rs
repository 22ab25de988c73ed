//! Received reports published to NATS JetStream: once each, in call order, the message id
//! the same for every retry; a missing stream made on request; a dead server survived.

use crate::{
    helpers::*,
    nats::{fresh_stream, jetstream_at, messages, nats_url, OwnNats},
};
use serde_json::Value;

fn nats(url: &str, subject: &str, stream: &str, extra: &str) -> String {
    format!(
        "[[destinations]]\nname = \"bus\"\nkind = \"nats\"\nurl = \"{url}\"\n\
         subject = \"{subject}\"\nstream = \"{stream}\"\ntimeout = \"1s\"\n\
         retry_schedule = [\"0s\", \"200ms\", \"200ms\", \"200ms\", \"200ms\", \"200ms\", \"200ms\", \"200ms\"]\n{extra}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_reach_a_jetstream_stream_once_each_in_call_order() {
    let mut stream = fresh_stream("IVRTEST_ORDER", "ivrtest-order.>").await;
    let toml = nats(
        &nats_url(),
        "ivrtest-order.{app}.{status}",
        "IVRTEST_ORDER",
        "",
    );
    let app = spawn_with(&toml).await;
    let mut first = String::new();
    for n in 0..3 {
        for call in ["nats-a", "nats-b"] {
            let body = call_report(call, n, u8::from(n == 2), Some("1")).to_string();
            assert_eq!(app.post_callback(body.clone()).await.code, "000000");
            first = if first.is_empty() { body } else { first };
        }
    }
    assert_eq!(
        app.post_callback(first).await.code,
        "000000",
        "a platform retry"
    );
    delivered(&app, "bus", 6).await;
    let got = messages(&mut stream).await;
    assert_eq!(got.len(), 6, "once each: {got:?}");
    let ids: std::collections::HashSet<&String> = got.iter().map(|(_, id, _)| id).collect();
    assert_eq!(ids.len(), 6, "each message its own Nats-Msg-Id");
    for call in ["nats-a", "nats-b"] {
        let data: Vec<String> = got
            .iter()
            .map(|(_, _, body)| serde_json::from_slice::<Value>(body).unwrap())
            .filter(|v| v["callId"] == call)
            .map(|v| v["data"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(data, ["n=0", "n=1", "n=2"], "{call} in order");
    }
    let (subject, _, body) = &got[5];
    assert_eq!(subject, &format!("ivrtest-order.{APP}.hungup"));
    let v: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(
        (v["schemaVersion"].as_i64(), v["status"].as_str()),
        (Some(1), Some("hungup"))
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_stream_is_an_error_or_made_with_create_stream() {
    let js = jetstream_at(&nats_url()).await;
    let _ = js.delete_stream("IVRTEST_MADE").await;
    let toml = nats(&nats_url(), "ivrtest-made.{status}", "IVRTEST_MADE", "");
    let app = spawn_with(&toml).await;
    let body = call_report("made-1", 0, 0, None).to_string();
    assert_eq!(app.post_callback(body).await.code, "000000");
    eventually("the attempt recorded", || async {
        let (_, d) = app.get("/v1/deliveries?destination=bus").await;
        d["deliveries"][0]["lastError"].as_str().is_some()
    })
    .await;
    let (_, d) = app.get("/v1/deliveries?destination=bus").await;
    let error = d["deliveries"][0]["lastError"].as_str().unwrap().to_owned();
    assert!(
        error.contains("\"IVRTEST_MADE\" was not found") && error.contains("create_stream"),
        "{error}"
    );
    app.stop().await;

    let toml = nats(
        &nats_url(),
        "ivrtest-made.{status}",
        "IVRTEST_MADE",
        "create_stream = true",
    );
    let app = spawn_with(&toml).await;
    let body = call_report("made-2", 0, 0, None).to_string();
    assert_eq!(app.post_callback(body).await.code, "000000");
    delivered(&app, "bus", 1).await;
    let mut stream = js
        .get_stream("IVRTEST_MADE")
        .await
        .expect("the stream was made");
    let got = messages(&mut stream).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "ivrtest-made.completed");
    assert_eq!(stream.cached_info().config.subjects, ["ivrtest-made.*"]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_nats_server_fills_the_backlog_then_everything_arrives_once() {
    let mut server = OwnNats::start().await;
    let toml = nats(
        &server.url(),
        "dead.{call}",
        "DEAD",
        "create_stream = true\nmax_backlog = 3",
    );
    let app = spawn_with(&toml).await;
    let post = |n: u32| {
        let body = call_report(&format!("dead-{n}"), n, 0, None).to_string();
        app.post_callback(body)
    };
    assert_eq!(post(0).await.code, "000000");
    delivered(&app, "bus", 1).await;

    server.kill().await;
    for n in 1..4 {
        assert_eq!(post(n).await.code, "000000");
    }
    let refused = post(4).await;
    assert_eq!(refused.code, "108102");
    assert!(refused.msg.contains("destination bus"), "{}", refused.msg);
    let backlog = "ivrhook_destination_backlog{destination=\"bus\"}";
    eventually("the backlog in /metrics", || async {
        app.metric(backlog).await == 3.0
    })
    .await;

    server.restart().await;
    delivered(&app, "bus", 4).await;
    assert_eq!(post(4).await.code, "000000", "accepted again");
    delivered(&app, "bus", 5).await;
    let js = jetstream_at(&server.url()).await;
    let mut stream = js.get_stream("DEAD").await.expect("the stream");
    let got = messages(&mut stream).await;
    let mut calls: Vec<&str> = got.iter().map(|(s, _, _)| s.as_str()).collect();
    calls.sort();
    assert_eq!(
        calls,
        [
            "dead.dead-0",
            "dead.dead-1",
            "dead.dead-2",
            "dead.dead-3",
            "dead.dead-4"
        ]
    );
    app.stop().await;
}
