//! Where an app's reports go, and what the engine tracks about that place while it runs.

use crate::{breaker::Breaker, schedule::RetrySchedule};
use ivrhook_protocol::{AppId, SigningSecret};
use ivrhook_store::outbox::Lane;
use std::{collections::HashSet, sync::Mutex, time::Duration};

/// An app's delivery settings, validated at the edge (the config file).
#[derive(Debug, Clone)]
pub struct DestinationSettings {
    pub app_id: AppId,
    pub url: reqwest::Url,
    pub secret: Option<SigningSecret>,
    pub timeout: Duration,
    pub max_in_flight: u32,
    pub schedule: RetrySchedule,
    pub ordered: bool,
}

impl DestinationSettings {
    /// Defaults for everything but the URL: 5 s timeout, 16 in flight, the default schedule,
    /// ordered per call.
    pub fn new(app_id: AppId, url: reqwest::Url) -> Self {
        DestinationSettings {
            app_id,
            url,
            secret: None,
            timeout: Duration::from_secs(5),
            max_in_flight: 16,
            schedule: RetrySchedule::default(),
            ordered: true,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Destination {
    pub settings: DestinationSettings,
    pub state: Mutex<DestinationState>,
}

#[derive(Debug, Default)]
pub(crate) struct DestinationState {
    /// Requests running now; never more than `max_in_flight`.
    pub active: u32,
    pub in_flight: HashSet<i64>,
    pub breaker: Breaker,
    /// The earliest known due time per lane (`None`: nothing pending that we know of).
    pub due: [Option<i64>; 2],
    /// Bumped by every announcement of new due work, so a claim or refresh that read the
    /// store before the announcement does not overwrite it.
    pub generation: [u64; 2],
}

pub(crate) fn lane_index(lane: Lane) -> usize {
    match lane {
        Lane::First => 0,
        Lane::Retry => 1,
    }
}

impl DestinationState {
    pub fn due_at(&mut self, lane: Lane, at_ms: i64) {
        let i = lane_index(lane);
        self.due[i] = Some(self.due[i].map_or(at_ms, |d| d.min(at_ms)));
        self.generation[i] += 1;
    }

    /// Replaces a lane's due time with what the store said, unless new work was announced
    /// since `generation` was read.
    pub fn set_due(&mut self, lane: Lane, at: Option<i64>, generation: u64) {
        let i = lane_index(lane);
        if self.generation[i] == generation {
            self.due[i] = at;
        }
    }

    /// How many to claim from each lane now. First attempts come first, but when both lanes
    /// have due work a quarter of the free slots go to retries, so neither starves.
    pub fn plan(&self, now_ms: i64, max_in_flight: u32) -> [u32; 2] {
        let free = max_in_flight.saturating_sub(self.active);
        let allowed = self.breaker.allowance(now_ms, free);
        let is_due = |i: usize| self.due[i].is_some_and(|d| d <= now_ms);
        match (is_due(0), is_due(1)) {
            (true, true) => {
                let retries = (allowed / 4).max(u32::from(allowed >= 2));
                [allowed - retries, retries]
            }
            (true, false) => [allowed, 0],
            (false, true) => [0, allowed],
            (false, false) => [0, 0],
        }
    }

    /// When something may become claimable without an outside event.
    pub fn next_wake(&self, now_ms: i64) -> Option<i64> {
        let due = self.due.iter().flatten().copied().min()?;
        match self.breaker.reopens_at() {
            Some(at) if at > now_ms => Some(at.max(due)),
            _ if due > now_ms => Some(due),
            // Due now but nothing may start: a finishing request wakes the engine.
            _ => None,
        }
    }
}
