//! ivrhook's delivery engine: gets each delivery to its destination, however long the
//! destination is slow, down or shedding load. A destination is an app's callback URL (the
//! sender: events submitted for the app) or a place received reports are forwarded to (an
//! internal webhook, a NATS JetStream subject, a RabbitMQ exchange); each kind is one
//! [`Transport`], and nothing else here knows the kinds apart.
//!
//! The engine claims due deliveries with a lease (owner + expiry, longer than the request
//! timeout), lets the claim commit, and only then sends: no database lock is held across the
//! network, and a process that dies mid-request loses nothing (its leases expire and the
//! deliveries are claimed again: at-least-once). Each destination has its own in-flight limit
//! and circuit breaker, so a slow or dead one holds only its own deliveries; first attempts
//! and retries are claimed from separate lanes. New work wakes the engine at once; polling is
//! only a slow backstop.
//!
//! A new event, or a received report's forward, is sent straight from the write that stores it
//! when its destination has a free slot and no claimed delivery waits for one (`reserve`): its
//! delivery is leased in that write, and needs no claim.
//!
//! - `destination`, `state`: each destination's settings and run-time state.
//! - `transport`, `kinds`, `outgoing`: the trait every kind implements, the kinds, and what a
//!   delivery on its way out carries.
//! - `route`, `forward`, `backlog`: which reports go where, and backpressure.
//! - `reserve`, `accept`: a delivery sent as it is written; a new event stored.
//! - `dispatch`: the claim loop; `attempt`: one attempt and its record.
//! - `classify`, `schedule`, `breaker`: answers, retry schedules and breakers (pure).
//! - `remote`: work announced by other nodes sharing the database.
//! - `alerts`: operator events; `pause`: pausing and resuming a destination; `overdue`:
//!   calls whose report never came; `recordings`: call recordings fetched and kept.
//! - `clock`, `metrics`; `tally`: activity counted for the store, the whole cluster's.
//! - `analytics`: IVR analytics counted as reports are received, for the store.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod accept;
pub mod alerts;
pub mod analytics;
mod attempt;
mod backlog;
pub mod breaker;
pub mod classify;
pub mod clock;
mod destination;
mod dispatch;
mod forward;
pub mod kinds;
mod live;
pub mod metrics;
pub mod outgoing;
mod overdue;
mod pause;
pub mod recordings;
mod remote;
mod reserve;
pub mod route;
pub mod schedule;
mod state;
pub mod tally;
pub mod transport;

pub use clock::Clock;
pub use destination::{callback_name, DestinationSettings};
pub use forward::{BacklogFull, Routed};
pub use kinds::http::use_ring_for_tls;
pub use live::Live;
pub use metrics::EngineMetrics;
pub use outgoing::Outgoing;
pub use pause::Paused;
/// The URL type of the HTTP kinds' settings.
pub use reqwest::Url;
pub use transport::{Outcome, Transport};

use destination::Destination;
use ivrhook_store::{outbox::Lane, Store};
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How long a lease outlasts the request timeout: long enough that a request which timed
/// out has been recorded before anyone else may claim its delivery.
pub const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// The delivery engine. Cheap to clone; all clones drive the same destinations.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    store: Arc<dyn Store>,
    destinations: Vec<Arc<Destination>>,
    by_name: HashMap<String, usize>,
    alerter: alerts::Alerter,
    wake: Notify,
    owner: String,
    clock: Clock,
    metrics: EngineMetrics,
    rng: AtomicU64,
    /// Whether the claim loop runs: events are sent as they are accepted only while it does
    /// (a node that does not deliver only stores them).
    running: AtomicBool,
    /// Attempts of events sent as they were accepted, and slots held for them: the claim
    /// loop waits for them when it stops, as for its own.
    attempts: tokio_util::task::TaskTracker,
}

impl Inner {
    /// A uniform draw in `[0, 1)` for jitter (splitmix64; quality is ample for spreading retries).
    pub(crate) fn draw(&self) -> f64 {
        let mut z = self.rng.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Why the engine could not be built.
#[derive(Debug, thiserror::Error)]
#[error("could not build the HTTP client for deliveries")]
pub struct EngineError(#[from] reqwest::Error);

impl Engine {
    /// An engine for `destinations` (their names unique). Nothing connects until a
    /// destination's first delivery.
    pub fn new(
        store: Arc<dyn Store>,
        destinations: Vec<DestinationSettings>,
        alerts: &alerts::AlertSettings,
        clock: Clock,
        metrics: EngineMetrics,
    ) -> Result<Engine, EngineError> {
        let clients = kinds::http::Clients::new()?;
        let by_name = destinations
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.clone(), i))
            .collect();
        let destinations: Vec<_> = destinations
            .into_iter()
            .map(|settings| Arc::new(Destination::new(settings, &clients, &metrics, &store)))
            .collect();
        let alerter = alerts::Alerter::new(alerts, &destinations);
        let seed = clock.now_ms() as u64 ^ u64::from(std::process::id()) << 32;
        let owner = format!("ivrhook-{}-{:08x}", std::process::id(), seed as u32);
        Ok(Engine {
            inner: Arc::new(Inner {
                store,
                destinations,
                by_name,
                alerter,
                wake: Notify::new(),
                owner,
                clock,
                metrics,
                rng: AtomicU64::new(seed),
                running: AtomicBool::new(false),
                attempts: tokio_util::task::TaskTracker::new(),
            }),
        })
    }

    /// A destination's settings, by name.
    pub fn destination(&self, name: &str) -> Option<&DestinationSettings> {
        let i = *self.inner.by_name.get(name)?;
        Some(&self.inner.destinations[i].settings)
    }

    /// Every destination's settings, in the order configured.
    pub fn destinations(&self) -> impl Iterator<Item = &DestinationSettings> {
        self.inner.destinations.iter().map(|d| &d.settings)
    }

    /// The engine's clock: the system's, or tokio's paused one under test.
    pub fn clock(&self) -> Clock {
        self.inner.clock
    }

    /// When a new delivery's first attempt is due.
    pub fn first_attempt_at(&self, destination: &str, created_ms: i64) -> i64 {
        let delay = self
            .destination(destination)
            .and_then(|d| d.schedule.delay(0, self.inner.draw()))
            .unwrap_or_default();
        created_ms + delay.as_millis() as i64
    }

    /// Tells the engine a destination has work due at `at_ms` in `lane` (a new delivery, a
    /// manual retry).
    pub fn notify(&self, destination: &str, lane: Lane, at_ms: i64) {
        if let Some(i) = self.inner.by_name.get(destination) {
            self.inner.destinations[*i].state().due_at(lane, at_ms);
            self.inner.wake.notify_one();
        }
    }

    /// Whether the claim loop runs; only then are new events sent from their submission.
    pub fn delivering(&self) -> bool {
        self.inner.running.load(Ordering::Acquire)
    }

    /// Runs until `shutdown`, then waits for requests in flight to be recorded.
    pub async fn run(&self, shutdown: CancellationToken) {
        dispatch::run(Arc::clone(&self.inner), shutdown).await;
    }
}
