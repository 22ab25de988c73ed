//! Prometheus metrics, served at `/metrics` in the OpenMetrics text format.

use ivrhook_engine::EngineMetrics;
use ivrhook_protocol::ResponseCode;
use prometheus_client::{
    encoding::text::encode,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::{Metric, Registry},
};
use std::time::Duration;

type CodeLabels = Vec<(&'static str, &'static str)>;

/// The server's Prometheus registry and its series (`/metrics`); the engine and the store
/// register theirs into the same registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// One counter per response code, looked up once so a request never allocates a label.
    answered: Vec<(ResponseCode, Counter)>,
    duplicates: Counter,
    latency: Histogram,
    /// The store's batches, WAL and checkpoints, handed to the store when it opens.
    pub store: std::sync::Arc<crate::store_metrics::StoreMetrics>,
    /// Reports accepted into the write path and not yet committed. Also the admission counter.
    pub backlog: Gauge,
    /// The delivery engine's metrics, in the same registry.
    pub engine: EngineMetrics,
    /// Reports a named consumer has not acknowledged, and the age of the oldest of them.
    consumer_behind: Family<Vec<(&'static str, String)>, Gauge>,
    consumer_age: Family<Vec<(&'static str, String)>, Gauge<f64, std::sync::atomic::AtomicU64>>,
    /// Long polls and event streams waiting for a report now.
    pub feed_waiting: Gauge,
    pruned: Family<Vec<(&'static str, &'static str)>, Counter>,
    unauthenticated: Family<Vec<(&'static str, String)>, Counter>,
    connections_open: Gauge,
    connections_refused: Counter,
    connections_accepted: Counter,
    refused_early: Family<Vec<(&'static str, String)>, Counter>,
}

/// A new metric in `r`, under `name` with `help`; the handle returned updates it.
fn registered<M: Metric + Clone + Default>(r: &mut Registry, name: &str, help: &str) -> M {
    let metric = M::default();
    r.register(name, help, metric.clone());
    metric
}

/// An open connection, counted until dropped.
#[derive(Debug)]
pub struct OpenConnection(Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Metrics {
    /// Every series ivrhook's server exports, registered once: a table, read as one.
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("ivrhook");
        let by_code: Family<CodeLabels, Counter> = registered(
            &mut r,
            "inbound_reports",
            "Reports received on the callback path, by the code answered",
        );
        let answered = (ResponseCode::ALL.iter())
            .map(|c| {
                (
                    *c,
                    by_code.get_or_create(&vec![("code", c.as_str())]).clone(),
                )
            })
            .collect();
        let latency = Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
            0.000_25, 2.0, 16,
        ));
        r.register(
            "inbound_request_duration_seconds",
            "Time from request to answer on the callback path",
            latency.clone(),
        );
        let store = std::sync::Arc::new(crate::store_metrics::StoreMetrics::register(&mut r));
        let engine = EngineMetrics::register(&mut r);
        let pruned: Family<Vec<(&'static str, &'static str)>, Counter> = registered(
            &mut r,
            "pruned_rows",
            "Rows removed by retention, by kind (reports, delivered, dead, recordings)",
        );
        let kinds = ivrhook_store::retention::PruneKind::ALL.map(|k| k.as_str());
        for kind in kinds.into_iter().chain([crate::retention::RECORDINGS]) {
            let _ = pruned.get_or_create(&vec![("kind", kind)]);
        }
        Metrics {
            answered,
            latency,
            store,
            engine,
            pruned,
            duplicates: registered(
                &mut r,
                "inbound_duplicates",
                "Reports answered 000000 that were already stored (platform retries)",
            ),
            backlog: registered(
                &mut r,
                "inbound_backlog",
                "Reports accepted into the write path and not yet committed",
            ),
            consumer_behind: registered(
                &mut r,
                "consumer_lag_reports",
                "Reports stored after a named consumer's cursor (not yet acknowledged)",
            ),
            consumer_age: registered(
                &mut r,
                "consumer_lag_seconds",
                "Age of the oldest report a named consumer has not acknowledged (0: none)",
            ),
            feed_waiting: registered(
                &mut r,
                "feed_waiting",
                "Long polls and event streams waiting for the next report",
            ),
            unauthenticated: registered(
                &mut r,
                "inbound_unauthenticated",
                "Reports refused by an app's inbound checks, by app and check (source_address, \
                 path_token, basic_auth, signature, stale_signature, replayed_signature)",
            ),
            connections_open: registered(
                &mut r,
                "connections_open",
                "Connections open now (at most max_connections)",
            ),
            connections_accepted: registered(
                &mut r,
                "connections_accepted",
                "Connections accepted (a client that keeps its connections alive adds few)",
            ),
            connections_refused: registered(
                &mut r,
                "connections_refused",
                "Connections closed at once because max_connections were open",
            ),
            refused_early: registered(
                &mut r,
                "requests_refused_early",
                "Requests refused by the HTTP layer before any handler (400 malformed, 414 URI \
                 too long, 431 headers too large), by status; each answered 108100",
            ),
            registry: r,
        }
    }

    /// A connection taken; the gauge falls when the returned guard drops.
    pub fn connection_opened(&self) -> OpenConnection {
        self.connections_accepted.inc();
        self.connections_open.inc();
        OpenConnection(self.connections_open.clone())
    }

    /// A connection closed at once: `max_connections` reached.
    pub fn connection_refused(&self) {
        self.connections_refused.inc();
    }

    /// A request the HTTP layer refused with `status` before any handler ran.
    pub fn refused_early(&self, status: u16) {
        let labels = vec![("status", status.to_string())];
        self.refused_early.get_or_create(&labels).inc();
    }

    /// A report refused by `app`'s inbound check `check` (a configured app: the label set is
    /// bounded by the configuration).
    pub fn unauthenticated(&self, app: &str, check: &'static str) {
        let labels = vec![("app", app.to_owned()), ("check", check.to_owned())];
        self.unauthenticated.get_or_create(&labels).inc();
    }

    /// A report answered `code` after `took`.
    pub fn answered(&self, code: ResponseCode, took: Duration) {
        if let Some((_, c)) = self.answered.iter().find(|(c, _)| *c == code) {
            c.inc();
        }
        self.latency.observe(took.as_secs_f64());
    }

    /// A duplicate report answered `000000`.
    pub fn duplicate(&self) {
        self.duplicates.inc();
    }

    /// A named consumer is `behind` reports behind, the oldest received `oldest_ms` ago.
    pub fn consumer(&self, name: &str, behind: i64, oldest_ms: i64) {
        let labels = vec![("consumer", name.to_owned())];
        self.consumer_behind.get_or_create(&labels).set(behind);
        self.consumer_age
            .get_or_create(&labels)
            .set(oldest_ms.max(0) as f64 / 1000.0);
    }

    /// Retention removed `rows` of `kind`.
    pub fn pruned(&self, kind: &'static str, rows: u64) {
        let labels = vec![("kind", kind)];
        self.pruned.get_or_create(&labels).inc_by(rows);
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
