//! The recordings' own series: by state (the recordings destination's pending and dead
//! deliveries, counted as every destination's are), the oldest pending, and what this node
//! kept.

use prometheus_client::{
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};
use std::sync::atomic::AtomicU64;

/// Recordings kept by this node, their bytes, and how long each fetch took.
#[derive(Debug, Clone)]
pub(crate) struct RecordingMetrics {
    kept: Counter,
    bytes: Counter,
    fetch: Histogram,
    by_state: Family<Vec<(&'static str, &'static str)>, Gauge>,
    oldest: Gauge<f64, AtomicU64>,
}

impl RecordingMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let m = RecordingMetrics {
            kept: Counter::default(),
            bytes: Counter::default(),
            // 10 ms to about 10 minutes.
            fetch: Histogram::new(exponential_buckets(0.01, 2.0, 17)),
            by_state: Family::default(),
            oldest: Gauge::default(),
        };
        registry.register(
            "recordings",
            "Recordings not kept yet, by state: pending (being fetched or waiting to be \
             fetched again) and failed",
            m.by_state.clone(),
        );
        for state in ["pending", "failed"] {
            m.by_state.get_or_create(&vec![("state", state)]).set(0);
        }
        registry.register(
            "recordings_oldest_pending_seconds",
            "Age of the oldest recording still pending",
            m.oldest.clone(),
        );
        registry.register(
            "recordings_kept",
            "Recordings fetched and kept by this node",
            m.kept.clone(),
        );
        registry.register(
            "recordings_kept_bytes",
            "Bytes of the recordings this node kept",
            m.bytes.clone(),
        );
        registry.register(
            "recording_fetch_seconds",
            "How long fetching a kept recording took, link to stored object",
            m.fetch.clone(),
        );
        m
    }

    /// The recordings destination was counted: `pending` and `failed` fetches, the oldest
    /// pending one's age.
    pub fn counted(&self, pending: i64, failed: i64, oldest_ms: i64) {
        self.by_state
            .get_or_create(&vec![("state", "pending")])
            .set(pending);
        self.by_state
            .get_or_create(&vec![("state", "failed")])
            .set(failed);
        self.oldest.set(oldest_ms.max(0) as f64 / 1000.0);
    }

    /// A recording of `bytes` was kept after `took`.
    pub fn kept(&self, bytes: u64, took: std::time::Duration) {
        self.kept.inc();
        self.bytes.inc_by(bytes);
        self.fetch.observe(took.as_secs_f64());
    }
}
