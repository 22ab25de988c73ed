//! The /v1 API, health, metrics and the answers for paths that do not exist.

use crate::helpers::*;
use serde_json::{json, Value};

#[tokio::test]
async fn the_admin_token_guards_v1_only() {
    let app = spawn_with("admin_token = \"s3cret\"").await;
    assert_eq!(
        app.post_callback(report("t-1").to_string()).await.code,
        "000000"
    );
    let (status, body) = app.get("/v1/calls/t-1").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["kind"], "unauthorized");
    let wrong = app
        .client
        .get(app.url("/v1/calls/t-1"))
        .bearer_auth("s3creT")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = app
        .client
        .get(app.url("/v1/calls/t-1"))
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert_eq!(app.get("/healthz").await.0, 200);
    app.stop().await;
}

#[tokio::test]
async fn events_page_through_every_report_in_order() {
    let app = spawn_app().await;
    for i in 0..5 {
        assert_eq!(
            app.post_callback(report(&format!("p-{i}")).to_string())
                .await
                .code,
            "000000"
        );
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = app.get(&format!("/v1/events?after={cursor}&limit=2")).await;
        assert_eq!(status, 200);
        let events = page["events"].as_array().unwrap();
        if events.is_empty() {
            break;
        }
        assert!(events.len() <= 2);
        seen.extend(
            events
                .iter()
                .map(|e| e["callId"].as_str().unwrap().to_owned()),
        );
        cursor = page["next"].as_str().unwrap().to_owned();
    }
    assert_eq!(seen, ["p-0", "p-1", "p-2", "p-3", "p-4"]);
    // The same feed under the name its items have: received reports.
    let (_, page) = app.get("/v1/reports?limit=2").await;
    let calls: Vec<&str> = (page["reports"].as_array().unwrap().iter())
        .map(|r| r["callId"].as_str().unwrap())
        .collect();
    assert_eq!(
        (calls, page.get("events")),
        (vec!["p-0", "p-1"], None),
        "{page}"
    );
    let (_, named) = app.get("/v1/consumers/crm/reports?limit=1").await;
    assert_eq!(named["reports"][0]["callId"], "p-0", "{named}");
    let stream = app
        .client
        .get(app.url("/v1/reports/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let (status, body) = app.get("/v1/events?limit=0").await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("limit"))
    );
    let (status, body) = app.get("/v1/events?after=abc").await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("after"))
    );
    // A filter an endpoint does not have is refused by name, never silently ignored.
    for path in [
        "/v1/events?app=x",
        "/v1/events/stream?appId=x",
        "/v1/deliveries?call=x",
        "/v1/consumers/c/events?after=1",
    ] {
        let (status, body) = app.get(path).await;
        let field = path.split('?').nth(1).unwrap().split('=').next().unwrap();
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (422, Some(field)),
            "{path}: {body}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("is not a query parameter of this endpoint (expected "),
            "{message}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn health_metrics_and_json_errors_for_unknown_paths() {
    let app = spawn_app().await;
    assert_eq!(
        app.get("/healthz").await,
        (200, serde_json::json!({"status": "ok"}))
    );
    app.post_callback("{").await;
    assert_eq!(
        app.metric("ivrhook_inbound_reports_total{code=\"108100\"}")
            .await,
        1.0
    );
    assert_eq!(
        app.metric("ivrhook_inbound_request_duration_seconds_count")
            .await,
        1.0
    );
    assert_eq!(
        app.post_callback(report("m-1").to_string()).await.code,
        "000000"
    );
    assert!(app.metric("ivrhook_store_write_batch_size_count").await >= 1.0);
    let (status, body) = app.get("/nope").await;
    assert_eq!(
        (status, body["error"]["kind"].clone()),
        (404, Value::from("not_found"))
    );
    let (status, body) = app.get("/callback").await;
    assert_eq!(
        (status, body["error"]["kind"].clone()),
        (405, Value::from("method_not_allowed"))
    );
    let (status, _) = app.get("/v1/calls/never-seen").await;
    assert_eq!(status, 404);
    let (status, body) = app.get("/v1/calls/%FF%FE").await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("path")),
        "{body}"
    );
    let resp = app
        .client
        .post(app.url("/v1/apps/a/calls"))
        .body("x".repeat(3 << 20))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"]["field"],
        "body"
    );
    app.stop().await;
}

