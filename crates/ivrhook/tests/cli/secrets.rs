//! Secrets stay secret: a run with every kind of secret configured (tokens, passwords, URL
//! credentials and query strings, signing keys, header values), whose deliveries fail and get
//! refused, shows none of them in its log, its metrics, its API or its dashboard.

use crate::proc::*;
use std::time::Duration;

use ivrhook_testkit::{APP, SECRET};
const ADMIN: &str = "admin-token-s3cr3t-6000";

/// Every secret the configuration below holds.
const SECRETS: [&str; 13] = [
    ADMIN,
    "cbpass-5111",
    "qsecret-5222",
    SECRET.split_at(6).1,
    "basic-pass-5333",
    "hmac-key-5444",
    "tok_pathtoken_5555abcdef",
    "hookpass-5666",
    "header-value-5777",
    "rabbitpass-5888",
    "natspass-5999",
    "redispass-6111",
    "mqttpass-6222",
];

fn config() -> String {
    format!(
        "admin_token = \"{ADMIN}\"\nlog_refusals_every = \"1s\"\n\
         [[apps]]\nid = \"{APP}\"\n\
         callback_url = \"http://ops:cbpass-5111@127.0.0.1:9/cb?key=qsecret-5222\"\n\
         secret = \"{SECRET}\"\nretry_schedule = [\"0s\"]\n\
         basic_auth = {{ user = \"platform\", password = \"basic-pass-5333\" }}\n\
         verify = {{ kind = \"hmac-sha256\", secret = \"hmac-key-5444\" }}\n\
         path_token = \"tok_pathtoken_5555abcdef\"\n\
         [[destinations]]\nname = \"hook\"\nkind = \"webhook\"\n\
         url = \"http://u:hookpass-5666@127.0.0.1:9/h?sig=qsecret-5222\"\n\
         headers = {{ \"X-Key\" = \"header-value-5777\" }}\nretry_schedule = [\"0s\"]\n\
         [[destinations]]\nname = \"bus\"\nkind = \"rabbitmq\"\n\
         url = \"amqp://guest:rabbitpass-5888@127.0.0.1:9/%2f\"\nexchange = \"ivr\"\n\
         routing_key = \"{{app}}\"\nretry_schedule = [\"0s\"]\n\
         [[destinations]]\nname = \"nats\"\nkind = \"nats\"\n\
         url = \"nats://ivr:natspass-5999@127.0.0.1:9\"\nsubject = \"ivr.{{app}}\"\n\
         stream = \"IVR\"\nretry_schedule = [\"0s\"]\n\
         [[destinations]]\nname = \"stream\"\nkind = \"redis\"\n\
         url = \"redis://ivr:redispass-6111@127.0.0.1:9/0\"\nstream = \"s\"\nretry_schedule = [\"0s\"]\n\
         [[destinations]]\nname = \"screens\"\nkind = \"mqtt\"\n\
         url = \"mqtt://ivr:mqttpass-6222@127.0.0.1:9\"\ntopic = \"t\"\nretry_schedule = [\"0s\"]\n"
    )
}

fn body_of(call: &str) -> String {
    format!(r#"{{"appId":"{APP}","callId":"{call}","event":"multrpt","result":[],"status":0}}"#)
}

/// Everything a person or a scraper can read of the running server.
async fn everything(base: &str, dir: &std::path::Path) -> String {
    let client = crate::http();
    let mut seen = stderr(dir);
    for path in [
        "/metrics",
        "/v1/apps",
        "/v1/destinations",
        "/v1/deliveries?limit=1000",
        "/v1/calls/leak-1",
        "/v1/reports",
        "/",
        "/destinations",
        "/deliveries",
        "/calls/leak-1",
        "/openapi.json",
    ] {
        let req = client.get(format!("{base}{path}")).bearer_auth(ADMIN);
        seen.push_str(&req.send().await.unwrap().text().await.unwrap());
    }
    for id in 1..=8 {
        let req = client
            .get(format!("{base}/v1/deliveries/{id}"))
            .bearer_auth(ADMIN);
        seen.push_str(&req.send().await.unwrap().text().await.unwrap());
    }
    seen
}

#[tokio::test]
async fn no_secret_shows_in_logs_metrics_api_or_dashboard() {
    let (_guard, dir) = temp_dir();
    std::fs::write(dir.join("ivrhook.toml"), config()).unwrap();
    let checked = run_ok(&dir, &["config", "check", "ivrhook.toml"]).await;
    let env = [("RUST_LOG", "debug")];
    let mut server = serve_with_env(&dir, &["--config", "ivrhook.toml"], &env).await;
    let client = crate::http();
    // Refused (no credentials), then accepted and forwarded to five failing destinations.
    let refused = client
        .post(format!("{}/callback", server.base))
        .body(body_of("leak-0"));
    assert_eq!(refused.send().await.unwrap().status(), 401);
    let body = body_of("leak-1");
    let sig: String = hmac_hex(b"hmac-key-5444", body.as_bytes());
    let accepted = client
        .post(format!("{}/callback/tok_pathtoken_5555abcdef", server.base))
        .basic_auth("platform", Some("basic-pass-5333"))
        .header("x-signature", sig)
        .body(body);
    let answer = accepted.send().await.unwrap().text().await.unwrap();
    assert!(answer.contains("000000"), "{answer}");
    let submit = client.post(format!("{}/v1/apps/{APP}/events", server.base));
    let submit = submit
        .bearer_auth(ADMIN)
        .body(body_of("leak-2"))
        .send()
        .await
        .unwrap();
    assert_eq!(submit.status(), 202);
    // Every delivery has failed once, and the failures are logged.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let url = format!("{}/v1/deliveries?state=dead", server.base);
        let dead: serde_json::Value = client
            .get(url)
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if dead["deliveries"].as_array().map_or(0, Vec::len) == 6 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{dead}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = format!("{checked}{}", everything(&server.base, &dir).await);
    assert!(seen.contains("delivery dead"), "the failures were logged");
    for secret in SECRETS {
        let at = seen
            .find(secret)
            .map(|i| &seen[i.saturating_sub(200)..(i + 100).min(seen.len())]);
        assert!(at.is_none(), "{secret} shows: …{}…", at.unwrap_or_default());
    }
    server.child.start_kill().unwrap();
}

fn hmac_hex(key: &[u8], body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
