//! The recordings' own series. Where fetches stand is the recordings destination's
//! (`ivrhook_destination_backlog`, `_dead`, `_oldest_pending_seconds` with
//! `destination="ivrhook:recordings"`).

use prometheus_client::{
    metrics::{
        counter::Counter,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};

/// Recordings kept by this node, their bytes, and how long each fetch took.
#[derive(Debug, Clone)]
pub(crate) struct RecordingMetrics {
    kept: Counter,
    bytes: Counter,
    fetch: Histogram,
}

impl RecordingMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let m = RecordingMetrics {
            kept: Counter::default(),
            bytes: Counter::default(),
            // 10 ms to about 10 minutes.
            fetch: Histogram::new(exponential_buckets(0.01, 2.0, 17)),
        };
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

    /// A recording of `bytes` was kept after `took`.
    pub fn kept(&self, bytes: u64, took: std::time::Duration) {
        self.kept.inc();
        self.bytes.inc_by(bytes);
        self.fetch.observe(took.as_secs_f64());
    }
}
