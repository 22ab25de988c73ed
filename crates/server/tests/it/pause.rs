//! Pausing a destination on one node of two sharing PostgreSQL: nothing is sent to it from
//! either node, also after a node restarts; resumed, everything goes, in per-call order; the
//! operator events say so.

use crate::{
    alerts::{at, Pager},
    helpers::*,
};
use ivrhook_testkit::Sink;
use serde_json::Value;
use std::collections::HashMap;

async fn paused_on(app: &TestApp, name: &str) -> bool {
    let (_, all) = app.get("/v1/destinations").await;
    let found = all["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name);
    found.is_some_and(|d| d["now"]["paused"] == true)
}

async fn post(app: &TestApp, path: &str) -> Value {
    let answer = app.client.post(app.url(path)).send().await.unwrap();
    assert_eq!(answer.status(), 200, "{path}");
    answer.json().await.unwrap()
}

/// Each call's `data` in the order the sink got them.
fn per_call(sink: &Sink) -> HashMap<String, Vec<String>> {
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    for hit in sink.hits() {
        let v = hit.json();
        let call = v["callId"].as_str().unwrap().to_owned();
        seen.entry(call)
            .or_default()
            .push(v["data"].as_str().unwrap().to_owned());
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_holds_on_both_nodes_and_across_a_restart_and_resume_sends_in_order() {
    let (crm, ctl, ops) = (
        Sink::start().await,
        Sink::start().await,
        Sink::start().await,
    );
    let mut pager = Pager::start("pause").await;
    let toml = format!(
        "[alerts]\ndestinations = [\"ops\", \"pager\"]\n{}\
         [[destinations]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"{}\"\n\
         [[destinations]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"{}\"\n\
         [[destinations]]\nname = \"ctl\"\nkind = \"webhook\"\nurl = \"{}\"\n",
        pager.destination(),
        ops.url(),
        crm.url(),
        ctl.url()
    );
    let a = spawn_on_postgres("pause", &toml).await;
    let b = spawn_with_database(&a.database_url, &toml).await;
    let paused = post(&a, "/v1/destinations/crm/pause").await;
    assert_eq!(paused["paused"], true, "{paused}");
    assert!(paused["pausedSince"].is_string(), "{paused}");
    eventually("the other node to know", || async {
        paused_on(&b, "crm").await
    })
    .await;
    for n in 0..3 {
        for (node, call) in [(&a, "pause-a"), (&b, "pause-b")] {
            let body = call_report(call, n, 0, None).to_string();
            assert_eq!(node.post_callback(body).await.code, "000000");
        }
    }
    // The engine has handled them: the control destination has them all.
    delivered(&a, "ctl", 6).await;
    let (_, pending) = a.get("/v1/deliveries?destination=crm&state=pending").await;
    let pending = pending["deliveries"].as_array().unwrap().clone();
    assert_eq!(pending.len(), 6);
    assert!(
        pending.iter().all(|d| d["waiting"]["reason"] == "paused"),
        "{pending:?}"
    );
    b.stop().await;
    let b = spawn_with_database(&a.database_url, &toml).await;
    assert!(paused_on(&b, "crm").await, "paused after a restart");
    let body = call_report("pause-b", 3, 0, None).to_string();
    assert_eq!(b.post_callback(body).await.code, "000000");
    delivered(&b, "ctl", 7).await;
    assert_eq!(crm.count(), 0, "nothing sent while paused");
    let resumed = post(&b, "/v1/destinations/crm/resume").await;
    assert_eq!(
        (
            resumed["paused"].as_bool(),
            resumed["pausedSince"].is_null()
        ),
        (Some(false), true)
    );
    delivered(&a, "crm", 7).await;
    let order = per_call(&crm);
    assert_eq!(order["pause-a"], ["n=0", "n=1", "n=2"]);
    assert_eq!(order["pause-b"], ["n=0", "n=1", "n=2", "n=3"]);
    eventually("the pause and resume announced", || async {
        at(&ops).len() == 2
    })
    .await;
    let kinds: Vec<Value> = at(&ops).iter().map(|e| e["type"].clone()).collect();
    assert_eq!(kinds, ["destination.paused", "destination.resumed"]);
    pager.has_the_same_as(&at(&ops)).await;
    b.stop().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apps_callback_pauses_and_an_unknown_one_is_named() {
    let business = Sink::business().await;
    let app = spawn_with(&format!(
        "[[apps]]\nid = \"{APP}\"\ncallback_url = \"{}\"\n",
        business.url()
    ))
    .await;
    let paused = post(&app, &format!("/v1/apps/{APP}/callback/pause")).await;
    assert_eq!(paused["destination"], format!("app:{APP}"));
    assert!(paused_on_callback(&app).await);
    let refused = app
        .client
        .post(app.url("/v1/apps/other/callback/pause"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);
    let text = refused.text().await.unwrap();
    assert!(
        text.contains("appId: other is not an app of this server"),
        "{text}"
    );
    let refused = app
        .client
        .post(app.url("/v1/destinations/nope/pause"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("destination: \\\"nope\\\" is not configured"));
    post(&app, &format!("/v1/apps/{APP}/callback/resume")).await;
    assert!(!paused_on_callback(&app).await);
    app.stop().await;
}

async fn paused_on_callback(app: &TestApp) -> bool {
    let (_, apps) = app.get("/v1/apps").await;
    apps["apps"][0]["callback"]["now"]["paused"] == true
}
