//! Refused reports in the log without a line per request: the first refusal of each app and
//! code is logged when it comes, with its reason; the rest are counted, and one summary line
//! per app and code is logged every `log_refusals_every` while refusals go on. A platform
//! retrying a bad report thousands of times makes two lines a minute, not thousands.

use ivrhook_protocol::ResponseCode;
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

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
        let app = app.unwrap_or("-");
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
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

    /// Logs what was counted since the last summary, and starts counting afresh.
    pub fn summarise(&self) {
        let counts = std::mem::take(&mut *self.counts.lock().unwrap_or_else(|p| p.into_inner()));
        for ((app, code), c) in counts {
            if c.refused > 1 {
                tracing::warn!(app, code, refused = c.refused, over = ?c.since.elapsed(),
                    "reports refused");
            }
        }
    }
}
