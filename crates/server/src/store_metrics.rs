//! The store's own series: write batches, and SQLite's WAL and checkpoints. The store calls
//! these from its threads through [`StoreEvents`].

use ivrhook_store::{CheckpointMode, StoreEvents};
use prometheus_client::{
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};
use std::time::Duration;

#[derive(Debug)]
pub struct StoreMetrics {
    batch_sizes: Histogram,
    bytes: Gauge,
    wal_bytes: Gauge,
    wal_written: Counter,
    checkpoints: Family<Vec<(&'static str, &'static str)>, Counter>,
    writer_held: Histogram,
}

impl StoreMetrics {
    pub fn register(registry: &mut Registry) -> StoreMetrics {
        let batch_sizes = Histogram::new(exponential_buckets(1.0, 2.0, 11));
        registry.register(
            "store_write_batch_size",
            "Operations committed per store transaction (group commit)",
            batch_sizes.clone(),
        );
        let bytes = Gauge::default();
        registry.register(
            "store_bytes",
            "Bytes the store takes on disk (SQLite: the file and its WAL; PostgreSQL: the database)",
            bytes.clone(),
        );
        let wal_bytes = Gauge::default();
        registry.register(
            "sqlite_wal_bytes",
            "Size of the SQLite WAL file (at most sqlite.max_wal)",
            wal_bytes.clone(),
        );
        let wal_written = Counter::default();
        registry.register(
            "sqlite_wal_written_bytes",
            "Bytes SQLite commits wrote to the WAL (pages and their frame headers)",
            wal_written.clone(),
        );
        let checkpoints = Family::default();
        registry.register(
            "sqlite_checkpoints",
            "SQLite WAL checkpoints by mode: passive (beside the writer), restart (by the \
             writer, to keep the WAL within sqlite.max_wal), idle (emptying it once writes stop)",
            Family::clone(&checkpoints),
        );
        for mode in [
            CheckpointMode::Passive,
            CheckpointMode::Restart,
            CheckpointMode::Idle,
        ] {
            let _ = checkpoints.get_or_create(&vec![("mode", mode.as_str())]);
        }
        let writer_held = Histogram::new(exponential_buckets(0.000_5, 2.0, 14));
        registry.register(
            "sqlite_checkpoint_writer_wait_seconds",
            "Time the writer waited for a checkpoint that kept the WAL within sqlite.max_wal",
            writer_held.clone(),
        );
        StoreMetrics {
            batch_sizes,
            bytes,
            wal_bytes,
            wal_written,
            checkpoints,
            writer_held,
        }
    }
}

impl StoreMetrics {
    /// The store's size, read when the metrics are.
    pub fn size(&self, bytes: u64) {
        self.bytes.set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }
}

impl StoreEvents for StoreMetrics {
    fn batch(&self, size: usize) {
        self.batch_sizes.observe(size as f64);
    }

    fn wal_bytes(&self, bytes: u64) {
        self.wal_bytes.set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    fn wal_written(&self, bytes: u64) {
        self.wal_written.inc_by(bytes);
    }

    fn checkpoint(&self, mode: CheckpointMode, held: Duration) {
        let labels = vec![("mode", mode.as_str())];
        self.checkpoints.get_or_create(&labels).inc();
        if mode == CheckpointMode::Restart {
            self.writer_held.observe(held.as_secs_f64());
        }
    }
}
