//! What this node did in each of the last sixty minutes: reports received, attempts by
//! outcome, answers by code. The dashboard draws its charts from it; kept in memory, since a
//! count per minute is cheap to keep and costly to ask a database for.

use ivrhook_store::outbox::Settle;
use std::{
    collections::{BTreeMap, VecDeque},
    sync::Mutex,
};

/// Minutes kept.
pub const MINUTES: usize = 60;

/// One minute's counts; `at_min` is minutes since the Unix epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Minute {
    /// Minutes since the Unix epoch.
    pub at_min: i64,
    /// Reports received.
    pub reports: u64,
    /// Attempts that delivered.
    pub delivered: u64,
    /// Attempts to be tried again.
    pub retried: u64,
    /// Attempts after which the delivery is dead.
    pub dead: u64,
    /// Attempts by what answered: a contract code, `HTTP 503`, `acknowledged`, `no answer`.
    pub answers: BTreeMap<String, u64>,
}

/// This node's counts of the last [`MINUTES`] minutes.
#[derive(Debug)]
pub struct Activity {
    minutes: Mutex<VecDeque<Minute>>,
    /// When this node began counting: the counts before are not in memory.
    since_ms: i64,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            minutes: Mutex::default(),
            since_ms: chrono::Utc::now().timestamp_millis(),
        }
    }
}

impl Activity {
    /// When this node began counting (it started): the minutes before hold nothing.
    pub fn since_ms(&self) -> i64 {
        self.since_ms
    }

    /// Counts a report received at `now_ms`.
    pub fn report(&self, now_ms: i64) {
        self.with_minute(now_ms, |m| m.reports += 1);
    }

    /// Counts an attempt settled at `now_ms`, by its outcome and by what answered.
    pub fn attempt(&self, now_ms: i64, settle: &Settle, answer: &str) {
        self.with_minute(now_ms, |m| {
            match settle {
                Settle::Delivered => m.delivered += 1,
                Settle::Retry { .. } => m.retried += 1,
                Settle::Dead { .. } => m.dead += 1,
            }
            *m.answers.entry(answer.to_owned()).or_default() += 1;
        });
    }

    fn with_minute(&self, now_ms: i64, change: impl FnOnce(&mut Minute)) {
        let at_min = now_ms.div_euclid(60_000);
        let mut minutes = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        if minutes.back().is_none_or(|m| m.at_min < at_min) {
            minutes.push_back(Minute {
                at_min,
                ..Minute::default()
            });
            while minutes.len() > MINUTES {
                minutes.pop_front();
            }
        }
        // A time behind the newest minute (threads race) counts in its own minute when still
        // kept, else in the oldest.
        let i = minutes
            .iter()
            .rposition(|m| m.at_min <= at_min)
            .unwrap_or(0);
        change(&mut minutes[i]);
    }

    /// The last sixty minutes up to `now_ms`, oldest first, a zero minute where nothing
    /// happened.
    pub fn last_hour(&self, now_ms: i64) -> Vec<Minute> {
        let now_min = now_ms.div_euclid(60_000);
        let minutes = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        (now_min - MINUTES as i64 + 1..=now_min)
            .map(|at_min| {
                let kept = minutes.iter().find(|m| m.at_min == at_min);
                kept.cloned().unwrap_or(Minute {
                    at_min,
                    ..Minute::default()
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn counts_fall_in_their_minute_and_the_hour_slides() {
        let a = Activity::default();
        let t = 1_000 * MIN;
        a.report(t);
        a.report(t + 59_999);
        a.attempt(t + MIN, &Settle::Delivered, "000000");
        a.attempt(t + MIN, &Settle::Dead { reason: "x".into() }, "108100");
        a.report(t + 59_998); // a racing thread's time from the minute before
        let hour = a.last_hour(t + MIN);
        assert_eq!(hour.len(), MINUTES);
        assert_eq!(hour.last().unwrap().at_min, 1_001);
        assert_eq!(hour[58].reports, 3, "the minute before the newest");
        let newest = hour.last().unwrap();
        assert_eq!((newest.delivered, newest.dead, newest.retried), (1, 1, 0));
        assert_eq!(newest.answers.get("108100"), Some(&1));
        let later = a.last_hour(t + 61 * MIN);
        assert!(
            later.iter().all(|m| m.reports == 0),
            "an hour later all is gone"
        );
        a.report(t + 200 * MIN);
        assert!(a.minutes.lock().unwrap().len() <= MINUTES);
    }
}
