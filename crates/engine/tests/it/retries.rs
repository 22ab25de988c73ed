//! Retries by the answered code, in logical time.

use crate::harness::*;
use base64::{engine::general_purpose::STANDARD, Engine as _};
use ivrhook_protocol::SigningSecret;
use ivrhook_store::outbox::DeliveryState;
use ivrhook_testkit::{Reply, Sink};
use sha2::{Digest, Sha256};
use std::time::Duration;

use ivrhook_testkit::APP;

#[tokio::test(start_paused = true)]
async fn queue_full_three_times_then_success_is_one_delivery_after_four_attempts() {
    let fake = Sink::business().await;
    fake.script([
        Reply::code("108102"),
        Reply::code("108102"),
        Reply::code("108102"),
    ]);
    let mut s = settings(APP, &fake.url());
    s.schedule = schedule(&[secs(0), secs(5), secs(30), secs(120)]);
    let h = harness(vec![s]).await;
    let ids = h.submit(APP, "call-1", "a").await;
    let (delivery, attempts) = h.wait_for(ids.delivery_id, DeliveryState::Delivered).await;
    assert_eq!(delivery.attempts, 4);
    let outcomes: Vec<&str> = attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["retry", "retry", "retry", "delivered"]);
    assert_eq!(attempts[0].code.as_deref(), Some("108102"));
    let got = fake.hits();
    assert_eq!(got.len(), 4, "exactly four requests reached the receiver");
    // The gaps follow the schedule (5 s, 30 s, 2 min), each within its ±20 % jitter.
    for (i, expected) in [5.0, 30.0, 120.0].into_iter().enumerate() {
        let gap = (got[i + 1].at - got[i].at).as_secs_f64();
        assert!(
            gap >= expected * 0.8 - 0.01 && gap <= expected * 1.2 + 0.5,
            "gap {i}: {gap}s, schedule {expected}s"
        );
    }
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn bad_input_is_dead_after_one_attempt_with_the_reason_kept() {
    let fake = Sink::business().await;
    fake.always(Reply::code("108100"));
    let h = harness(vec![settings(APP, &fake.url())]).await;
    let ids = h.submit(APP, "call-1", "a").await;
    let (delivery, attempts) = h.wait_for(ids.delivery_id, DeliveryState::Dead).await;
    assert_eq!(attempts.len(), 1);
    assert!(delivery.last_error.unwrap().contains("108100"));
    assert_eq!(
        attempts[0].body_excerpt.as_deref(),
        Some(r#"{"code":"108100","msg":"scripted"}"#)
    );
    tokio::time::sleep(secs(3600)).await;
    assert_eq!(fake.hits().len(), 1, "never retried");
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_timeout_is_retried() {
    let fake = Sink::business().await;
    fake.script([Reply::code("000000").after(secs(10))]);
    let mut s = settings(APP, &fake.url());
    s.timeout = secs(2);
    let h = harness(vec![s]).await;
    let ids = h.submit(APP, "call-1", "a").await;
    let (_, attempts) = h.wait_for(ids.delivery_id, DeliveryState::Delivered).await;
    assert_eq!(attempts.len(), 2);
    assert!(
        attempts[0].error.as_deref().unwrap().contains("timed out"),
        "{:?}",
        attempts[0]
    );
    assert_eq!(attempts[0].http_status, None);
    assert!(attempts[0].duration_ms >= 2000);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn unknown_call_is_retried_three_times_then_dead() {
    let fake = Sink::business().await;
    fake.always(Reply::code("108105"));
    let h = harness(vec![settings(APP, &fake.url())]).await;
    let ids = h.submit(APP, "call-1", "a").await;
    let (delivery, attempts) = h.wait_for(ids.delivery_id, DeliveryState::Dead).await;
    assert_eq!(attempts.len(), 4, "the first answer and three retries");
    assert!(delivery.last_error.unwrap().contains("108105"));
    tokio::time::sleep(secs(86_400)).await;
    assert_eq!(fake.hits().len(), 4);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured() {
    let fake = Sink::business().await;
    fake.script([Reply::status(429).header("retry-after", "90")]);
    let h = harness(vec![settings(APP, &fake.url())]).await;
    let ids = h.submit(APP, "call-1", "a").await;
    h.wait_for(ids.delivery_id, DeliveryState::Delivered).await;
    let got = fake.hits();
    assert!(
        (got[1].at - got[0].at) >= secs(90),
        "waited {:?}",
        got[1].at - got[0].at
    );
    h.stop().await;
}

/// HMAC-SHA256 written out from RFC 2104, independent of the `hmac` crate the product uses.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|k| k ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

#[tokio::test(start_paused = true)]
async fn signatures_verify_with_an_independent_implementation_and_ids_are_stable() {
    let fake = Sink::business().await;
    fake.script([Reply::code("108104")]);
    let key = b"a sixteen+ byte key for tests!!";
    let secret = SigningSecret::parse(&format!("whsec_{}", STANDARD.encode(key))).unwrap();
    let h = harness(vec![signed(APP, &fake.url(), secret)]).await;
    let ids = h.submit(APP, "call-1", "signed").await;
    h.wait_for(ids.delivery_id, DeliveryState::Delivered).await;
    let got = fake.hits();
    assert_eq!(got.len(), 2);
    for r in &got {
        let header = |name: &str| r.headers[name].to_str().unwrap().to_owned();
        let (id, ts) = (header("webhook-id"), header("webhook-timestamp"));
        let mut signed = format!("{id}.{ts}.").into_bytes();
        signed.extend_from_slice(&r.raw);
        let expected = format!("v1,{}", STANDARD.encode(hmac_sha256(key, &signed)));
        assert_eq!(header("webhook-signature"), expected);
        assert_eq!(id, format!("evt_{}", ids.event_id));
    }
    assert_eq!(
        got[0].headers["webhook-id"], got[1].headers["webhook-id"],
        "stable across retries"
    );
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn reports_for_one_call_arrive_in_order_across_retries() {
    let fake = Sink::business().await;
    fake.script([Reply::code("108104"), Reply::status(503)]);
    let h = harness(vec![settings(APP, &fake.url())]).await;
    let mut last = 0;
    for tag in ["c1", "c2", "c3"] {
        last = h.submit(APP, "call-c", tag).await.delivery_id;
    }
    h.wait_for(last, DeliveryState::Delivered).await;
    let order: Vec<String> = fake
        .hits()
        .iter()
        .map(|r| r.json()["data"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        order,
        ["c1", "c1", "c1", "c2", "c3"],
        "c2 waits while c1 is retried"
    );
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_new_event_is_attempted_without_waiting_for_a_poll() {
    let fake = Sink::business().await;
    let h = harness(vec![settings(APP, &fake.url())]).await;
    // Let the engine settle into waiting, well past its start-up refresh.
    tokio::time::sleep(secs(1)).await;
    let t0 = tokio::time::Instant::now();
    let ids = h.submit(APP, "call-1", "a").await;
    h.wait_for(ids.delivery_id, DeliveryState::Delivered).await;
    let got = fake.hits();
    assert!(
        got[0].at - t0 < Duration::from_millis(100),
        "attempted after {:?} of logical time",
        got[0].at - t0
    );
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_share_of_refused_first_attempts_is_retried_and_everything_arrives() {
    let fake = Sink::business().await;
    // Every tenth request is refused once.
    fake.script((0..200).map(|i| {
        if i % 10 == 0 {
            Reply::code("108102")
        } else {
            Reply::code("000000")
        }
    }));
    let mut s = settings(APP, &fake.url());
    s.max_in_flight = 64;
    s.schedule = schedule(&[
        secs(0),
        Duration::from_millis(50),
        Duration::from_millis(100),
        secs(1),
    ]);
    let h = harness(vec![s]).await;
    let mut ids = Vec::new();
    for i in 0..200 {
        ids.push(h.submit(APP, &format!("share-{i}"), "x").await.delivery_id);
    }
    for id in ids {
        h.wait_for(id, DeliveryState::Delivered).await;
    }
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_https_url_whose_server_speaks_no_tls_is_retried_with_the_reason() {
    let fake = Sink::business().await;
    let url = fake.url().replacen("http://", "https://", 1);
    let mut s = settings(APP, &url);
    s.schedule = schedule(&[secs(0), secs(3600)]);
    let h = harness(vec![s]).await;
    let ids = h.submit(APP, "call-tls", "x").await;
    let deadline = tokio::time::Instant::now() + secs(60);
    let attempts = loop {
        let (_, attempts) = h.store.delivery(ids.delivery_id).await.unwrap().unwrap();
        if !attempts.is_empty() {
            break attempts;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no attempt was made"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(attempts[0].outcome, "retry");
    assert_eq!(attempts[0].http_status, None);
    let error = attempts[0].error.as_deref().unwrap();
    assert!(error.starts_with("request could not connect"), "{error}");
    h.stop().await;
}

/// The record of a call's delivered report names the report waiting behind it, and that one
/// goes at once: not at the next poll of the store (2 s).
#[tokio::test(start_paused = true)]
async fn a_calls_next_report_goes_as_soon_as_the_earlier_is_delivered() {
    let fake = Sink::business().await;
    let h = harness(vec![settings(APP, &fake.url())]).await;
    tokio::time::sleep(secs(1)).await;
    h.submit(APP, "call-n", "n1").await;
    let second = h.submit(APP, "call-n", "n2").await;
    h.wait_for(second.delivery_id, DeliveryState::Delivered)
        .await;
    let got = fake.hits();
    let tags: Vec<String> = got
        .iter()
        .map(|r| r.json()["data"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(tags, ["n1", "n2"]);
    assert!(
        got[1].at - got[0].at < Duration::from_millis(100),
        "the second waited {:?} of logical time",
        got[1].at - got[0].at
    );
    h.stop().await;
}
