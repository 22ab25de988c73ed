//! The sender and forwarding never reach where they should not: a callback or webhook URL
//! naming a private, link-local or (on a server others can reach) loopback address, or a name
//! resolving to one, is refused with the reason in the attempt; `allow_private` lets it.

use crate::{helpers::*, sink::Sink};
use serde_json::Value;

/// A sender listening (as configured) on `listen`, whose app delivers to `url` once.
async fn sender(listen: &str, url: &str, extra: &str) -> TestApp {
    spawn_with(&format!(
        "listen = \"{listen}\"\n[[apps]]\nid = \"{APP}\"\ncallback_url = \"{url}\"\n\
         retry_schedule = [\"0s\"]\n{extra}"
    ))
    .await
}

/// Submits an event and waits for its delivery to finish: its state and last attempt.
async fn first_attempt(app: &TestApp) -> (String, Value) {
    let resp = app.client.post(app.url(&format!("/v1/apps/{APP}/events")));
    let resp = resp
        .body(report("reach-1").to_string())
        .send()
        .await
        .unwrap();
    let id = resp.json::<Value>().await.unwrap()["deliveryId"].clone();
    let path = format!("/v1/deliveries/{id}");
    eventually("the delivery to finish", || async {
        app.get(&path).await.1["delivery"]["state"] != "pending"
    })
    .await;
    let last = app.get(&path).await.1;
    let state = last["delivery"]["state"].as_str().unwrap().to_owned();
    (state, last["attempts"][0].clone())
}

#[tokio::test]
async fn private_and_link_local_addresses_are_refused_with_the_reason() {
    for (url, kind) in [
        ("http://10.255.255.1:9/cb", "a private address"),
        (
            "http://169.254.169.254/latest/meta-data",
            "a link-local address",
        ),
        ("http://[fd00::1]:9/cb", "a unique-local address"),
    ] {
        let app = sender("127.0.0.1:8080", url, "").await;
        let (state, attempt) = first_attempt(&app).await;
        assert_eq!(state, "dead", "{url}");
        let error = attempt["error"].as_str().unwrap();
        assert!(
            error.contains(kind) && error.contains("allow_private = true"),
            "{error}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_on_a_public_server_unless_allowed() {
    let sink = Sink::start().await;
    let url = format!("http://localhost:{}/hook", sink.addr.port());
    let app = sender("0.0.0.0:8080", &url, "").await;
    let (state, attempt) = first_attempt(&app).await;
    assert_eq!(state, "dead");
    let error = attempt["error"].as_str().unwrap();
    assert!(
        error.contains("localhost is 127.0.0.1, a loopback address: not sent"),
        "{error}"
    );
    assert!(sink.hits().is_empty(), "nothing reached it");
    app.stop().await;

    let app = sender("0.0.0.0:8080", &url, "allow_private = true").await;
    let (state, _) = first_attempt(&app).await;
    assert_eq!(state, "delivered");
    assert_eq!(sink.hits().len(), 1);
    app.stop().await;
}
