//! The dashboard's actions: Retry on a dead delivery, a destination's bulk retry through its
//! confirmation, and the cross-site guard on every action (see `browser`).

use crate::{browser::*, helpers::*};
use serde_json::Value;

/// A sender whose app delivers to `url`, with a token when `token` is set.
async fn sender(url: &str, token: &str) -> TestApp {
    spawn_with(&format!(
        "{token}\n[[apps]]\nid = \"{APP}\"\ncallback_url = \"{url}\"\nretry_schedule = [\"0s\"]\n"
    ))
    .await
}

/// A receiver that refuses every report with `108100`: each is larger than it takes.
async fn refusing() -> TestApp {
    spawn_with("[inbound]\nmax_body_bytes = \"64B\"").await
}

async fn submit(app: &TestApp, body: &Value, token: Option<&str>) -> i64 {
    let mut req = app.client.post(app.url(&format!("/v1/apps/{APP}/events")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.body(body.to_string()).send().await.unwrap();
    let accepted: Value = resp.json().await.unwrap();
    accepted["deliveryId"]
        .as_i64()
        .unwrap_or_else(|| panic!("{accepted}"))
}

async fn state_of(app: &TestApp, id: i64) -> String {
    let (_, d) = app.get(&format!("/v1/deliveries/{id}")).await;
    d["delivery"]["state"].as_str().unwrap().to_owned()
}

async fn dead(app: &TestApp, id: i64) {
    eventually("the delivery to be dead", || async {
        state_of(app, id).await == "dead"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_delivery_is_retried_from_its_page_once_the_receiver_is_healthy() {
    let strict = refusing().await;
    let addr = strict.addr;
    let app = sender(&strict.url("/callback"), "").await;
    let id = submit(&app, &report("retry-me"), None).await;
    dead(&app, id).await;
    let b = browser().await;
    b.client
        .goto(&app.url("/deliveries?state=dead"))
        .await
        .unwrap();
    let rows = texts_of(&b.client, "table.deliveries tbody tr").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].contains("dead") && rows[0].contains("108100"),
        "{rows:?}"
    );
    screenshot(&b.client, "deliveries").await;
    fits_a_phone(&b.client, "deliveries").await;
    click(&b.client, "table.deliveries a").await;
    let attempts = texts_of(&b.client, "table.attempts tbody tr").await;
    assert!(
        attempts[0].contains("200") && attempts[0].contains("108100"),
        "{attempts:?}"
    );
    screenshot(&b.client, "delivery").await;

    // The same address now reaches a healthy receiver.
    strict.stop().await;
    let healthy = spawn_at(addr, "").await;
    // Pressed from the keyboard: the button focused, then Enter.
    let retry = b
        .client
        .find(fantoccini::Locator::Css("button.retry"))
        .await
        .unwrap();
    retry.send_keys("\u{E007}").await.unwrap();
    reload_until(&b.client, "td.state", "delivered").await;
    let attempts = texts_of(&b.client, "table.attempts tbody tr").await;
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert!(attempts[1].contains("000000"), "{attempts:?}");
    assert_eq!(healthy.timeline("retry-me").await.len(), 1);
    b.client.close().await.unwrap();
    healthy.stop().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_retry_says_how_many_it_sends_and_sends_them() {
    let strict = refusing().await;
    let addr = strict.addr;
    let app = sender(&strict.url("/callback"), "").await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(submit(&app, &report(&format!("bulk-{n}")), None).await);
    }
    for id in &ids {
        dead(&app, *id).await;
    }
    strict.stop().await;
    let healthy = spawn_at(addr, "").await;
    let b = browser().await;
    b.client.goto(&app.url("/destinations")).await.unwrap();
    click(&b.client, "table.destinations a").await;
    let count = text_of(&b.client, "p.count").await;
    assert!(
        count.starts_with(&format!("3 dead or pending deliveries to app:{APP}")),
        "{count}"
    );
    assert_eq!(
        text_of(&b.client, "#confirm").await,
        "Send these 3 deliveries now"
    );
    screenshot(&b.client, "bulk-retry").await;
    click(&b.client, "#confirm").await;
    assert_eq!(
        text_of(&b.client, "p.done").await,
        format!("3 deliveries to app:{APP} go now.")
    );
    for id in &ids {
        eventually("delivered", || async {
            state_of(&app, *id).await == "delivered"
        })
        .await;
    }
    b.client.close().await.unwrap();
    healthy.stop().await;
    app.stop().await;
}

/// `GET /v1/deliveries/{id}`: the delivery and its attempts.
async fn delivery(app: &TestApp, id: i64, token: &str) -> Value {
    let req = app.client.get(app.url(&format!("/v1/deliveries/{id}")));
    let resp = req.bearer_auth(token).send().await.unwrap();
    resp.json().await.unwrap()
}

/// The delivery's state and attempts in its round, through the API.
async fn shown(app: &TestApp, id: i64, token: &str) -> (String, i64) {
    let d = delivery(app, id, token).await;
    let d = &d["delivery"];
    (
        d["state"].as_str().unwrap().to_owned(),
        d["attempts"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn an_action_without_the_session_or_from_another_site_changes_nothing() {
    let token = "dash-token-000002";
    let app = sender(
        "http://127.0.0.1:9/callback",
        &format!("admin_token = \"{token}\""),
    )
    .await;
    let id = submit(&app, &report("guarded"), Some(token)).await;
    eventually("the delivery to be dead", || async {
        shown(&app, id, token).await == ("dead".into(), 1)
    })
    .await;
    let retry = format!("/deliveries/{id}/retry");
    let client = crate::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |headers: Vec<(&'static str, String)>| {
        let mut req = client.post(app.url(&retry));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post(vec![]).await, 401, "no session: the sign-in page");
    let signin = client
        .post(app.url("/signin"))
        .body(format!("token={token}"));
    let signin = signin.send().await.unwrap();
    let cookie = signin.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let session = || ("cookie", cookie.clone());
    let evil = ("origin", "http://evil.example".to_owned());
    assert_eq!(post(vec![session(), evil]).await, 403, "another origin");
    let cross = ("sec-fetch-site", "cross-site".to_owned());
    assert_eq!(post(vec![session(), cross]).await, 403, "another site");
    assert_eq!(
        shown(&app, id, token).await,
        ("dead".into(), 1),
        "nothing changed"
    );
    // The same request from the dashboard's own origin does retry it.
    let here = ("origin", format!("http://{}", app.addr));
    assert_eq!(post(vec![session(), here]).await, 303);
    // A retried dead delivery starts a new round (its `attempts` back to 0) and may be dead
    // again before it is looked at; what shows the retry is the second attempt on record.
    eventually("the retried delivery's second attempt", || async {
        let d = delivery(&app, id, token).await;
        d["attempts"].as_array().map_or(0, Vec::len) == 2
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn an_open_dashboard_still_refuses_actions_from_another_site() {
    let app = sender("http://127.0.0.1:9/callback", "").await;
    let id = submit(&app, &report("open-guarded"), None).await;
    let req = app.client.post(app.url(&format!("/deliveries/{id}/retry")));
    let resp = req
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = app
        .client
        .post(app.url(&format!("/destinations/app:{APP}/retry")));
    let resp = resp
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = app.client.post(app.url("/signout"));
    let resp = resp.header("origin", "http://evil.example");
    assert_eq!(
        resp.send().await.unwrap().status(),
        403,
        "nor signs anyone out"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_is_paused_and_resumed_from_the_destinations_page() {
    let crm = ivrhook_testkit::Sink::start().await;
    let app = spawn_with(&format!(
        "[[destinations]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"{}\"\n",
        crm.url()
    ))
    .await;
    let b = browser().await;
    b.client.goto(&app.url("/destinations")).await.unwrap();
    click(&b.client, "table.destinations button.switch").await;
    reload_until(&b.client, "table.destinations button.switch", "Resume").await;
    let row = text_of(&b.client, "table.destinations tbody tr").await;
    assert!(row.contains("paused"), "{row}");
    let body = call_report("paused-1", 0, 0, None).to_string();
    assert_eq!(app.post_callback(body).await.code, "000000");
    let (_, pending) = app
        .get("/v1/deliveries?destination=crm&state=pending")
        .await;
    assert_eq!(
        pending["deliveries"][0]["waiting"]["reason"], "paused",
        "{pending}"
    );
    click(&b.client, "table.destinations button.switch").await;
    reload_until(&b.client, "table.destinations button.switch", "Pause").await;
    delivered(&app, "crm", 1).await;
    let row = text_of(&b.client, "table.destinations tbody tr").await;
    assert!(!row.contains("paused"), "{row}");
    app.stop().await;
}
