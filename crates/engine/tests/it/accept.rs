//! New events sent from their submission: leased in the write that stores them when a slot
//! is free, left to a claim when not, and waited for when the engine stops.

use crate::gate::{Gate, GatedStore};
use crate::harness::{event, harness, harness_with, settings};
use ivrhook_engine::{Clock, Engine, EngineMetrics};
use ivrhook_store::outbox::{DeliveryState, Lane, Submitted};
use ivrhook_testkit::{Reply, Sink, APP};
use std::{sync::Arc, time::Duration};

#[tokio::test(start_paused = true)]
async fn new_events_take_free_slots_and_the_rest_are_claimed_promptly() {
    let fake = Sink::business().await;
    fake.always(Reply::code("000000").after(Duration::from_millis(100)));
    let mut s = settings(APP, &fake.url());
    s.max_in_flight = 2;
    let h = harness(vec![s]).await;
    let t0 = tokio::time::Instant::now();
    let mut got = Vec::new();
    for i in 0..5 {
        got.push(h.submit_as(APP, &format!("c-{i}"), "x").await);
    }
    let leased = |s: &Submitted| matches!(s, Submitted::Leased(_));
    assert_eq!(
        got.iter().map(leased).collect::<Vec<_>>(),
        [true, true, false, false, false],
        "two slots: {got:?}"
    );
    let Submitted::New(last) = got[4] else {
        panic!("{got:?}")
    };
    h.wait_for(last.delivery_id, DeliveryState::Delivered).await;
    assert_eq!(fake.hits().len(), 5);
    assert_eq!(fake.peak_concurrency(), 2, "the held slots count");
    // Three rounds of 100 ms: the claimed ones went as slots freed, not at the 2 s backstop.
    let took = fake.hits().last().unwrap().at - t0;
    assert!(
        took < Duration::from_millis(500),
        "last sent after {took:?}"
    );
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_ordered_calls_next_event_waits_for_the_one_in_flight() {
    let fake = Sink::business().await;
    fake.always(Reply::code("000000").after(Duration::from_millis(100)));
    let h = harness(vec![settings(APP, &fake.url())]).await;
    let first = h.submit_as(APP, "same", "first").await;
    let second = h.submit_as(APP, "same", "second").await;
    assert!(matches!(first, Submitted::Leased(_)), "{first:?}");
    let Submitted::New(second) = second else {
        panic!("a free slot, but its call's first is in flight: {second:?}")
    };
    h.wait_for(second.delivery_id, DeliveryState::Delivered)
        .await;
    let order: Vec<String> = (fake.hits().iter())
        .map(|r| r.json()["data"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(order, ["first", "second"]);
    assert_eq!(fake.peak_concurrency(), 1);
    h.stop().await;
}

/// An engine stopping waits for the request of an event it took at submission, and records it.
#[tokio::test(start_paused = true)]
async fn stopping_waits_for_an_event_sent_from_its_submission() {
    let fake = Sink::business().await;
    fake.always(Reply::code("000000").after(Duration::from_secs(2)));
    let mut h = harness(vec![settings(APP, &fake.url())]).await;
    let Submitted::Leased(ids) = h.submit_as(APP, "c", "x").await else {
        panic!("a free slot")
    };
    h.stop_engine().await;
    let (row, attempts) = h.store.delivery(ids.delivery_id).await.unwrap().unwrap();
    assert_eq!((row.state, attempts.len()), (DeliveryState::Delivered, 1));
    h.store.close().await;
}

/// A node that does not deliver (its claim loop not running) only stores new events.
#[tokio::test(start_paused = true)]
async fn a_node_that_does_not_deliver_leases_nothing() {
    let fake = Sink::business().await;
    let h = harness(vec![settings(APP, &fake.url())]).await;
    let metrics = EngineMetrics::register(&mut prometheus_client::registry::Registry::default());
    let idle = Engine::new(
        h.store.clone(),
        vec![settings(APP, &fake.url())],
        &Default::default(),
        Clock::new(),
        metrics,
    )
    .unwrap();
    let event = event(&idle, APP, "c", "x");
    let got = idle.submit(event).await.unwrap();
    assert!(matches!(got, Submitted::New(_)), "{got:?}");
    h.stop().await;
}

/// A claim planned on two free slots runs while two new events take them: what it claims
/// waits for a slot rather than exceeding `max_in_flight`, and goes when one frees.
#[tokio::test(start_paused = true)]
async fn deliveries_claimed_while_new_events_took_the_slots_wait_for_one() {
    let fake = Sink::business().await;
    fake.always(Reply::code("000000").after(Duration::from_secs(1)));
    let mut s = settings(APP, &fake.url());
    s.max_in_flight = 2;
    let gate = Arc::new(Gate::default());
    let h = harness_with(vec![s], |inner| {
        Arc::new(GatedStore {
            inner,
            gate: Arc::clone(&gate),
        })
    })
    .await;
    gate.arm();
    // Two events stored without an offer, as by a node that could not send them: claimed.
    let mut claimed = Vec::new();
    for call in ["x1", "x2"] {
        let e = event(&h.engine, APP, call, call);
        let Submitted::New(ids) = h.store.submit_event(e).await.unwrap() else {
            panic!("no offer, no lease")
        };
        claimed.push(ids.delivery_id);
    }
    h.engine.notify(APP, Lane::First, h.engine.clock().now_ms());
    gate.entered().await;
    for call in ["n1", "n2"] {
        let got = h.submit_as(APP, call, call).await;
        assert!(matches!(got, Submitted::Leased(_)), "{call}: {got:?}");
    }
    gate.release();
    for id in claimed {
        h.wait_for(id, DeliveryState::Delivered).await;
    }
    assert_eq!(fake.peak_concurrency(), 2, "max_in_flight held");
    let order: Vec<String> = (fake.hits().iter())
        .map(|r| r.json()["data"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        order[2..],
        ["x1", "x2"],
        "the claimed ones went when slots freed"
    );
    h.stop().await;
}