/// The configuration as loaded, with each destination's state, and never a credential.
#[tokio::test]
async fn apps_and_destinations_show_the_configuration_without_credentials() {
    let config = format!(
        "[[apps]]\nid = \"{APP}\"\ncallback_url = \"http://u:app-pw@127.0.0.1:9/cb?token=app-tok\"\n\
         secret = \"{SECRET}\"\nmax_in_flight = 4\n\
         [[destinations]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/h\"\n\
         headers = {{ \"Authorization\" = \"Bearer hook-secret\" }}\n\
         [destinations.filter]\nstatus = \"hungup\"\ndtmf = \"*\"\n\
         [[destinations]]\nname = \"archive\"\nkind = \"rabbitmq\"\n\
         url = \"amqp://guest:amqp-pw@127.0.0.1:5672/%2f\"\nexchange = \"ivr\"\nrouting_key = \"{{app}}.{{status}}\"\n"
    );
    let app = spawn_with(&config).await;
    let (status, apps) = app.get("/v1/apps").await;
    assert_eq!(status, 200);
    let (status, dests) = app.get("/v1/destinations").await;
    assert_eq!(status, 200);
    let text = format!("{apps}{dests}");
    for secret in ["app-pw", "app-tok", "MfKQ9r8", "hook-secret", "amqp-pw"] {
        assert!(!text.contains(secret), "{secret} shown: {text}");
    }
    let callback = &apps["apps"][0]["callback"];
    assert_eq!(callback["url"], "http://u:***@127.0.0.1:9/cb", "{apps}");
    assert_eq!(
        (callback["signed"].clone(), callback["maxInFlight"].clone()),
        (json!(true), json!(4))
    );
    assert_eq!(apps["acceptsAnyApp"], false);
    let crm = &dests["destinations"][0];
    assert_eq!(crm["name"], "crm");
    assert_eq!(crm["headers"], json!(["authorization"]), "{crm}");
    assert_eq!(crm["route"]["filter"]["status"], "hungup");
    assert_eq!(crm["route"]["filter"]["dtmf"], "*");
    assert_eq!(crm["now"]["breaker"], "closed", "{crm}");
    assert_eq!(crm["now"]["backlog"], 0, "{crm}");
    let archive = &dests["destinations"][1];
    assert_eq!(archive["routingKey"], "{app}.{status}", "{archive}");
    assert_eq!(
        archive["url"], "amqp://guest:***@127.0.0.1:5672/%2f",
        "{archive}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_single_report_by_id() {
    let app = spawn_app().await;
    app.post_callback(report("one-1").to_string()).await;
    app.post_callback(report("one-2").to_string()).await;
    let (status, body) = app.get("/v1/reports/2").await;
    assert_eq!(
        (status, body["report"]["callId"].as_str()),
        (200, Some("one-2")),
        "{body}"
    );
    let (status, _) = app.get("/v1/reports/3").await;
    assert_eq!(status, 404);
    let (status, body) = app.get("/v1/reports/x").await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("id")));
    app.stop().await;
}

/// Calls by their latest report, newest first, each on exactly one page.
#[tokio::test]
async fn calls_are_listed_newest_first_with_their_outcome_and_keys() {
    let app = spawn_app().await;
    app.post_callback(report("ca").to_string()).await;
    app.post_callback(report("cb").to_string()).await;
    let mut hung_up = report("ca");
    hung_up["status"] = json!(1);
    hung_up["hungup"] = json!({"event": "", "dir": 1, "fileName": "https://r.example/ca.wav",
                               "reason": 16, "timeStamp": "20180112172330000"});
    app.post_callback(hung_up.to_string()).await;
    app.post_callback(report("cc").to_string()).await;

    let (status, first) = app.get("/v1/calls?limit=2").await;
    assert_eq!(status, 200, "{first}");
    let ids = |page: &Value| -> Vec<String> {
        (page["calls"].as_array().unwrap().iter())
            .map(|c| c["callId"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&first),
        ["cc", "ca"],
        "ca's latest report came after cb's"
    );
    let ca = &first["calls"][1];
    assert_eq!(
        (ca["reports"].clone(), ca["outcome"].clone()),
        (json!(2), json!("hungup"))
    );
    assert_eq!(ca["keys"], json!(["1#", "1#"]), "{ca}");
    assert_eq!(ca["recording"], "https://r.example/ca.wav");
    let next = first["next"].as_str().unwrap();
    let (_, second) = app.get(&format!("/v1/calls?limit=2&after={next}")).await;
    assert_eq!(ids(&second), ["cb"], "ca is not listed again: {second}");
    assert_eq!(second["next"], Value::Null, "the end");
    let (_, other) = app
        .get("/v1/calls?app=ffffffffffffffffffffffffffffffff")
        .await;
    assert_eq!(other["calls"], json!([]));
    let (status, _) = app.get("/v1/calls?call=x").await;
    assert_eq!(status, 422);
    app.stop().await;
}
