//! Refused reports in the log without a line per request: the first refusal of each app and
//! code is logged when it comes, with its reason; the rest are counted, and one summary line
//! per app and code is logged `log_refusals_every` after that first one, and so on while
//! refusals go on. A platform
//! retrying a bad report thousands of times makes two lines a minute, not thousands.

use ivrhook_protocol::ResponseCode;
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Apps counted apart per summary; refusals naming further apps are counted together under
/// `*`, so a sender inventing a new appId for every request floods neither memory nor log.
const APPS: usize = 64;

#[derive(Debug)]
pub(crate) struct RefusalLog {
    every: Duration,
    /// Refusals since the last summary, by app (`-` when the body named none) and code.
    counts: Mutex<HashMap<(String, &'static str), Counted>>,
}

#[derive(Debug)]
struct Counted {
    refused: u64,
    since: Instant,
}

impl RefusalLog {
    pub fn new(every: Duration) -> Self {
        RefusalLog {
            every,
            counts: Mutex::default(),
        }
    }

    pub fn every(&self) -> Duration {
        self.every
    }

    pub fn refused(&self, app: Option<&str>, code: ResponseCode, reason: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let app = match app.unwrap_or("-") {
            app if counts.len() < APPS || counts.contains_key(&(app.to_owned(), code.as_str())) => {
                app
            }
            _ => "*",
        };
        let counted = counts
            .entry((app.to_owned(), code.as_str()))
            .or_insert_with(|| {
                tracing::warn!(app, code = code.as_str(), reason,
                    every = ?self.every, "report refused; more like it are counted, not logged");
                Counted {
                    refused: 0,
                    since: Instant::now(),
                }
            });
        counted.refused += 1;
    }

    /// Logs what was counted for each app and code whose period (`every` from its first
    /// refusal) has ended, or for all of them (`all`, at shutdown), and starts counting those
    /// afresh. A period starts at its first refusal, so refusals that come together are one
    /// line and one summary however they fall against the clock.
    pub fn summarise(&self, all: bool) {
        let mut due = Vec::new();
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|key, c| {
                let ended = all || c.since.elapsed() >= self.every;
                if ended {
                    due.push((key.clone(), c.refused, c.since.elapsed()));
                }
                !ended
            });
        for ((app, code), refused, over) in due {
            if refused > 1 {
                tracing::warn!(app, code, refused, ?over, "reports refused");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_apps_are_counted_together_past_a_bound() {
        let log = RefusalLog::new(Duration::from_secs(60));
        for n in 0..1000 {
            log.refused(
                Some(&format!("app-{n}")),
                ResponseCode::UnknownApp,
                "unknown",
            );
        }
        let counts = log.counts.lock().unwrap();
        assert_eq!(counts.len(), APPS + 1, "64 apps apart, the rest under *");
        let rest = &counts[&("*".to_owned(), "108101")];
        assert_eq!(rest.refused, 1000 - APPS as u64);
    }
}

#[cfg(test)]
mod periods {
    use super::*;

    #[test]
    fn a_period_runs_from_its_first_refusal() {
        let log = RefusalLog::new(Duration::from_secs(60));
        log.refused(Some("a"), ResponseCode::BadInput, "bad");
        log.summarise(false);
        log.refused(Some("a"), ResponseCode::BadInput, "bad");
        let counted = log.counts.lock().unwrap()[&("a".to_owned(), "108100")].refused;
        assert_eq!(
            counted, 2,
            "a summary before the period ends leaves it counting"
        );
        log.summarise(true);
        assert!(
            log.counts.lock().unwrap().is_empty(),
            "all are summarised at shutdown"
        );
    }
}
