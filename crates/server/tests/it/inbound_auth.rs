//! An app's inbound checks, alone and combined: what passes is stored and forwarded, what
//! fails is answered 401 `108104` "not authenticated" (never which check), counted by app and
//! check, and leaves nothing in any table or destination.

use crate::{helpers::*, sink::Sink};
use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use ivrhook_protocol::SigningSecret;
use serde_json::Value;

use ivrhook_testkit::SECRET as WHSEC;
const TOKEN: &str = "tok_0123456789abcdef";

/// A server whose app sets `checks`, forwarding every report to `sink`.
async fn guarded(checks: &str, sink: &Sink, top: &str) -> TestApp {
    spawn_with(&format!(
        "{top}\n[[apps]]\nid = \"{APP}\"\n{checks}\n\
         [[destinations]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"{}\"\n",
        sink.url()
    ))
    .await
}

/// Posts `body` to `path` with `headers`: the HTTP status and the answer.
async fn post(app: &TestApp, path: &str, body: &str, headers: &[(&str, String)]) -> (u16, Value) {
    let mut req = app.client.post(app.url(path)).body(body.to_owned());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// Asserts the request was refused as not authenticated, and left nothing behind.
async fn refused(app: &TestApp, sink: &Sink, (status, answer): (u16, Value), call: &str) {
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["code"], "108104");
    assert_eq!(answer["msg"], "not authenticated", "no check is named");
    let (found, _) = app.get(&format!("/v1/calls/{call}")).await;
    assert_eq!(found, 404, "nothing stored for {call}");
    let (_, deliveries) = app.get("/v1/deliveries").await;
    let to_call = deliveries["deliveries"].as_array().unwrap().iter();
    assert_eq!(to_call.filter(|d| d["callId"] == call).count(), 0);
    assert!(
        sink.hits().iter().all(|h| h.json()["callId"] != call),
        "nothing forwarded"
    );
}

fn accepted((status, answer): (u16, Value)) {
    assert_eq!(
        (status, answer["code"].as_str()),
        (200, Some("000000")),
        "{answer}"
    );
}

fn body(call: &str) -> String {
    report(call).to_string()
}

async fn count(app: &TestApp, check: &str) -> f64 {
    let series =
        format!("ivrhook_inbound_unauthenticated_total{{app=\"{APP}\",check=\"{check}\"}}");
    app.metric(&series).await
}

#[tokio::test]
async fn allow_from_takes_the_peer_or_a_trusted_proxys_forwarded_client() {
    let sink = Sink::start().await;
    let app = guarded("allow_from = [\"203.0.113.0/24\"]", &sink, "").await;
    let r = post(&app, "/callback", &body("af-1"), &[]).await;
    refused(&app, &sink, r, "af-1").await;
    // Not believed from a peer that is not a trusted proxy.
    let xff = [("x-forwarded-for", "203.0.113.7".to_owned())];
    let r = post(&app, "/callback", &body("af-2"), &xff).await;
    refused(&app, &sink, r, "af-2").await;
    assert_eq!(count(&app, "source_address").await, 2.0);
    app.stop().await;

    let app = guarded(
        "allow_from = [\"203.0.113.0/24\"]",
        &sink,
        "trusted_proxies = [\"127.0.0.1\"]\napi_open = true",
    )
    .await;
    accepted(post(&app, "/callback", &body("af-3"), &xff).await);
    let fwd = [("forwarded", "for=203.0.113.9;proto=https".to_owned())];
    accepted(post(&app, "/callback", &body("af-4"), &fwd).await);
    let outside = [("x-forwarded-for", "198.51.100.1".to_owned())];
    let r = post(&app, "/callback", &body("af-5"), &outside).await;
    refused(&app, &sink, r, "af-5").await;
    delivered(&app, "crm", 2).await;
    app.stop().await;
}

#[tokio::test]
async fn a_path_token_app_takes_reports_only_at_its_token_path() {
    let sink = Sink::start().await;
    let app = guarded(&format!("path_token = \"{TOKEN}\""), &sink, "").await;
    let r = post(&app, "/callback", &body("pt-1"), &[]).await;
    refused(&app, &sink, r, "pt-1").await;
    let r = post(&app, "/callback/tok_0123456789abcdeX", &body("pt-2"), &[]).await;
    refused(&app, &sink, r, "pt-2").await;
    accepted(post(&app, &format!("/callback/{TOKEN}"), &body("pt-3"), &[]).await);
    assert_eq!(count(&app, "path_token").await, 2.0);
    app.stop().await;
    // An app without a token is not served at a token path.
    let open = guarded("", &sink, "").await;
    let r = post(&open, &format!("/callback/{TOKEN}"), &body("pt-4"), &[]).await;
    refused(&open, &sink, r, "pt-4").await;
    open.stop().await;
}

#[tokio::test]
async fn basic_auth_needs_the_user_and_the_password() {
    let sink = Sink::start().await;
    let app = guarded(
        "basic_auth = { user = \"platform\", password = \"s3cret-pass\" }",
        &sink,
        "",
    )
    .await;
    let basic = |cred: &str| [("authorization", format!("Basic {}", STANDARD.encode(cred)))];
    accepted(
        post(
            &app,
            "/callback",
            &body("ba-1"),
            &basic("platform:s3cret-pass"),
        )
        .await,
    );
    for (n, cred) in ["platform:wrong", "someone:s3cret-pass", "platform", ""]
        .iter()
        .enumerate()
    {
        let call = format!("ba-bad-{n}");
        let r = post(&app, "/callback", &body(&call), &basic(cred)).await;
        refused(&app, &sink, r, &call).await;
    }
    let r = post(&app, "/callback", &body("ba-none"), &[]).await;
    refused(&app, &sink, r, "ba-none").await;
    assert_eq!(count(&app, "basic_auth").await, 5.0);
    app.stop().await;
}

