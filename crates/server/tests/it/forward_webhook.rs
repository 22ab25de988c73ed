//! Received reports forwarded to internal webhooks: once each, in call order, in the
//! documented decoded form or byte for byte, only where the filters match; backpressure while
//! a destination is down, and recovery when it returns.

use crate::{
    helpers::*,
    sink::{free_addr, Sink},
};
use serde_json::Value;
use std::time::Duration;

fn webhook(name: &str, url: &str, extra: &str) -> String {
    format!(
        "[[destinations]]\nname = \"{name}\"\nkind = \"webhook\"\nurl = \"{url}\"\n\
         retry_schedule = [\"0s\", \"200ms\", \"200ms\", \"200ms\", \"200ms\", \"200ms\", \"200ms\"]\n{extra}\n"
    )
}

/// The pass-through data of each hit, in arrival order, for one call.
fn order(hits: &[crate::sink::Hit], call: &str) -> Vec<String> {
    hits.iter()
        .map(|h| h.json())
        .filter(|v| v["callId"] == call)
        .map(|v| v["data"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_reach_a_webhook_once_each_in_call_order_decoded_or_raw() {
    let (decoded, raw) = (Sink::start().await, Sink::start().await);
    let toml = webhook("crm", &decoded.url(), "headers = { \"X-Team\" = \"ivr\" }")
        + &webhook("archive", &raw.url(), "body = \"raw\"");
    let app = spawn_with(&toml).await;
    let mut sent = Vec::new();
    for n in 0..4 {
        for call in ["call-a", "call-b"] {
            let body = call_report(call, n, u8::from(n == 3), Some("1")).to_string();
            assert_eq!(app.post_callback(body.clone()).await.code, "000000");
            sent.push(body);
            // One report at a time: each is posted once the one before is delivered, so
            // no earlier delivery of its call holds it back from being sent as it is written.
            delivered(&app, "crm", sent.len()).await;
            delivered(&app, "archive", sent.len()).await;
        }
    }
    // The platform retries one: stored once, forwarded once.
    let again = app.post_callback(sent[0].clone()).await;
    assert_eq!(
        (again.code.as_str(), again.msg.contains("duplicate")),
        ("000000", true)
    );
    // Once every delivery is finished nothing more is sent: the counts are final.
    delivered(&app, "crm", 8).await;
    delivered(&app, "archive", 8).await;
    assert_eq!(
        decoded.hits().len(),
        8,
        "once each, the duplicate not again"
    );
    assert_eq!(raw.hits().len(), 8);
    // Slots free and nothing earlier pending: every forward was leased as it was written and
    // sent from there, none waited for a claim.
    let sent_at_once = app
        .metric("ivrhook_deliveries_sent_on_acceptance_total")
        .await;
    assert_eq!(sent_at_once, 16.0, "forwards sent as they were written");
    for call in ["call-a", "call-b"] {
        assert_eq!(
            order(&decoded.hits(), call),
            ["n=0", "n=1", "n=2", "n=3"],
            "{call}"
        );
    }
    let mut raw_bodies: Vec<Vec<u8>> = raw.hits().iter().map(|h| h.raw.clone()).collect();
    let mut sent_bytes: Vec<Vec<u8>> = sent.iter().map(|b| b.as_bytes().to_vec()).collect();
    raw_bodies.sort();
    sent_bytes.sort();
    assert_eq!(raw_bodies, sent_bytes, "body = raw: the platform's bytes");

    let hit = decoded
        .hits()
        .into_iter()
        .find(|h| h.json()["data"] == "n=3")
        .unwrap();
    let v = hit.json();
    assert_eq!(v["schemaVersion"], 1);
    assert_eq!(
        (v["appId"].as_str(), v["status"].as_str()),
        (Some(APP), Some("hungup"))
    );
    assert_eq!(v["keys"], "1");
    assert_eq!(v["commands"][0]["kind"], "playback");
    assert_eq!(v["commands"][0]["durationMs"], 3000);
    assert_eq!(v["commands"][1]["kind"], "dtmf");
    assert_eq!(v["hangup"]["recordingUrl"], "https://rec.example/r.wav");
    assert!(v["reportId"].as_i64().is_some_and(|id| id > 0));
    assert_eq!(hit.headers["x-team"], "ivr");
    assert_eq!(hit.headers["content-type"], "application/json");

    // The call's timeline shows each report's forward deliveries.
    let (_, timeline) = app.get("/v1/calls/call-a").await;
    let forwards = timeline["forwards"].as_array().unwrap();
    assert_eq!(forwards.len(), 8, "4 reports x 2 destinations");
    assert!(forwards
        .iter()
        .all(|d| d["state"] == "delivered" && d["reportId"].is_i64()));
    let (_, listed) = app
        .get("/v1/deliveries?destination=archive&state=delivered")
        .await;
    assert_eq!(listed["deliveries"].as_array().unwrap().len(), 8);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_send_each_report_only_where_it_matches() {
    let sinks = [
        Sink::start().await,
        Sink::start().await,
        Sink::start().await,
        Sink::start().await,
    ];
    let filters = [
        "[destinations.filter]\nstatus = \"hungup\"",
        "[destinations.filter]\ndtmf = \"1\"\nevent = \"multrpt\"",
        "[destinations.filter]\nhas_recording = true\ndtmf = \"*\"",
        "apps = [\"someone-else\"]",
    ];
    let toml: String = sinks
        .iter()
        .zip(filters)
        .enumerate()
        .map(|(i, (s, f))| webhook(&format!("d{i}"), &s.url(), f))
        .collect();
    let app = spawn_with(&toml).await;
    let cases = [
        ("completed-1", 0, Some("1")),
        ("completed-2", 0, Some("2")),
        ("hungup-none", 1, None),
        ("hungup-2", 1, Some("2")),
    ];
    for (call, status, keys) in cases {
        let body = call_report(call, 0, status, keys).to_string();
        assert_eq!(app.post_callback(body).await.code, "000000");
    }
    let expected: [&[&str]; 4] = [
        &["hungup-none", "hungup-2"],
        &["completed-1"],
        &["hungup-2"],
        &[],
    ];
    for (i, want) in expected.iter().enumerate() {
        delivered(&app, &format!("d{i}"), want.len()).await;
    }
    let (_, all) = app.get("/v1/deliveries").await;
    assert_eq!(
        all["deliveries"].as_array().unwrap().len(),
        4,
        "no other delivery made"
    );
    for (i, (sink, want)) in sinks.iter().zip(expected).enumerate() {
        let mut got: Vec<String> = sink
            .hits()
            .iter()
            .map(|h| h.json()["callId"].as_str().unwrap().to_owned())
            .collect();
        got.sort();
        let mut want: Vec<&str> = want.to_vec();
        want.sort();
        assert_eq!(got, want, "destination d{i}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_that_is_down_fills_its_backlog_then_drains() {
    let addr = free_addr().await;
    let toml = webhook(
        "crm",
        &format!("http://{addr}/hook"),
        "max_backlog = 3\ntimeout = \"1s\"",
    );
    let app = spawn_with(&toml).await;
    for n in 0..3 {
        let body = call_report(&format!("down-{n}"), n, 0, None).to_string();
        assert_eq!(app.post_callback(body).await.code, "000000");
    }
    let refused = app
        .post_callback(call_report("down-3", 3, 0, None).to_string())
        .await;
    assert_eq!(refused.code, "108102", "{}", refused.msg);
    assert!(
        refused.msg.contains("destination crm") && refused.msg.contains("max_backlog is 3"),
        "{}",
        refused.msg
    );
    let backlog = "ivrhook_destination_backlog{destination=\"crm\"}";
    eventually("the backlog in /metrics", || async {
        app.metric(backlog).await == 3.0
    })
    .await;
    assert_eq!(
        app.metric("ivrhook_inbound_refused_backlog_total{destination=\"crm\"}")
            .await,
        1.0
    );
    let (_, timeline) = app.get("/v1/calls/down-3").await;
    assert_eq!(
        timeline["error"]["kind"], "not_found",
        "a refused report is not stored"
    );

    let sink = Sink::start_at(addr).await;
    eventually_within("the backlog delivered", Duration::from_secs(30), || async {
        sink.hits().len() >= 3
    })
    .await;
    eventually("the backlog counted empty", || async {
        app.metric(backlog).await == 0.0
    })
    .await;
    let again = app
        .post_callback(call_report("down-3", 3, 0, None).to_string())
        .await;
    assert_eq!(
        again.code, "000000",
        "accepted again once the destination drained"
    );
    eventually("the last report delivered", || async {
        sink.hits().len() == 4
    })
    .await;
    app.stop().await;
    sink.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_webhook_is_retried_then_dead_with_its_reason() {
    let sink = Sink::start().await;
    sink.answer(404);
    let app = spawn_with(&webhook("crm", &sink.url(), "")).await;
    let body = call_report("gone-1", 0, 0, None).to_string();
    assert_eq!(app.post_callback(body).await.code, "000000");
    eventually("the delivery dead", || async {
        let (_, d) = app.get("/v1/deliveries?destination=crm&state=dead").await;
        d["deliveries"].as_array().is_some_and(|d| d.len() == 1)
    })
    .await;
    let (_, d) = app.get("/v1/deliveries?destination=crm").await;
    let dead: &Value = &d["deliveries"][0];
    assert_eq!(dead["lastError"], "HTTP 404");
    assert_eq!(sink.hits().len(), 1, "a 404 is not retried");
    // Replay: the destination is fixed, the dead delivery goes again.
    sink.answer(204);
    let id = dead["id"].as_i64().unwrap();
    let resp = app
        .client
        .post(app.url(&format!("/v1/deliveries/{id}/retry")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    eventually("the replayed delivery delivered", || async {
        let (_, d) = app.get(&format!("/v1/deliveries/{id}")).await;
        d["delivery"]["state"] == "delivered"
    })
    .await;
    app.stop().await;
}

/// On PostgreSQL any node receives and any node forwards: a receive-only node stores the
/// report and its forward, a deliver-only node sends it, and a long poll on the second node
/// answers for a report the first one stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_one_node_receives_and_another_forwards() {
    let sink = Sink::start().await;
    let hook = webhook("crm", &sink.url(), "");
    let front = spawn_on_postgres("forward_split", &format!("roles = [\"receive\"]\n{hook}")).await;
    let back = spawn_with_database(
        &front.database_url,
        &format!("roles = [\"deliver\"]\n{hook}"),
    )
    .await;
    let (_, page) = back.get("/v1/events").await;
    let next = page["next"].as_str().unwrap().to_owned();
    let poll = {
        let url = back.url(&format!("/v1/events?after={next}&wait=60s"));
        let client = back.client.clone();
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
    waiting(&back, 1.0).await;
    let body = call_report("pg-forward", 0, 1, Some("1")).to_string();
    assert_eq!(front.post_callback(body).await.code, "000000");
    let answered = tokio::time::timeout(Duration::from_secs(30), poll)
        .await
        .expect("the other node's report ended the long poll")
        .unwrap();
    assert_eq!(answered["events"][0]["callId"], "pg-forward");
    eventually("the forward sent by the deliver-only node", || async {
        sink.hits().len() == 1
    })
    .await;
    delivered(&back, "crm", 1).await;
    let sent = "ivrhook_delivery_attempts_total{destination=\"crm\",outcome=\"delivered\"}";
    assert_eq!(back.metric(sent).await, 1.0);
    back.stop().await;
    front.stop().await;
}

/// HTTPS destinations go through rustls with the machine's own roots: a webhook whose
/// certificate no root vouches for is refused at the handshake, and the attempt says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_webhook_no_root_vouches_for_is_refused_at_the_handshake() {
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    };
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls_pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&handshakes);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::Relaxed);
            let acceptor = acceptor.clone();
            tokio::spawn(async move { acceptor.accept(tcp).await.map(drop) });
        }
    });
    let url = format!("https://127.0.0.1:{port}/hook");
    let app = spawn_with(&webhook("secure", &url, "")).await;
    let body = call_report("tls-1", 0, 0, None).to_string();
    assert_eq!(app.post_callback(body).await.code, "000000");
    eventually("the attempt's error", || async {
        let (_, d) = app.get("/v1/deliveries?destination=secure").await;
        d["deliveries"][0]["lastError"].is_string()
    })
    .await;
    let (_, d) = app.get("/v1/deliveries?destination=secure").await;
    let error = d["deliveries"][0]["lastError"].as_str().unwrap().to_owned();
    assert!(error.contains("certificate"), "{error}");
    assert_eq!(d["deliveries"][0]["state"], "pending", "{d}");
    assert!(handshakes.load(Ordering::Relaxed) >= 1);
    app.stop().await;
}

/// One decoded form: the API shows a report exactly as a webhook receives it, with only what
/// the receiver recorded beside it (`peer`, `duplicates`, `raw`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_shows_a_report_in_the_form_it_is_forwarded_in() {
    let sink = Sink::start().await;
    let app = spawn_with(&webhook("crm", &sink.url(), "")).await;
    let body = call_report("one-form", 0, 1, Some("9")).to_string();
    assert_eq!(app.post_callback(body).await.code, "000000");
    delivered(&app, "crm", 1).await;
    let forwarded = sink.hits()[0].json();
    let (_, page) = app.get("/v1/reports?after=0").await;
    let mut shown = page["reports"][0].clone();
    for recorded in ["peer", "duplicates", "raw"] {
        let field = shown.as_object_mut().unwrap().remove(recorded);
        assert!(field.is_some(), "{recorded} is shown: {shown}");
    }
    assert_eq!(shown, forwarded);
    assert_eq!(app.timeline("one-form").await[0]["schemaVersion"], 1);
    app.stop().await;
}
