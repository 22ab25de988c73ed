//! The engine's Prometheus metrics, registered into the server's registry.

use crate::breaker::BreakerState;
use prometheus_client::{
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

type Labels = Vec<(&'static str, String)>;

#[derive(Debug, Clone)]
pub struct EngineMetrics {
    attempts: Family<Labels, Counter>,
    lag: Histogram,
    breakers: Family<Labels, Gauge>,
    remote_wakeups: Counter,
    sent_on_acceptance: Counter,
}

impl EngineMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let m = EngineMetrics {
            attempts: Family::default(),
            lag: Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.001, 2.0, 20,
            )),
            breakers: Family::default(),
            remote_wakeups: Counter::default(),
            sent_on_acceptance: Counter::default(),
        };
        registry.register(
            "delivery_attempts",
            "Delivery attempts by app and outcome (delivered, retry, dead)",
            m.attempts.clone(),
        );
        registry.register(
            "delivery_lag_seconds",
            "Time from an event's acceptance to its delivery",
            m.lag.clone(),
        );
        registry.register(
            "delivery_breaker_state",
            "Circuit breaker per destination: 0 closed, 1 open, 2 half-open",
            m.breakers.clone(),
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
        m
    }

    pub(crate) fn sent_on_acceptance(&self) {
        self.sent_on_acceptance.inc();
    }

    pub(crate) fn remote_wakeup(&self) {
        self.remote_wakeups.inc();
    }

    pub(crate) fn attempt(&self, app: &str, outcome: &'static str) {
        self.attempts
            .get_or_create(&vec![
                ("app", app.to_owned()),
                ("outcome", outcome.to_owned()),
            ])
            .inc();
    }

    pub(crate) fn delivered_after(&self, lag_ms: i64) {
        self.lag.observe(lag_ms.max(0) as f64 / 1000.0);
    }

    pub(crate) fn breaker(&self, app: &str, url: &str, state: BreakerState) {
        self.breakers
            .get_or_create(&vec![("app", app.to_owned()), ("url", url.to_owned())])
            .set(state.as_gauge());
    }
}
