//! An engine over a fresh SQLite store, and helpers to submit events and wait for outcomes.

use ivrhook_engine::{callback_name, kinds, Clock, DestinationSettings, Engine, EngineMetrics};
use ivrhook_protocol::{AppId, CallId, SigningSecret};
use ivrhook_store::{
    outbox::{AttemptRow, DeliveryRow, DeliveryState, EventIds, NewEvent, Submitted},
    sqlite::SqliteStore,
    Store,
};
use std::{sync::Arc, time::Duration};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct Harness {
    pub store: Arc<dyn Store>,
    pub engine: Engine,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
    _dir: tempfile::TempDir,
}

pub fn settings(app: &str, url: &str) -> DestinationSettings {
    DestinationSettings::callback(&AppId::try_from(app).unwrap(), url.parse().unwrap())
}

/// An app's callback destination, signing with `secret`.
pub fn signed(app: &str, url: &str, secret: SigningSecret) -> DestinationSettings {
    let spec = kinds::callback::Spec {
        url: url.parse().unwrap(),
        secret: Some(secret),
    };
    DestinationSettings {
        kind: kinds::Kind::Callback(spec),
        ..settings(app, url)
    }
}

pub fn schedule(delays: &[Duration]) -> ivrhook_engine::schedule::RetrySchedule {
    ivrhook_engine::schedule::RetrySchedule::new(delays.to_vec(), 0.2).unwrap()
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub async fn harness(destinations: Vec<DestinationSettings>) -> Harness {
    harness_with(destinations, |store| store).await
}

/// `harness`, with the engine's store wrapped by `wrap` (`gate::GatedStore`).
pub async fn harness_with(
    destinations: Vec<DestinationSettings>,
    wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("engine.db");
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path, None))
        .await
        .unwrap()
        .unwrap()
        .with_waits_visible_to_tokio();
    let store = wrap(Arc::new(store));
    let metrics = EngineMetrics::register(&mut prometheus_client::registry::Registry::default());
    let engine = Engine::new(
        Arc::clone(&store),
        destinations,
        &Default::default(),
        Clock::new(),
        metrics,
    )
    .unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn({
        let (engine, shutdown) = (engine.clone(), shutdown.clone());
        async move { engine.run(shutdown).await }
    });
    // Submissions before the claim loop runs are left to claims: tests start after it.
    while !engine.delivering() {
        tokio::task::yield_now().await;
    }
    Harness {
        store,
        engine,
        shutdown,
        task,
        _dir: dir,
    }
}

/// A new event for `call`, tagged `tag`, due as the app's schedule says.
pub fn event(engine: &Engine, app: &str, call: &str, tag: &str) -> NewEvent {
    let now = engine.clock().now_ms();
    let app_id = AppId::try_from(app).unwrap();
    let destination = callback_name(&app_id);
    NewEvent {
        first_attempt_at_ms: engine.first_attempt_at(&destination, now),
        destination,
        app_id,
        call_id: CallId::try_from(call).unwrap(),
        idempotency_key: None,
        body: ivrhook_testkit::report_with(app, call, tag)
            .to_string()
            .into_bytes(),
        created_at_ms: now,
        lease: None,
    }
}

impl Harness {
    /// Submits as the API does: sent from the submission when a slot is free (`Leased`),
    /// otherwise left to a claim (`New`).
    pub async fn submit_as(&self, app: &str, call: &str, tag: &str) -> Submitted {
        let e = event(&self.engine, app, call, tag);
        self.engine.submit(e).await.unwrap()
    }

    pub async fn submit(&self, app: &str, call: &str, tag: &str) -> EventIds {
        match self.submit_as(app, call, tag).await {
            Submitted::New(ids) | Submitted::Leased(ids) => ids,
            other => panic!("not a new event: {other:?}"),
        }
    }

    /// Stops the engine and waits for it, leaving the store open to be read.
    pub async fn stop_engine(&mut self) {
        self.shutdown.cancel();
        (&mut self.task).await.unwrap();
    }

    /// Waits (in logical time, up to a day) for a delivery to reach `state`.
    pub async fn wait_for(
        &self,
        delivery: i64,
        state: DeliveryState,
    ) -> (DeliveryRow, Vec<AttemptRow>) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(86_400);
        loop {
            let found = self.store.delivery(delivery).await.unwrap().unwrap();
            if found.0.state == state {
                return found;
            }
            assert!(!self.task.is_finished(), "the engine stopped");
            assert!(
                tokio::time::Instant::now() < deadline,
                "delivery {delivery} still {:?}",
                found.0
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap();
        self.store.close().await;
    }
}
