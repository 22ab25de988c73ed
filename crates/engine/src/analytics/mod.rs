//! IVR analytics, counted as reports are received (`ivrhook_store::analytics`): per app and
//! hour, each call's outcome and length, and per command position and prompt how it was
//! played, listened to, hung up on and answered with keys. A report is read once when it is
//! accepted ([`Analytics::observe`]); the counts are written once a second, one upsert per
//! key, like the activity's (`tally`). A node that dies loses at most its last second.
//!
//! - `call`: what one report tells.
//! - `names`: the caps on distinct prompts, key values and sequences, shared by all nodes.
//! - `counts`: calls turned into counts.

mod call;
mod counts;
mod names;

pub use call::bucket_ms;
pub use names::OTHER;

use crate::tally::FLUSH_EVERY;
use ivrhook_protocol::Report;
use ivrhook_store::{analytics::HOURS_KEPT, Store};
use std::{sync::Mutex, time::Duration};
use tokio_util::sync::CancellationToken;

/// Distinct key values counted by name per prompt; the rest count as [`OTHER`].
pub const KEYS_KEPT: u32 = 100;
/// Distinct command sequences counted by name per app; the rest count as [`OTHER`].
pub const PATHS_KEPT: u32 = 100;
/// How often hours older than [`HOURS_KEPT`] are rolled into days.
const ROLL_EVERY: Duration = Duration::from_secs(600);

/// How many distinct names an app's counts carry.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Prompts (`[analytics] max_prompts`).
    pub prompts: u32,
    /// Key values per prompt.
    pub keys: u32,
    /// Command sequences.
    pub paths: u32,
}

/// Calls read and not yet written.
#[derive(Debug)]
pub struct Analytics {
    caps: Caps,
    /// The zone whose days the hours are rolled into, in minutes east of UTC.
    offset_min: i64,
    calls: Mutex<Vec<call::Call>>,
    /// Held by one flush at a time.
    flushing: tokio::sync::Mutex<Flushing>,
}

#[derive(Debug, Default)]
struct Flushing {
    names: names::Names,
    /// Counts a failed write left, added to the next.
    unwritten: counts::Counts,
}

impl Analytics {
    /// Analytics with at most `max_prompts` prompts an app, rolled into days of the zone
    /// `offset_min` minutes east of UTC.
    pub fn new(max_prompts: u32, offset_min: i64) -> Analytics {
        let caps = Caps {
            prompts: max_prompts,
            keys: KEYS_KEPT,
            paths: PATHS_KEPT,
        };
        Analytics {
            caps,
            offset_min,
            calls: Mutex::default(),
            flushing: tokio::sync::Mutex::default(),
        }
    }

    /// Reads an accepted report, received at `now_ms`; one that is not a command list's
    /// counts nothing.
    pub fn observe(&self, report: &Report, now_ms: i64) {
        if let Some(call) = call::Call::of(report, now_ms) {
            self.pending().push(call);
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Vec<call::Call>> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes what was read; on failure keeps it for the next try.
    pub async fn flush(&self, store: &dyn Store) {
        let mut flushing = self.flushing.lock().await;
        let calls = std::mem::take(&mut *self.pending());
        if calls.is_empty() && flushing.unwritten.is_empty() {
            return;
        }
        let Flushing { names, unwritten } = &mut *flushing;
        let counted = counts::Interned::of(&calls);
        if let Err(e) = counted.admit(names, store, self.caps).await {
            tracing::warn!(error = %e, calls = calls.len(), "analytics not written; tried again");
            self.pending().extend(calls);
            return;
        }
        counted.into_counts(unwritten, names);
        let written: Vec<_> = (unwritten.iter())
            .map(|(key, n)| ivrhook_store::analytics::Count {
                key: key.clone(),
                n: *n,
            })
            .collect();
        match store.add_analytics(&written).await {
            Ok(()) => unwritten.clear(),
            Err(e) => {
                tracing::warn!(error = %e, keys = written.len(), "analytics not written; tried again")
            }
        }
    }

    /// Flushes every second and rolls old hours into days, until `stop` (the server flushes
    /// once more after its last report).
    pub async fn run(&self, store: &dyn Store, stop: CancellationToken) {
        let mut flush = tokio::time::interval(FLUSH_EVERY);
        let mut roll = tokio::time::interval(ROLL_EVERY);
        loop {
            tokio::select! {
                _ = flush.tick() => self.flush(store).await,
                _ = roll.tick() => self.roll_old_hours(store).await,
                () = stop.cancelled() => return,
            }
        }
    }

    /// Rolls the hours that ended more than [`HOURS_KEPT`] ago into their days.
    async fn roll_old_hours(&self, store: &dyn Store) {
        let now_hour = chrono::Utc::now().timestamp_millis().div_euclid(3_600_000);
        let before = (now_hour - HOURS_KEPT) * 60;
        if let Err(e) = store.roll_analytics(before, self.offset_min).await {
            tracing::warn!(error = %e, "analytics hours not rolled into days; tried again later");
        }
    }
}
