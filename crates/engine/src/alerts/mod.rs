//! Operator events: a delivery gone dead, a destination failing and recovered, a backlog
//! nearing its bound, sent to the destinations `[alerts]` names. The engine's hot paths
//! report what happened to the [`Alerter`] (a short lock, no I/O); [`Engine::run_alerts`]
//! coalesces it (`gather`) and stores each event as an outbound event for each alert
//! destination whose `type` filter takes it, so it travels as every event does: durable,
//! retried, in order. Nothing that happens to an alert destination is itself announced.
//!
//! - `types`: the catalogue and the `type` filter; `event`: the events' JSON;
//!   `gather`: coalescing.

pub mod event;
mod gather;
pub mod types;

use crate::{destination::Destination, Engine, Inner};
use event::{DeadDelivery, Subject};
use gather::{Condition, Gather};
use ivrhook_protocol::{AppId, CallId};
use ivrhook_store::outbox::NewEvent;
use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Mutex, MutexGuard,
    },
    time::Duration,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
pub use types::TypeFilter;

/// The app operator events are stored under (`GET /v1/deliveries?app=ivrhook` lists them).
pub const OPERATOR_APP: &str = "ivrhook";

/// A backlog is high from this share of its `max_backlog`, in percent.
pub const BACKLOG_HIGH_PERCENT: u64 = 80;

/// Events not yet stored (the store failing) that are kept to try again; past it the oldest
/// are dropped with an error in the log.
const UNSTORED_KEPT: usize = 10_000;

/// `[alerts]`: how operator events are coalesced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSettings {
    /// A lasting condition is announced again after this long.
    pub repeat_after: Duration,
    /// Dead deliveries of one destination are gathered this long into one announcement.
    pub group_within: Duration,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            repeat_after: Duration::from_secs(15 * 60),
            group_within: Duration::from_secs(30),
        }
    }
}

/// What happened that operators hear of, gathered until it is sent.
#[derive(Debug)]
pub(crate) struct Alerter {
    /// The alert destinations and what each takes.
    targets: Vec<(String, TypeFilter)>,
    group_within: Duration,
    /// Whether this node sends them (`run_alerts` runs): a node that does not gathers
    /// nothing, so nothing piles up unsent.
    sending: AtomicBool,
    gather: Mutex<Gather>,
    wake: Notify,
}

impl Alerter {
    pub fn new(settings: &AlertSettings, destinations: &[std::sync::Arc<Destination>]) -> Self {
        let targets = (destinations.iter())
            .filter_map(|d| Some((d.name().to_owned(), d.settings.alerts.clone()?)))
            .collect();
        Alerter {
            targets,
            group_within: settings.group_within,
            sending: AtomicBool::new(false),
            gather: Mutex::new(Gather::new(
                settings.repeat_after.as_millis() as i64,
                settings.group_within.as_millis() as i64,
            )),
            wake: Notify::new(),
        }
    }

    /// Whether `dest` is heard of: this node sends alerts, and it is not an alert destination
    /// (an event about one could only travel through it: a loop).
    fn heard(&self, dest: &Destination) -> bool {
        self.sending.load(Ordering::Relaxed) && dest.settings.alerts.is_none()
    }

    fn gather(&self) -> MutexGuard<'_, Gather> {
        self.gather.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A delivery to `dest` died.
    pub fn dead(&self, dest: &Destination, delivery: DeadDelivery, now_ms: i64) {
        if self.heard(dest) {
            self.gather().dead(dest.name(), delivery, now_ms);
        }
    }

    /// `dest`'s breaker opened (`failing`) or closed.
    pub fn health(
        &self,
        dest: &Destination,
        failing: bool,
        rate: f64,
        error: Option<String>,
        now_ms: i64,
    ) {
        if !self.heard(dest) {
            return;
        }
        let subject = Subject::Health {
            destination: dest.name().to_owned(),
            failing,
            error_rate: rate,
            last_error: error,
        };
        self.condition(Condition::Failing, failing, subject, now_ms);
    }

    /// `dest`'s backlog was counted.
    pub fn backlog(&self, dest: &Destination, pending: u64, now_ms: i64) {
        let max_backlog = dest.settings.max_backlog;
        if !self.heard(dest) {
            return;
        }
        // Saturating: the recordings destination's bound is `u64::MAX` (it refuses nothing).
        let high = pending.saturating_mul(100) >= max_backlog.saturating_mul(BACKLOG_HIGH_PERCENT);
        let subject = Subject::Backlog {
            destination: dest.name().to_owned(),
            high,
            pending,
            max_backlog,
        };
        self.condition(Condition::BacklogHigh, high, subject, now_ms);
    }

