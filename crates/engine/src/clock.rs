//! The engine's clock: wall-clock milliseconds (what the store keeps) that advance with
//! tokio's clock, so tests can pause and advance time and the schedule follows.

use std::time::Duration;
use tokio::time::Instant;

/// Wall-clock milliseconds read from tokio's clock, so that paused time moves them in tests.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    epoch_ms: i64,
    start: Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

impl Clock {
    /// A clock starting at the system's time now.
    pub fn new() -> Self {
        Clock {
            epoch_ms: chrono::Utc::now().timestamp_millis(),
            start: Instant::now(),
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.epoch_ms + self.start.elapsed().as_millis() as i64
    }

    /// The tokio instant of `ms` (milliseconds since the epoch).
    pub fn instant_at(&self, ms: i64) -> Instant {
        self.start + Duration::from_millis(u64::try_from(ms - self.epoch_ms).unwrap_or(0))
    }

    /// Sleeps until `ms` (milliseconds since the epoch).
    pub async fn sleep_until_ms(&self, ms: i64) {
        tokio::time::sleep_until(self.instant_at(ms)).await;
    }
}
