//! A circuit breaker per destination: after repeated failures (no answer, or an HTTP error
//! without a contract code) it holds the destination's deliveries (they stay pending, their
//! attempts unspent) and lets one probe through after a cool-down, instead of spending
//! workers on a URL that is down. Pure: time is passed in.

/// Consecutive failures that open the breaker.
pub const FAILURES_TO_OPEN: u32 = 5;
/// First cool-down; it doubles on each failed probe, up to [`MAX_COOLDOWN_MS`].
pub const FIRST_COOLDOWN_MS: i64 = 5_000;
/// The longest cool-down: a destination down for long is probed every five minutes.
pub const MAX_COOLDOWN_MS: i64 = 300_000;

/// Whether deliveries go to the destination now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Deliveries go.
    Closed,
    /// Deliveries wait for the cool-down to pass.
    Open,
    /// One probe is out; the rest wait for its answer.
    HalfOpen,
}

impl BreakerState {
    /// For the metrics gauge: 0 closed, 1 open, 2 half-open.
    pub fn as_gauge(self) -> i64 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        }
    }
}

/// One destination's breaker on this node.
#[derive(Debug, Clone)]
pub struct Breaker {
    failures: u32,
    open_until_ms: Option<i64>,
    cooldown_ms: i64,
    probing: bool,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker {
            failures: 0,
            open_until_ms: None,
            cooldown_ms: FIRST_COOLDOWN_MS,
            probing: false,
        }
    }
}

impl Breaker {
    /// The state at `now_ms`.
    pub fn state(&self, now_ms: i64) -> BreakerState {
        match self.open_until_ms {
            None => BreakerState::Closed,
            Some(until) if now_ms < until => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        }
    }

    /// How many requests may start now (capped by the caller's free slots).
    pub fn allowance(&self, now_ms: i64, free: u32) -> u32 {
        match self.state(now_ms) {
            BreakerState::Closed => free,
            BreakerState::Open => 0,
            BreakerState::HalfOpen if self.probing => 0,
            BreakerState::HalfOpen => free.min(1),
        }
    }

    /// When the next probe may go, if the breaker is holding deliveries.
    pub fn reopens_at(&self) -> Option<i64> {
        self.open_until_ms
    }

    /// An attempt begins at `now_ms` (a probe, while half-open).
    pub fn on_start(&mut self, now_ms: i64) {
        if self.state(now_ms) == BreakerState::HalfOpen {
            self.probing = true;
        }
    }

    /// An attempt was answered: the breaker closes.
    pub fn on_success(&mut self) {
        *self = Breaker::default();
    }

    /// An attempt found the destination down at `now_ms`: at the [`FAILURES_TO_OPEN`]th failure
    /// in a row, or at a failed probe, the breaker opens.
    pub fn on_failure(&mut self, now_ms: i64) {
        if self.probing {
            self.probing = false;
            self.cooldown_ms = (self.cooldown_ms * 2).min(MAX_COOLDOWN_MS);
            self.open_until_ms = Some(now_ms + self.cooldown_ms);
            return;
        }
        self.failures += 1;
        if self.failures >= FAILURES_TO_OPEN && self.open_until_ms.is_none() {
            self.open_until_ms = Some(now_ms + self.cooldown_ms);
        }
    }
}

/// The outcomes of the last 128 attempts, for the error rate operator events carry.
#[derive(Debug, Clone, Copy, Default)]
pub struct Recent {
    /// A bit per attempt, the newest lowest; set where it found the destination down.
    failed: u128,
    seen: u32,
}

impl Recent {
    /// An attempt answered (`down`: it found the destination down).
    pub fn push(&mut self, down: bool) {
        self.failed = (self.failed << 1) | u128::from(down);
        self.seen = (self.seen + 1).min(128);
    }

    /// Failed attempts among the recent ones, 0 to 1 (0 before any).
    pub fn error_rate(&self) -> f64 {
        match self.seen {
            0 => 0.0,
            n => f64::from(self.failed.count_ones()) / f64::from(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_rate_is_of_the_last_128_attempts() {
        let mut r = Recent::default();
        assert_eq!(r.error_rate(), 0.0);
        r.push(true);
        r.push(false);
        assert_eq!(r.error_rate(), 0.5);
        for _ in 0..128 {
            r.push(true);
        }
        assert_eq!(r.error_rate(), 1.0, "the old successes are forgotten");
    }

    #[test]
    fn opens_after_repeated_failures_then_probes_once() {
        let mut b = Breaker::default();
        for _ in 0..FAILURES_TO_OPEN - 1 {
            b.on_failure(0);
        }
        assert_eq!(b.allowance(0, 16), 16);
        b.on_failure(0);
        assert_eq!(b.state(0), BreakerState::Open);
        assert_eq!(b.allowance(FIRST_COOLDOWN_MS - 1, 16), 0);
        assert_eq!(b.allowance(FIRST_COOLDOWN_MS, 16), 1, "one probe");
        b.on_start(FIRST_COOLDOWN_MS);
        assert_eq!(
            b.allowance(FIRST_COOLDOWN_MS, 16),
            0,
            "only one probe at a time"
        );
        b.on_failure(FIRST_COOLDOWN_MS);
        assert_eq!(
            b.state(FIRST_COOLDOWN_MS + 2 * FIRST_COOLDOWN_MS - 1),
            BreakerState::Open,
            "cool-down doubled"
        );
        let later = FIRST_COOLDOWN_MS * 3;
        b.on_start(later);
        b.on_success();
        assert_eq!(b.state(later), BreakerState::Closed);
        assert_eq!(b.allowance(later, 16), 16);
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let mut b = Breaker::default();
        for _ in 0..FAILURES_TO_OPEN - 1 {
            b.on_failure(0);
        }
        b.on_success();
        b.on_failure(0);
        assert_eq!(b.state(0), BreakerState::Closed);
    }
}