    /// An operator paused (or resumed) `dest`: announced as it happens, never coalesced.
    pub fn paused(&self, dest: &Destination, paused: bool) {
        if !self.heard(dest) {
            return;
        }
        let destination = dest.name().to_owned();
        self.gather().ready(Subject::Pause {
            destination,
            paused,
        });
        self.wake.notify_one();
    }

    /// A recording could not be kept: announced as it happens, never coalesced.
    pub fn recording_failed(&self, dest: &Destination, failed: Subject) {
        if self.heard(dest) {
            self.gather().ready(failed);
            self.wake.notify_one();
        }
    }

    fn condition(&self, condition: Condition, holds: bool, subject: Subject, now_ms: i64) {
        let mut gather = self.gather();
        match holds {
            true => gather.started(condition, subject, now_ms),
            false => gather.ended(condition, subject),
        }
        drop(gather);
        self.wake.notify_one();
    }
}

impl Engine {
    /// Sends operator events until `shutdown`, then what is still gathered. Returns at once
    /// when no destination takes them.
    pub async fn run_alerts(&self, shutdown: CancellationToken) {
        let inner = &self.inner;
        if inner.alerter.targets.is_empty() {
            return;
        }
        inner.alerter.sending.store(true, Ordering::Relaxed);
        let tick = inner.alerter.group_within.min(Duration::from_secs(1));
        let mut unstored: Vec<NewEvent> = Vec::new();
        loop {
            let stopping = tokio::select! {
                () = tokio::time::sleep(tick) => false,
                () = inner.alerter.wake.notified() => false,
                () = shutdown.cancelled() => true,
            };
            let now_ms = inner.clock.now_ms();
            let subjects = inner.alerter.gather().take(now_ms, stopping);
            for mut event in subjects
                .iter()
                .flat_map(|s| events(inner, s, now_ms, false))
            {
                event.first_attempt_at_ms = self.first_attempt_at(&event.destination, now_ms);
                unstored.push(event);
            }
            unstored = self.store_all(unstored).await;
            if stopping {
                inner.alerter.sending.store(false, Ordering::Relaxed);
                return;
            }
        }
    }

    /// Stores each event; the ones the store refused, to try again.
    async fn store_all(&self, events: Vec<NewEvent>) -> Vec<NewEvent> {
        let mut left = Vec::new();
        for event in events {
            if !left.is_empty() {
                left.push(event);
                continue;
            }
            if let Err(e) = self.submit(event.clone()).await {
                tracing::error!(error = ?e, "could not store an operator event; trying again");
                left.push(event);
            }
        }
        if left.len() > UNSTORED_KEPT {
            let dropped = left.len() - UNSTORED_KEPT;
            tracing::error!(dropped, "operator events dropped: the store refused them");
            left.drain(..dropped);
        }
        left
    }
}

/// The subject as one event for each alert destination that takes its type; `idempotent`:
/// with a key of the type, destination and subject, so that the same announcement made again
/// (another node, a sweep after a crash) is stored once.
pub(crate) fn events(
    inner: &Inner,
    subject: &Subject,
    now_ms: i64,
    idempotent: bool,
) -> Vec<NewEvent> {
    let body = |id: &str| event::render(subject, id, now_ms, &inner.owner);
    let (Ok(app_id), Ok(call_id)) = (
        AppId::try_from(OPERATOR_APP),
        CallId::try_from(subject.key()),
    ) else {
        tracing::warn!(
            key = subject.key(),
            "an operator event's key is not a call id"
        );
        return Vec::new();
    };
    (inner.alerter.targets.iter())
        .filter(|(_, filter)| filter.matches(subject.kind()))
        .map(|(target, _)| {
            let id = format!("oe-{now_ms:x}-{:08x}", (inner.draw() * 4e9) as u32);
            NewEvent {
                app_id: app_id.clone(),
                call_id: call_id.clone(),
                destination: target.clone(),
                idempotency_key: idempotent
                    .then(|| format!("{}:{target}:{}", subject.kind(), subject.key())),
                body: body(&id),
                created_at_ms: now_ms,
                first_attempt_at_ms: now_ms,
                lease: None,
            }
        })
        .collect()
}
