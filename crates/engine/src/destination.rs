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
    /// Deliveries claimed here and not yet recorded (running, or answered and being
    /// recorded): claims skip them.
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
    ///
    /// Requests running are at most `max_in_flight`; claimed deliveries not yet recorded
    /// (running, or answered and waiting for their record to commit) at most twice that, so a
    /// node killed abruptly leaves at most `2 × max_in_flight` deliveries that were sent and
    /// may be sent again.
    pub fn plan(&self, now_ms: i64, max_in_flight: u32) -> [u32; 2] {
        let unrecorded = u32::try_from(self.in_flight.len()).unwrap_or(u32::MAX);
        let free = max_in_flight
            .saturating_sub(self.active)
            .min((2 * max_in_flight).saturating_sub(unrecorded));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Free slots are bounded by requests running and, separately, by deliveries claimed and
    /// not yet recorded (twice `max_in_flight`).
    #[test]
    fn plan_bounds_running_requests_and_unrecorded_claims() {
        let mut st = DestinationState::default();
        st.due_at(Lane::First, 0);
        assert_eq!(st.plan(0, 16), [16, 0]);
        st.active = 15;
        st.in_flight = (0..15).collect();
        assert_eq!(st.plan(0, 16), [1, 0], "one request slot left");
        st.active = 0;
        st.in_flight = (0..30).collect();
        assert_eq!(st.plan(0, 16), [2, 0], "30 of 32 unrecorded");
        st.in_flight = (0..40).collect();
        assert_eq!(st.plan(0, 16), [0, 0]);
    }
}
