//! A slow or dead destination holds only its own deliveries.

use crate::harness::*;
use ivrhook_store::outbox::DeliveryState;
use ivrhook_testkit::{Reply, Sink};
use std::time::Duration;

const HEALTHY: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const DEAD: &str = "dddddddddddddddddddddddddddddddd";

#[tokio::test(start_paused = true)]
async fn a_dead_url_does_not_slow_another_apps_deliveries() {
    let healthy = Sink::business().await;
    let dead = Sink::business().await;
    dead.always(Reply::code("000000").after(Duration::from_secs(3600)));
    let mut d = settings(DEAD, &dead.url());
    d.timeout = Duration::from_secs(5);
    let h = harness(vec![settings(HEALTHY, &healthy.url()), d]).await;
    for i in 0..40 {
        h.submit(DEAD, &format!("dead-{i}"), "x").await;
    }
    let mut healthy_ids = Vec::new();
    let started = tokio::time::Instant::now();
    for i in 0..40 {
        healthy_ids.push((
            h.submit(HEALTHY, &format!("ok-{i}"), "x").await,
            tokio::time::Instant::now(),
        ));
    }
    let mut worst = Duration::ZERO;
    for (ids, submitted) in healthy_ids {
        let (row, _) = h.wait_for(ids.delivery_id, DeliveryState::Delivered).await;
        let lag = Duration::from_millis((row.finished_at_ms.unwrap() - row.created_at_ms) as u64);
        worst = worst.max(lag);
        assert!(submitted >= started);
    }
    // Waiting behind the dead URL would cost at least its 5 s timeout.
    eprintln!("healthy app's worst delivery latency: {worst:?} (logical time)");
    assert!(
        worst < Duration::from_secs(1),
        "healthy deliveries took up to {worst:?}"
    );
    assert_eq!(healthy.hits().len(), 40);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn the_breaker_holds_a_failing_url_and_probes_it() {
    // A port with nothing listening: every attempt fails fast.
    let closed = format!("http://{}/hook", ivrhook_testkit::free_addr().await);
    let mut s = settings(DEAD, &closed);
    s.max_in_flight = 1;
    s.schedule = schedule(&[Duration::ZERO; 20]);
    let h = harness(vec![s]).await;
    let ids = h.submit(DEAD, "call-1", "x").await;
    let attempts = |h: &Harness| {
        let store = h.store.clone();
        async move {
            store
                .delivery(ids.delivery_id)
                .await
                .unwrap()
                .unwrap()
                .1
                .len()
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while attempts(&h).await < 5 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Open: with a zero-delay schedule it would otherwise retry at once, again and again.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(attempts(&h).await, 5, "held while the breaker is open");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(attempts(&h).await, 6, "one probe after the cool-down");
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn max_in_flight_is_enforced() {
    let fake = Sink::business().await;
    fake.always(Reply::code("000000").after(Duration::from_secs(1)));
    let mut s = settings(HEALTHY, &fake.url());
    s.max_in_flight = 3;
    let h = harness(vec![s]).await;
    let mut last = 0;
    for i in 0..20 {
        last = h.submit(HEALTHY, &format!("c-{i}"), "x").await.delivery_id;
    }
    h.wait_for(last, DeliveryState::Delivered).await;
    assert_eq!(fake.hits().len(), 20);
    assert_eq!(
        fake.peak_concurrency(),
        3,
        "never more than max_in_flight at once"
    );
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn first_attempts_do_not_wait_behind_a_retry_backlog() {
    let fake = Sink::business().await;
    // The first 40 requests are answered 108105 (call not recorded yet: retried, and not a
    // sign of a failing URL, so the breaker stays closed); everything after succeeds. All slowly.
    fake.script((0..40).map(|_| Reply::code("108105").after(Duration::from_secs(1))));
    fake.always(Reply::code("000000").after(Duration::from_secs(1)));
    let mut s = settings(HEALTHY, &fake.url());
    s.max_in_flight = 4;
    s.schedule = schedule(&[
        Duration::ZERO,
        Duration::from_secs(1),
        Duration::from_secs(1),
    ]);
    let h = harness(vec![s]).await;
    for i in 0..40 {
        h.submit(HEALTHY, &format!("backlog-{i}"), "old").await;
    }
    // Wait until every backlog event had its first attempt: all 40 are in the retry lane.
    let distinct = |f: &Sink| f.by_call().len();
    while distinct(&fake) < 40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let t0 = tokio::time::Instant::now();
    let fresh = h.submit(HEALTHY, "fresh", "new").await;
    h.wait_for(fresh.delivery_id, DeliveryState::Delivered)
        .await;
    let first_try = fake
        .hits()
        .iter()
        .find(|r| r.json()["data"] == "new")
        .unwrap()
        .at;
    // Draining the 40 retries four at a time takes ten seconds; the new event must not wait.
    assert!(
        first_try - t0 <= Duration::from_secs(2),
        "new event waited {:?}",
        first_try - t0
    );
    h.stop().await;
}
