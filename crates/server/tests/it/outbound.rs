//! The sender end to end: events in through the API, out over real HTTP to a real receiver
//! (another ivrhook), with deliveries and attempts visible and retryable.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

/// A sender whose app delivers to `url`.
async fn sender(url: &str, extra: &str) -> TestApp {
    spawn_with(&format!(
        "[[apps]]\nid = \"{APP}\"\ncallback_url = \"{url}\"\n{extra}"
    ))
    .await
}

async fn submit(app: &TestApp, body: &Value, key: Option<&str>) -> (u16, Value) {
    let mut req = app
        .client
        .post(app.url(&format!("/v1/apps/{APP}/events")))
        .body(body.to_string());
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// Waits for a delivery to reach `state` after `attempts` attempts; returns it with them.
async fn delivery_after(app: &TestApp, id: &Value, state: &str, attempts: usize) -> Value {
    let mut last = Value::Null;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::time::Instant::now() < deadline {
        last = app.get(&format!("/v1/deliveries/{id}")).await.1;
        if last["delivery"]["state"] == state
            && last["attempts"].as_array().unwrap().len() == attempts
        {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("delivery {id} never became {state} after {attempts} attempts: {last}");
}

/// The delivery's `waiting` once its reason is `reason`, waiting up to 20 s for it.
async fn waiting_for(app: &TestApp, id: &Value, reason: &str) -> Value {
    let mut last = Value::Null;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::time::Instant::now() < deadline {
        last = app.get(&format!("/v1/deliveries/{id}")).await.1["delivery"]["waiting"].clone();
        if last["reason"] == reason {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("delivery {id} never waited for {reason}: {last}");
}

#[tokio::test]
async fn an_event_is_delivered_to_a_real_receiver_and_shown_on_both_sides() {
    let receiver = spawn_app().await;
    let app = sender(&receiver.url("/callback"), "").await;
    let body = report("out-1");
    let (status, accepted) = submit(&app, &body, None).await;
    assert_eq!(status, 202, "{accepted}");
    let done = delivery_after(&app, &accepted["deliveryId"], "delivered", 1).await;
    assert_eq!(done["attempts"][0]["code"], "000000");
    assert_eq!(done["attempts"][0]["httpStatus"], 200);
    let received = receiver.timeline("out-1").await;
    assert_eq!(
        received[0]["raw"],
        body.to_string(),
        "the exact bytes arrived"
    );
    let (_, call) = app.get("/v1/calls/out-1").await;
    assert_eq!(call["outbound"][0]["delivery"]["state"], "delivered");
    assert_eq!(call["outbound"][0]["body"]["callId"], "out-1");
    let series = format!(
        "ivrhook_delivery_attempts_total{{destination=\"app:{APP}\",outcome=\"delivered\"}}"
    );
    assert_eq!(app.metric(&series).await, 1.0);
    let backlog = format!("ivrhook_destination_backlog{{destination=\"app:{APP}\"}}");
    eventually("the backlog gauge to count nothing pending", || async {
        app.metric(&backlog).await == 0.0
    })
    .await;
    app.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_returns_the_first_event() {
    let receiver = spawn_app().await;
    let app = sender(&receiver.url("/callback"), "").await;
    let (s1, first) = submit(&app, &report("idem-1"), Some("k-1")).await;
    let (s2, again) = submit(&app, &report("idem-1"), Some("k-1")).await;
    assert_eq!((s1, s2), (202, 200));
    assert_eq!(first["eventId"], again["eventId"]);
    assert_eq!(again["duplicate"], true);
    let (s3, other) = submit(&app, &report("idem-1"), Some("k-2")).await;
    assert_eq!(s3, 202);
    assert_ne!(other["eventId"], first["eventId"]);

    // The same key with another body, of this call or another, is a conflict, not a repeat.
    let mut changed = report("idem-1");
    changed["status"] = json!(1);
    for body in [changed, report("idem-other")] {
        let (status, refused) = submit(&app, &body, Some("k-1")).await;
        assert_eq!(status, 422, "{refused}");
        assert_eq!(refused["error"]["field"], "Idempotency-Key", "{refused}");
        let expected = format!(
            "was used for event {} with a different body; a new event needs a new key",
            first["eventId"]
        );
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&expected),
            "{refused}"
        );
    }
    app.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn submissions_are_validated_naming_the_field() {
    let app = sender("http://127.0.0.1:9/cb", "").await;
    let mut bad = report("v-1");
    bad["status"] = json!(7);
    let (status, body) = submit(&app, &bad, None).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("status")),
        "{body}"
    );
    let mut other = report("v-1");
    other["appId"] = json!("ffffffffffffffffffffffffffffffff");
    let (status, body) = submit(&app, &other, None).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("appId")),
        "{body}"
    );
    let mut bare = report("v-1");
    bare["result"].as_array_mut().unwrap().push(json!("value"));
    let (status, body) = submit(&app, &bare, None).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("result[2]")),
        "strict: {body}"
    );
    let resp = app
        .client
        .post(app.url("/v1/apps/unknown/events"))
        .body(report("v-1").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    app.stop().await;
}

