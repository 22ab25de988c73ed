//! Received reports added to a Redis stream: byte for byte, in call order, with the fields
//! asked for; trimmed by `max_len`; every acknowledged report there after the connection is
//! killed under load, a copy only ever with the same idempotency key.

use crate::helpers::*;
use ivrhook_testkit::redis_streams::*;
use redis::AsyncCommands;
use std::collections::{HashMap, HashSet};

fn destination(key: &str, extra: &str) -> String {
    destination_at(&redis_url(), key, extra)
}

fn destination_at(url: &str, key: &str, extra: &str) -> String {
    format!(
        "[[destinations]]\nname = \"stream\"\nkind = \"redis\"\nurl = \"{url}\"\n\
         stream = \"{key}\"\ntimeout = \"1s\"\n\
         retry_schedule = [\"0s\", \"200ms\", \"200ms\", \"200ms\", \"200ms\", \"200ms\", \"200ms\"]\n{extra}\n"
    )
}

fn text(entry: &HashMap<String, Vec<u8>>, field: &str) -> String {
    String::from_utf8(entry[field].clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_reach_a_stream_byte_for_byte_in_call_order_with_their_fields() {
    let key = fresh_key("order").await;
    let app = spawn_with(&destination(&key, "body = \"raw\"\nfields = true")).await;
    let mut sent = Vec::new();
    for n in 0..3 {
        for call in ["redis-a", "redis-b"] {
            let body = call_report(call, n, u8::from(n == 2), Some("1")).to_string();
            assert_eq!(app.post_callback(body.clone()).await.code, "000000");
            sent.push((call, body));
        }
    }
    assert_eq!(
        app.post_callback(sent[0].1.clone()).await.code,
        "000000",
        "a platform retry"
    );
    delivered(&app, "stream", 6).await;
    let got = entries(&key).await;
    assert_eq!(got.len(), 6, "once each");
    for call in ["redis-a", "redis-b"] {
        let bodies: Vec<Vec<u8>> = (got.iter())
            .filter(|e| text(e, "callId") == call)
            .map(|e| e["body"].clone())
            .collect();
        let posted: Vec<Vec<u8>> = (sent.iter())
            .filter(|(c, _)| *c == call)
            .map(|(_, b)| b.clone().into_bytes())
            .collect();
        assert_eq!(
            bodies, posted,
            "{call}: the platform's bytes, in call order"
        );
    }
    let last = &got[5];
    assert_eq!(
        (text(last, "appId"), text(last, "code")),
        (APP.to_owned(), "1".to_owned())
    );
    let keys: HashSet<String> = got.iter().map(|e| text(e, "idempotency_key")).collect();
    assert_eq!(keys.len(), 6, "each entry its own idempotency key");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_len_trims_the_stream_and_the_decoded_body_is_the_documented_form() {
    let key = fresh_key("trim").await;
    let app = spawn_with(&destination(&key, "max_len = 10")).await;
    for n in 0..300 {
        let body = call_report(&format!("trim-{n}"), n, 0, None).to_string();
        assert_eq!(app.post_callback(body).await.code, "000000");
    }
    delivered(&app, "stream", 300).await;
    let length: usize = connection().await.xlen(&key).await.unwrap();
    // Trimming with `~` removes whole nodes of the stream (100 entries each by default).
    assert!((10..300).contains(&length), "trimmed to about 10: {length}");
    let got = entries(&key).await;
    let bodies: Vec<serde_json::Value> = (got.iter())
        .map(|e| serde_json::from_slice(&e["body"]).unwrap())
        .collect();
    assert!(
        bodies.iter().all(|b| b["schemaVersion"] == 1),
        "the documented form"
    );
    assert!(
        bodies.iter().any(|b| b["callId"] == "trim-299"),
        "the newest are kept"
    );
    assert!(
        !bodies.iter().any(|b| b["callId"] == "trim-0"),
        "the oldest are trimmed"
    );
    assert!(!got[0].contains_key("callId"), "no fields unless asked for");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_killed_under_load_lose_nothing_and_copy_only_with_the_same_key() {
    // A database of its own, so that only this test's connections are killed.
    const DB: u8 = 9;
    let url = redis_url_db(DB);
    let key = fresh_key_at(&url, "kill").await;
    let app = spawn_with(&destination_at(
        &url,
        &key,
        "fields = true\nmax_in_flight = 8",
    ))
    .await;
    let mut killer = connection_to(&url).await;
    let (mut calls, mut killed) = (Vec::new(), 0);
    for n in 0..200 {
        let call = format!("kill-{n}");
        let body = call_report(&call, n, 0, None).to_string();
        assert_eq!(app.post_callback(body).await.code, "000000");
        calls.push(call);
        if n % 50 == 25 {
            killed += kill_clients_of(&mut killer, DB).await;
        }
    }
    assert!(killed > 0, "ivrhook's connection was killed under load");
    delivered(&app, "stream", 200).await;
    let got = entries_at(&url, &key).await;
    let arrived: HashSet<String> = got.iter().map(|e| text(e, "callId")).collect();
    assert_eq!(
        arrived,
        calls.iter().cloned().collect(),
        "every acknowledged report"
    );
    let mut keys_of: HashMap<String, HashSet<String>> = HashMap::new();
    for e in &got {
        keys_of
            .entry(text(e, "callId"))
            .or_default()
            .insert(text(e, "idempotency_key"));
    }
    assert!(
        keys_of.values().all(|k| k.len() == 1),
        "a copy carries its first's key"
    );
    app.stop().await;
}
