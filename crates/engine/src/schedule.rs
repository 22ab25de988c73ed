//! When to try again: a retry schedule with jitter, `Retry-After`, and the limit on `108105`.
//! Pure: the random draw and the time are passed in.

use crate::classify::Verdict;
use ivrhook_store::outbox::Settle;
use std::time::Duration;

/// How many `108105` answers a delivery gets before it is dead: the first, then three retries.
pub const UNKNOWN_CALL_ANSWERS: u32 = 4;

/// How far a delay strays either way, as a share of it: retries after an outage spread out.
pub const JITTER: f64 = 0.2;

/// The delays before each attempt; the list's length is the number of attempts.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
    /// Each delay is drawn from `d × (1 ± jitter)`, so retries after an outage spread out.
    jitter: f64,
}

impl Default for RetrySchedule {
    /// Immediately, then 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 12 h; ±20 %.
    fn default() -> Self {
        let secs = [0, 5, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800, 43_200];
        RetrySchedule::new(
            secs.iter().map(|s| Duration::from_secs(*s)).collect(),
            JITTER,
        )
        .expect("the default schedule is valid")
    }
}

impl RetrySchedule {
    /// A schedule of `delays`, each drawn within `± jitter` of itself; refuses an empty list or
    /// a jitter outside `[0, 1)`.
    pub fn new(delays: Vec<Duration>, jitter: f64) -> Result<Self, String> {
        if delays.is_empty() {
            return Err("must list at least one delay (the first attempt's)".into());
        }
        if !(0.0..1.0).contains(&jitter) {
            return Err(format!("jitter {jitter} must be at least 0 and below 1"));
        }
        Ok(RetrySchedule { delays, jitter })
    }

    /// The delays before each attempt, without jitter.
    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// How many attempts a round of the schedule makes.
    pub fn attempts(&self) -> u32 {
        self.delays.len() as u32
    }

    /// The delay before attempt `n` (0-based), jittered by `draw` in `[0, 1)`.
    pub fn delay(&self, n: u32, draw: f64) -> Option<Duration> {
        let base = *self.delays.get(n as usize)?;
        let factor = 1.0 + self.jitter * (2.0 * draw - 1.0);
        Some(base.mul_f64(factor.max(0.0)))
    }
}

/// Where a delivery goes after an attempt. `attempts` counts this one; `unknown_call_answers`
/// counts earlier `108105` answers.
pub fn settle(
    verdict: &Verdict,
    attempts: u32,
    unknown_call_answers: u32,
    schedule: &RetrySchedule,
    draw: f64,
    now_ms: i64,
) -> Settle {
    let (reason, retry_after, unknown_call) = match verdict {
        Verdict::Delivered { .. } => return Settle::Delivered,
        Verdict::Dead { reason } => {
            return Settle::Dead {
                reason: reason.clone(),
            }
        }
        Verdict::UnknownCall if unknown_call_answers + 1 >= UNKNOWN_CALL_ANSWERS => {
            return Settle::Dead {
                reason: format!("answered 108105 (unknown call) {UNKNOWN_CALL_ANSWERS} times"),
            }
        }
        Verdict::UnknownCall => ("answered 108105 (unknown call)", None, true),
        Verdict::Retry {
            reason,
            retry_after,
        } => (reason.as_str(), *retry_after, false),
    };
    let Some(delay) = schedule.delay(attempts, draw) else {
        return Settle::Dead {
            reason: format!("gave up after {attempts} attempts; last: {reason}"),
        };
    };
    let delay = delay.max(retry_after.unwrap_or_default());
    Settle::Retry {
        at_ms: now_ms + delay.as_millis() as i64,
        unknown_call,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(secs: &[u64]) -> RetrySchedule {
        RetrySchedule::new(secs.iter().map(|s| Duration::from_secs(*s)).collect(), 0.2).unwrap()
    }

    fn retry(reason: &str) -> Verdict {
        Verdict::Retry {
            reason: reason.into(),
            retry_after: None,
        }
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let s = RetrySchedule::default();
        assert_eq!(s.attempts(), 11);
        assert_eq!(s.delay(1, 0.5), Some(Duration::from_secs(5)));
        assert_eq!(s.delay(1, 0.0), Some(Duration::from_secs(4)));
        assert!(s.delay(1, 0.999_999).unwrap() < Duration::from_secs(6));
        assert_eq!(s.delay(11, 0.5), None);
    }

    #[test]
    fn retries_follow_the_schedule_until_it_runs_out() {
        let s = schedule(&[0, 5, 30]);
        assert_eq!(
            settle(&retry("x"), 1, 0, &s, 0.5, 1000),
            Settle::Retry {
                at_ms: 6000,
                unknown_call: false
            }
        );
        assert_eq!(
            settle(&retry("x"), 2, 0, &s, 0.5, 1000),
            Settle::Retry {
                at_ms: 31_000,
                unknown_call: false
            }
        );
        let Settle::Dead { reason } = settle(&retry("HTTP 503"), 3, 0, &s, 0.5, 1000) else {
            panic!()
        };
        assert_eq!(reason, "gave up after 3 attempts; last: HTTP 503");
    }

    #[test]
    fn retry_after_can_only_lengthen_the_wait() {
        let s = schedule(&[0, 5, 30]);
        let long = Verdict::Retry {
            reason: "429".into(),
            retry_after: Some(Duration::from_secs(60)),
        };
        assert_eq!(
            settle(&long, 1, 0, &s, 0.5, 0),
            Settle::Retry {
                at_ms: 60_000,
                unknown_call: false
            }
        );
        let short = Verdict::Retry {
            reason: "429".into(),
            retry_after: Some(Duration::from_secs(1)),
        };
        assert_eq!(
            settle(&short, 1, 0, &s, 0.5, 0),
            Settle::Retry {
                at_ms: 5000,
                unknown_call: false
            }
        );
    }

    #[test]
    fn unknown_call_is_retried_three_times_then_dead() {
        let s = RetrySchedule::default();
        for earlier in 0..3 {
            assert!(matches!(
                settle(&Verdict::UnknownCall, earlier + 1, earlier, &s, 0.5, 0),
                Settle::Retry {
                    unknown_call: true,
                    ..
                }
            ));
        }
        assert!(matches!(
            settle(&Verdict::UnknownCall, 4, 3, &s, 0.5, 0),
            Settle::Dead { .. }
        ));
    }

    #[test]
    fn permanent_and_delivered_settle_at_once() {
        let s = RetrySchedule::default();
        assert_eq!(
            settle(&Verdict::Delivered { warning: None }, 1, 0, &s, 0.5, 0),
            Settle::Delivered
        );
        assert_eq!(
            settle(
                &Verdict::Dead {
                    reason: "108100".into()
                },
                1,
                0,
                &s,
                0.5,
                0
            ),
            Settle::Dead {
                reason: "108100".into()
            }
        );
    }

    #[test]
    fn a_schedule_needs_a_delay_and_sane_jitter() {
        assert!(RetrySchedule::new(vec![], 0.2).is_err());
        assert!(RetrySchedule::new(vec![Duration::ZERO], 1.5).is_err());
    }
}