fn signed(id: &str, at: i64, body: &str) -> [(&'static str, String); 3] {
    let sig = SigningSecret::parse(WHSEC)
        .unwrap()
        .sign(id, at, body.as_bytes());
    [
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", at.to_string()),
        ("webhook-signature", sig),
    ]
}

#[tokio::test]
async fn standard_webhooks_signatures_are_checked_for_time_and_replays() {
    let sink = Sink::start().await;
    let verify = format!(
        "verify = {{ kind = \"standard-webhooks\", secret = \"{WHSEC}\", tolerance = \"5m\" }}"
    );
    let app = guarded(&verify, &sink, "").await;
    let now = chrono::Utc::now().timestamp();
    let b = body("sw-1");
    accepted(post(&app, "/callback", &b, &signed("msg_1", now, &b)).await);
    // The same request again: a replay.
    let r = post(&app, "/callback", &b, &signed("msg_1", now, &b)).await;
    assert_eq!(r.0, 401);
    assert_eq!(count(&app, "replayed_signature").await, 1.0);
    let b2 = body("sw-2");
    let r = post(&app, "/callback", &b2, &signed("msg_2", now - 600, &b2)).await;
    refused(&app, &sink, r, "sw-2").await;
    assert_eq!(count(&app, "stale_signature").await, 1.0);
    let b3 = body("sw-3");
    let r = post(
        &app,
        "/callback",
        &b3,
        &signed("msg_3", now, &body("other")),
    )
    .await;
    refused(&app, &sink, r, "sw-3").await;
    let r = post(&app, "/callback", &b3, &[]).await;
    refused(&app, &sink, r, "sw-3").await;
    assert_eq!(count(&app, "signature").await, 2.0);
    delivered(&app, "crm", 1).await;
    app.stop().await;
}

fn hmac_of(body: &str) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"platform-hmac-key").unwrap();
    mac.update(body.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

#[tokio::test]
async fn an_hmac_of_the_body_is_checked_in_hex_or_base64() {
    let sink = Sink::start().await;
    let hex =
        "verify = { kind = \"hmac-sha256\", header = \"X-Sig\", secret = \"platform-hmac-key\" }";
    let app = guarded(hex, &sink, "").await;
    let b = body("hm-1");
    let hexed: String = hmac_of(&b).iter().map(|x| format!("{x:02x}")).collect();
    accepted(post(&app, "/callback", &b, &[("x-sig", hexed.clone())]).await);
    let b2 = body("hm-2");
    accepted(
        post(
            &app,
            "/callback",
            &b2,
            &[("x-sig", format!("sha256={}", hex_of(&b2)))],
        )
        .await,
    );
    let b3 = body("hm-3");
    let r = post(&app, "/callback", &b3, &[("x-sig", hexed)]).await;
    refused(&app, &sink, r, "hm-3").await;
    app.stop().await;
    let b64 = "verify = { kind = \"hmac-sha256\", secret = \"platform-hmac-key\", encoding = \"base64\" }";
    let app = guarded(b64, &sink, "").await;
    let b4 = body("hm-4");
    accepted(
        post(
            &app,
            "/callback",
            &b4,
            &[("x-signature", STANDARD.encode(hmac_of(&b4)))],
        )
        .await,
    );
    app.stop().await;
}

fn hex_of(body: &str) -> String {
    hmac_of(body).iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test]
async fn every_check_set_must_pass() {
    let sink = Sink::start().await;
    let checks = format!(
        "allow_from = [\"127.0.0.1\"]\npath_token = \"{TOKEN}\"\n\
         basic_auth = {{ user = \"platform\", password = \"s3cret-pass\" }}\n\
         verify = {{ kind = \"standard-webhooks\", secret = \"{WHSEC}\" }}"
    );
    let app = guarded(&checks, &sink, "").await;
    let path = format!("/callback/{TOKEN}");
    let now = chrono::Utc::now().timestamp();
    let all = |call: &str, id: &str| {
        let b = body(call);
        let mut h: Vec<(&str, String)> = signed(id, now, &b).to_vec();
        h.push((
            "authorization",
            format!("Basic {}", STANDARD.encode("platform:s3cret-pass")),
        ));
        (b, h)
    };
    let (b, h) = all("all-1", "m1");
    accepted(post(&app, &path, &b, &h).await);
    let (b, h) = all("all-2", "m2");
    let r = post(&app, "/callback", &b, &h).await;
    refused(&app, &sink, r, "all-2").await;
    let (b, h) = all("all-3", "m3");
    let r = post(&app, &path, &b, &h[..3]).await;
    refused(&app, &sink, r, "all-3").await;
    let (b, h) = all("all-4", "m4");
    let r = post(&app, &path, &b, &h[1..]).await;
    refused(&app, &sink, r, "all-4").await;
    delivered(&app, "crm", 1).await;
    app.stop().await;
}
