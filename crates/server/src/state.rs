//! What every handler shares.

use crate::{config::Config, metrics::Metrics};
use ivrhook_engine::Engine;
use ivrhook_protocol::AppId;
use ivrhook_store::Store;
use std::{collections::HashMap, sync::Arc};

#[derive(Debug)]
pub struct AppState {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    /// `require_known_calls` by configured app.
    pub apps: HashMap<AppId, bool>,
    pub accept_any_app: bool,
    /// The delivery engine: present when any destination is configured (an app's
    /// `callback_url`, a `[[destinations]]` entry).
    pub engine: Option<Engine>,
    /// IVR analytics, when `[analytics] enabled`.
    pub analytics: Option<Arc<ivrhook_engine::analytics::Analytics>>,
    /// Wakes the report feed's waiters.
    pub feed: crate::feed::Feed,
    /// Cancelled when the server begins to stop: long polls answer and event streams end at
    /// once, rather than holding the shutdown for their whole wait.
    pub stopping: tokio_util::sync::CancellationToken,
    /// Refused reports, counted between log lines.
    pub(crate) refusals: crate::refusals::RefusalLog,
    /// Who may use the API and the dashboard.
    pub access: crate::access::Access,
    /// The dashboard's signed-in sessions.
    pub(crate) sessions: crate::signin::Sessions,
    /// The inbound checks of each app that sets any.
    pub(crate) auth: HashMap<AppId, crate::config::InboundAuth>,
    /// Each rate-limited app's token bucket.
    pub(crate) rates:
        HashMap<AppId, (governor::DefaultDirectRateLimiter, crate::config::RateLimit)>,
    /// Signed requests seen (a replay is refused).
    pub(crate) replays: crate::auth::Replays,
}

/// A place in the bounded write path; dropping it gives the place back.
#[derive(Debug)]
pub struct Slot<'a>(&'a Metrics);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.backlog.dec();
    }
}

impl AppState {
    /// Takes a place in the write path, or `None` when `inbound.queue_capacity` are taken.
    pub fn admit(&self) -> Option<Slot<'_>> {
        let before = self.metrics.backlog.inc();
        let slot = Slot(&self.metrics);
        (usize::try_from(before).unwrap_or(0) < self.config.inbound.queue_capacity).then_some(slot)
    }
}
