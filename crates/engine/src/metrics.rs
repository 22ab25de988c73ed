//! The engine's Prometheus metrics, registered into the server's registry. Every series of a
//! destination is labelled by its name, never its URL (a URL may carry credentials).

use crate::{breaker::BreakerState, tally::Tally};
use ivrhook_store::outbox::Settle;
use prometheus_client::{
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};
use std::sync::Arc;

type Labels = Vec<(&'static str, String)>;

fn destination(name: &str) -> Labels {
    vec![("destination", name.to_owned())]
}

fn lag_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 20))
}

/// The engine's series in the server's registry, and the activity it counts for the store.
#[derive(Debug, Clone)]
pub struct EngineMetrics {
    attempts: Family<Labels, Counter>,
    lag: Family<Labels, Histogram, fn() -> Histogram>,
    breakers: Family<Labels, Gauge>,
    backlog: Family<Labels, Gauge>,
    dead: Family<Labels, Gauge>,
    oldest: Family<Labels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    refused: Family<Labels, Counter>,
    remote_wakeups: Counter,
    sent_on_acceptance: Counter,
    overdue: Family<Labels, Gauge>,
    tally: Arc<Tally>,
    pub(crate) recordings: crate::recordings::RecordingMetrics,
}

impl EngineMetrics {
    /// Registers the engine's series in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let m = EngineMetrics {
            attempts: Family::default(),
            lag: Family::new_with_constructor(lag_histogram),
            breakers: Family::default(),
            backlog: Family::default(),
            dead: Family::default(),
            oldest: Family::default(),
            refused: Family::default(),
            remote_wakeups: Counter::default(),
            sent_on_acceptance: Counter::default(),
            overdue: Family::default(),
            tally: Arc::default(),
            recordings: crate::recordings::RecordingMetrics::register(registry),
        };
        registry.register(
            "delivery_attempts",
            "Delivery attempts by destination and outcome (delivered, retry, dead)",
            m.attempts.clone(),
        );
        registry.register(
            "delivery_lag_seconds",
            "Time from a delivery's creation (an event submitted, a report received) to its \
             delivery",
            m.lag.clone(),
        );
        registry.register(
            "destination_breaker_state",
            "Circuit breaker per destination: 0 closed, 1 open, 2 half-open",
            m.breakers.clone(),
        );
        registry.register(
            "destination_backlog",
            "Pending deliveries per destination (its backlog), as last counted",
            m.backlog.clone(),
        );
        registry.register(
            "destination_dead",
            "Dead deliveries per destination, as last counted",
            m.dead.clone(),
        );
        registry.register(
            "destination_oldest_pending_seconds",
            "Age of each destination's oldest pending delivery (0: none pending)",
            m.oldest.clone(),
        );
        registry.register(
            "inbound_refused_backlog",
            "Reports answered 108102 because a destination they go to was at its max_backlog",
            m.refused.clone(),
        );
        registry.register(
            "remote_wakeups",
            "Work announced by other nodes sharing the database (PostgreSQL NOTIFY)",
            m.remote_wakeups.clone(),
        );
        registry.register(
            "deliveries_sent_on_acceptance",
            "First attempts started as their event was accepted, leased in the same write \
             (the rest are claimed)",
            m.sent_on_acceptance.clone(),
        );
        registry.register(
            "calls_overdue",
            "Registered calls past their report's deadline with no report yet, per app",
            m.overdue.clone(),
        );
        m
    }

    /// Calls overdue for `app` now.
    pub(crate) fn overdue(&self, app: &str, n: u64) {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        self.overdue
            .get_or_create(&vec![("app", app.to_owned())])
            .set(n);
    }

    /// Counts waiting to be written to the store, for the whole cluster's activity.
    pub fn tally(&self) -> &Arc<Tally> {
        &self.tally
    }

    pub(crate) fn sent_on_acceptance(&self) {
        self.sent_on_acceptance.inc();
    }

    pub(crate) fn remote_wakeup(&self) {
        self.remote_wakeups.inc();
    }

    /// One destination's series, created once: an attempt then counts itself without a
    /// label to build or a map to search.
    pub(crate) fn destination(&self, name: &str) -> DestinationMetrics {
        let labels = destination(name);
        let attempts = |outcome: &str| {
            let mut l = labels.clone();
            l.push(("outcome", outcome.to_owned()));
            self.attempts.get_or_create(&l).clone()
        };
        DestinationMetrics {
            delivered: attempts("delivered"),
            retried: attempts("retry"),
            dead: attempts("dead"),
            lag: self.lag.get_or_create(&labels).clone(),
            breaker: self.breakers.get_or_create(&labels).clone(),
            backlog: self.backlog.get_or_create(&labels).clone(),
            dead_now: self.dead.get_or_create(&labels).clone(),
            oldest: self.oldest.get_or_create(&labels).clone(),
            refused: self.refused.get_or_create(&labels).clone(),
            tally: Arc::clone(&self.tally),
        }
    }
}

/// The series of one destination (see `EngineMetrics::destination`).
#[derive(Debug, Clone)]
pub(crate) struct DestinationMetrics {
    delivered: Counter,
    retried: Counter,
    dead: Counter,
    lag: Histogram,
    breaker: Gauge,
    backlog: Gauge,
    dead_now: Gauge,
    oldest: Gauge<f64, std::sync::atomic::AtomicU64>,
    refused: Counter,
    tally: Arc<Tally>,
}

impl DestinationMetrics {
    /// An attempt of `app`'s to `destination` settled as `outcome` at `now_ms`, answered
    /// `answer` (a contract code, `HTTP 503`, `acknowledged`, `no answer`).
    pub fn attempt(
        &self,
        outcome: &Settle,
        now_ms: i64,
        answer: &str,
        app: &str,
        destination: &str,
    ) {
        (self.tally).attempt(now_ms, app, destination, outcome, answer);
        match outcome {
            Settle::Delivered => &self.delivered,
            Settle::Retry { .. } => &self.retried,
            Settle::Dead { .. } => &self.dead,
        }
        .inc();
    }

    pub fn delivered_after(&self, lag_ms: i64) {
        self.lag.observe(lag_ms.max(0) as f64 / 1000.0);
    }

    pub fn breaker(&self, state: BreakerState) {
        self.breaker.set(state.as_gauge());
    }

    pub fn counted(&self, pending: i64, dead: i64, oldest_ms: i64) {
        self.backlog.set(pending);
        self.dead_now.set(dead);
        self.oldest.set(oldest_ms.max(0) as f64 / 1000.0);
    }

    pub fn refused(&self) {
        self.refused.inc();
    }
}
