//! The report feed: a long poll that answers when a report is committed, named consumers
//! whose cursors outlive the server, and the event stream.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_answers_as_soon_as_a_report_is_committed() {
    let app = spawn_app().await;
    assert_eq!(
        app.post_callback(report("poll-0").to_string()).await.code,
        "000000"
    );
    let (_, page) = app.get("/v1/events").await;
    let next = page["next"].as_str().unwrap().to_owned();
    let (_, empty) = app.get(&format!("/v1/events?after={next}&wait=50ms")).await;
    assert_eq!(
        empty["events"],
        json!([]),
        "nothing newer: empty once the wait runs out"
    );
    assert_eq!(empty["next"], next.as_str());

    let poll = {
        let (client, url) = (
            app.client.clone(),
            app.url(&format!("/v1/events?after={next}&wait=60s")),
        );
        tokio::spawn(async move {
            client
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    waiting(&app, 1.0).await;
    assert_eq!(
        app.post_callback(report("poll-1").to_string()).await.code,
        "000000"
    );
    let answered = tokio::time::timeout(Duration::from_secs(30), poll)
        .await
        .expect("answered when the report arrived, not when the minute ran out")
        .unwrap();
    assert_eq!(answered["events"][0]["callId"], "poll-1");
    assert_eq!(answered["events"].as_array().unwrap().len(), 1);
    waiting(&app, 0.0).await;
    let (status, bad) = app.get("/v1/events?wait=10m").await;
    assert_eq!(
        (status, bad["error"]["field"].as_str()),
        (422, Some("wait"))
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_consumers_cursor_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("feed.db").display());
    let app = spawn_with_database(&url, "").await;
    for call in ["c-1", "c-2", "c-3"] {
        assert_eq!(
            app.post_callback(report(call).to_string()).await.code,
            "000000"
        );
    }
    let (_, first) = app.get("/v1/consumers/crm/events?limit=2").await;
    let calls: Vec<&str> = first["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["callId"].as_str().unwrap())
        .collect();
    assert_eq!(
        calls,
        ["c-1", "c-2"],
        "a new consumer starts at the beginning"
    );
    let (_, again) = app.get("/v1/consumers/crm/events?limit=2").await;
    assert_eq!(
        again["events"], first["events"],
        "reading does not move the cursor"
    );
    let ack = |cursor: Value| {
        let (client, url) = (app.client.clone(), app.url("/v1/consumers/crm/ack"));
        async move {
            let resp = client
                .post(url)
                .json(&json!({"cursor": cursor}))
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    let (status, acked) = ack(first["next"].clone()).await;
    assert_eq!((status, &acked["cursor"]), (200, &first["next"]));
    let (status, refused) = ack(json!("999999")).await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (422, Some("cursor"))
    );
    app.stop().await;

    let app = spawn_with_database(&url, "").await;
    let (_, rest) = app.get("/v1/consumers/crm/events").await;
    assert_eq!(rest["events"].as_array().unwrap().len(), 1);
    assert_eq!(
        rest["events"][0]["callId"], "c-3",
        "the cursor outlived the server"
    );
    let lag = "ivrhook_consumer_lag_reports{consumer=\"crm\"}";
    assert_eq!(app.metric(lag).await, 1.0);
    let (_, listed) = app.get("/v1/consumers").await;
    assert_eq!(listed["consumers"][0]["name"], "crm");
    app.stop().await;
}

/// Reads server-sent events from a response until `n` have arrived: (id, data) each.
async fn read_events(resp: &mut reqwest::Response, n: usize) -> Vec<(String, Value)> {
    let (mut text, mut events) = (String::new(), Vec::new());
    while events.len() < n {
        let chunk = tokio::time::timeout(Duration::from_secs(20), resp.chunk())
            .await
            .expect("an event within the deadline")
            .unwrap()
            .expect("the stream stays open");
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name).map(str::to_owned))
            };
            if let (Some(id), Some(data)) = (field("id:"), field("data:")) {
                events.push((
                    id.trim().to_owned(),
                    serde_json::from_str(data.trim()).unwrap(),
                ));
            }
        }
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_sends_new_reports_and_resumes_after_the_last_seen() {
    let app = spawn_app().await;
    assert_eq!(
        app.post_callback(report("before").to_string()).await.code,
        "000000"
    );
    let mut resp = app
        .client
        .get(app.url(&format!("/v1/events/stream?app={APP}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    waiting(&app, 1.0).await;
    let mut other = report("other-app");
    other["appId"] = "00000000000000000000000000000001".into();
    assert_eq!(app.post_callback(other.to_string()).await.code, "000000");
    for call in ["live-1", "live-2"] {
        assert_eq!(
            app.post_callback(report(call).to_string()).await.code,
            "000000"
        );
    }
    let events = read_events(&mut resp, 2).await;
    let calls: Vec<&str> = events
        .iter()
        .map(|(_, v)| v["callId"].as_str().unwrap())
        .collect();
    assert_eq!(
        calls,
        ["live-1", "live-2"],
        "new reports of the app only, in order"
    );
    drop(resp);

    let mut resumed = app
        .client
        .get(app.url("/v1/events/stream"))
        .header("last-event-id", &events[0].0)
        .send()
        .await
        .unwrap();
    let again = read_events(&mut resumed, 1).await;
    assert_eq!(
        again[0].1["callId"], "live-2",
        "resumed after the last event seen"
    );
    app.stop().await;
}
