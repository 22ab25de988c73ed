//! ivrhook's delivery engine: gets each event to its app's callback URL, however long the
//! business's server is slow, down or shedding load.
//!
//! The engine claims due deliveries with a lease (owner + expiry, longer than the request
//! timeout), lets the claim commit, and only then sends: no database lock is held across the
//! network, and a process that dies mid-request loses nothing (its leases expire and the
//! deliveries are claimed again: at-least-once). Each destination has its own in-flight limit
//! and circuit breaker, so a slow or dead URL holds only its own deliveries; first attempts and
//! retries are claimed from separate lanes. New work wakes the engine at once; polling is
//! only a slow backstop.
//!
//! A new event is sent straight from its acceptance when its destination has a free slot and
//! no claimed delivery waits for one (`accept`): its delivery is leased in the write that
//! stores it, and needs no claim.
//!
//! - `accept`: a new event stored and, when it can be, sent at once.
//! - `classify`: the answer's verdict (pure).
//! - `schedule`: retry schedule, jitter, `Retry-After`, the `108105` limit (pure).
//! - `breaker`: the circuit breaker (pure).
//! - `destination`: per-app settings and run-time state.
//! - `dispatch`: the claim loop.
//! - `attempt`: one HTTP attempt and its record.
//! - `remote`: work announced by other nodes sharing the database.
//! - `clock`, `metrics`.
#![forbid(unsafe_code)]

mod accept;
mod attempt;
pub mod breaker;
pub mod classify;
pub mod clock;
mod destination;
mod dispatch;
pub mod metrics;
mod remote;
pub mod schedule;

pub use clock::Clock;
pub use destination::DestinationSettings;
pub use metrics::EngineMetrics;
/// The URL type of `DestinationSettings::url`.
pub use reqwest::Url;

use destination::{Destination, DestinationState};
use ivrhook_store::{outbox::Lane, Store};
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
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
    by_app: HashMap<String, usize>,
    wake: Notify,
    owner: String,
    clock: Clock,
    client: reqwest::Client,
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
    pub fn new(
        store: Arc<dyn Store>,
        destinations: Vec<DestinationSettings>,
        clock: Clock,
        metrics: EngineMetrics,
    ) -> Result<Engine, EngineError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ivrhook/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(64)
            .build()?;
        let by_app = destinations
            .iter()
            .enumerate()
            .map(|(i, d)| (d.app_id.to_string(), i))
            .collect();
        let destinations = destinations
            .into_iter()
            .map(|settings| {
                Arc::new(Destination {
                    settings,
                    state: Mutex::new(DestinationState::default()),
                })
            })
            .collect();
        let seed = clock.now_ms() as u64 ^ u64::from(std::process::id()) << 32;
        let owner = format!("ivrhook-{}-{:08x}", std::process::id(), seed as u32);
        Ok(Engine {
            inner: Arc::new(Inner {
                store,
                destinations,
                by_app,
                wake: Notify::new(),
                owner,
                clock,
                client,
                metrics,
                rng: AtomicU64::new(seed),
                running: AtomicBool::new(false),
                attempts: tokio_util::task::TaskTracker::new(),
            }),
        })
    }

    /// The settings for an app that has a callback URL.
    pub fn destination(&self, app: &str) -> Option<&DestinationSettings> {
        let i = *self.inner.by_app.get(app)?;
        Some(&self.inner.destinations[i].settings)
    }

    pub fn clock(&self) -> Clock {
        self.inner.clock
    }

    /// When a new event's first attempt is due.
    pub fn first_attempt_at(&self, app: &str, created_ms: i64) -> i64 {
        let delay = self
            .destination(app)
            .and_then(|d| d.schedule.delay(0, self.inner.draw()))
            .unwrap_or_default();
        created_ms + delay.as_millis() as i64
    }

    /// Tells the engine an app has work due at `at_ms` in `lane` (a new event, a manual retry).
    pub fn notify(&self, app: &str, lane: Lane, at_ms: i64) {
        if let Some(i) = self.inner.by_app.get(app) {
            let dest = &self.inner.destinations[*i];
            dest.state
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .due_at(lane, at_ms);
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