/// Submitting for an app the server does not have, and for one it has without a
/// `callback_url`, are told apart.
#[tokio::test]
async fn a_submission_without_a_callback_says_what_is_missing() {
    let other = "ffffffffffffffffffffffffffffffff";
    let app = spawn_with(&format!(
        "[[apps]]\nid = \"{APP}\"\n[[apps]]\nid = \"{other}\"\ncallback_url = \"http://127.0.0.1:9/cb\"\n"
    ))
    .await;
    let (status, body) = submit(&app, &report("n-1"), None).await;
    assert_eq!(status, 404, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("has no callback_url configured: sending needs one in its [[apps]] entry"),
        "{body}"
    );
    let unknown = "0123456789abcdef0123456789abcdef";
    let resp = app
        .client
        .post(app.url(&format!("/v1/apps/{unknown}/events")))
        .body(report("n-1").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("is not an app of this server"), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_dead_delivery_is_listed_and_can_be_retried_one_by_one_or_in_bulk() {
    // The receiver knows no such app: 108101, dead at once.
    let receiver = spawn_with("[[apps]]\nid = \"00000000000000000000000000000000\"").await;
    let app = sender(&receiver.url("/callback"), "").await;
    let (_, accepted) = submit(&app, &report("dead-1"), None).await;
    let id = &accepted["deliveryId"];
    let dead = delivery_after(&app, id, "dead", 1).await;
    assert!(dead["delivery"]["lastError"]
        .as_str()
        .unwrap()
        .contains("108101"));
    let (_, listed) = app
        .get(&format!("/v1/deliveries?state=dead&app={APP}"))
        .await;
    assert_eq!(listed["deliveries"][0]["id"], *id);
    let (_, none) = app.get("/v1/deliveries?state=delivered").await;
    assert_eq!(none["deliveries"], json!([]));

    let resp = app
        .client
        .post(app.url(&format!("/v1/deliveries/{id}/retry")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    delivery_after(&app, id, "dead", 2).await;
    let resp = app
        .client
        .post(app.url(&format!("/v1/apps/{APP}/deliveries/retry")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["retried"], 1);
    delivery_after(&app, id, "dead", 3).await;
    let resp = app
        .client
        .post(app.url(&format!("/v1/apps/{APP}/deliveries/retry")))
        .json(&json!({"from": "2001-01-01T00:00:00Z", "to": "2000-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let resp = app
        .client
        .post(app.url("/v1/deliveries/999999/retry"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    app.stop().await;
    receiver.stop().await;
}

/// A pending delivery says why it is not being sent: its next attempt's time, the earlier
/// delivery of its call it waits for, or the open circuit breaker of its destination.
#[tokio::test]
async fn a_pending_delivery_says_why_it_waits() {
    let app = sender(
        "http://127.0.0.1:9/cb",
        "retry_schedule = [\"0s\", \"1h\"]\n",
    )
    .await;
    let (_, first) = submit(&app, &report("w-1"), None).await;
    delivery_after(&app, &first["deliveryId"], "pending", 1).await;
    // The attempt is written before the sender lets go of the delivery: until it does, the
    // delivery is shown as being sent.
    let why = waiting_for(&app, &first["deliveryId"], "scheduled").await;
    assert!(why["at"].is_string(), "{why}");

    let (_, second) = submit(&app, &report("w-1"), None).await;
    let why = waiting_for(&app, &second["deliveryId"], "earlier_delivery_of_call").await;
    assert_eq!(why["deliveryId"], first["deliveryId"], "{why}");
    let (_, call) = app.get("/v1/calls/w-1").await;
    assert_eq!(
        call["outbound"][1]["delivery"]["waiting"]["reason"], "earlier_delivery_of_call",
        "the call's timeline says it too: {call}"
    );

    // Five more calls fail at once: the destination's breaker opens and holds them all.
    for n in 0..5 {
        let (_, e) = submit(&app, &report(&format!("w-b{n}")), None).await;
        delivery_after(&app, &e["deliveryId"], "pending", 1).await;
    }
    let why = waiting_for(&app, &first["deliveryId"], "breaker_open").await;
    assert!(why["until"].is_string(), "{why}");
    assert!(
        why["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("app:{APP}")),
        "{why}"
    );
    let (_, delivered) = app.get("/v1/deliveries?state=delivered").await;
    assert_eq!(delivered["deliveries"], json!([]), "only pending ones wait");
    app.stop().await;
}

/// Deliveries are paged as calls are: a full page names the next, the short last one says
/// `null`, and so does an empty listing.
#[tokio::test]
async fn deliveries_are_paged_like_calls_and_the_last_page_says_null() {
    let receiver = spawn_app().await;
    let app = sender(&receiver.url("/callback"), "").await;
    let (_, empty) = app.get("/v1/deliveries").await;
    assert_eq!(empty, json!({"deliveries": [], "next": null}));
    for i in 0..3 {
        assert_eq!(submit(&app, &report(&format!("pg-{i}")), None).await.0, 202);
    }
    let (_, first) = app.get("/v1/deliveries?limit=2").await;
    assert_eq!(first["deliveries"].as_array().unwrap().len(), 2, "{first}");
    let next = first["next"].as_str().expect("a full page names the next");
    let (_, last) = app
        .get(&format!("/v1/deliveries?limit=2&after={next}"))
        .await;
    assert_eq!(last["deliveries"][0]["callId"], "pg-2", "{last}");
    assert_eq!(last["next"], Value::Null, "the short last page: {last}");
    app.stop().await;
    receiver.stop().await;
}
