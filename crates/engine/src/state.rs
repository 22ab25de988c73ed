//! What the engine tracks about one destination while it runs: requests running, deliveries
//! claimed and not yet recorded, the circuit breaker, the known due times, and claimed
//! deliveries waiting for a slot. The fields are private: every change goes through a method
//! here, which keeps the rules (at most `max_in_flight` requests; at most twice that claimed
//! and unrecorded) in one place.

use crate::breaker::{Breaker, BreakerState, Recent};
use ivrhook_store::outbox::{Claimed, Lane};
use std::collections::{HashSet, VecDeque};

#[derive(Debug, Default)]
pub(crate) struct DestinationState {
    /// Requests running now; never more than `max_in_flight`.
    active: u32,
    /// Deliveries claimed here and not yet recorded (running, or answered and being
    /// recorded): claims skip them.
    in_flight: HashSet<i64>,
    breaker: Breaker,
    recent: Recent,
    /// Since when it is paused: nothing starts while it is.
    paused: Option<i64>,
    /// The earliest known due time per lane (`None`: nothing pending that we know of).
    due: [Option<i64>; 2],
    /// Bumped by every announcement of new due work, so a claim or refresh that read the
    /// store before the announcement does not overwrite it.
    generation: [u64; 2],
    /// Claimed deliveries waiting for a request slot: new deliveries sent as they are written
    /// took the slots a claim had counted on while it ran. They go before anything else.
    ready: VecDeque<Ready>,
}

/// A claimed delivery waiting for a slot, with its lease.
#[derive(Debug)]
pub(crate) struct Ready {
    pub claimed: Claimed,
    pub lease_until_ms: i64,
}

pub(crate) fn lane_index(lane: Lane) -> usize {
    match lane {
        Lane::First => 0,
        Lane::Retry => 1,
    }
}

impl DestinationState {
    /// The generations each lane's due time was read at (see `set_due`).
    pub fn generations(&self) -> [u64; 2] {
        self.generation
    }

    /// Deliveries a claim must not take: this node has them already.
    pub fn exclusions(&self) -> Vec<i64> {
        self.in_flight.iter().copied().collect()
    }

    /// Gives back a slot `reserve` took for a new delivery that was not sent after all.
    pub fn unreserve(&mut self) {
        self.active -= 1;
    }

    /// A new delivery starts on the slot `reserve` took.
    pub fn start_reserved(&mut self, delivery_id: i64, now_ms: i64) {
        self.in_flight.insert(delivery_id);
        self.breaker.on_start(now_ms);
    }

    /// A request got its answer (or none): its slot is free, and the breaker learns whether
    /// the destination looks down. The delivery stays in flight until it is recorded.
    pub fn answered(&mut self, now_ms: i64, down: bool) -> BreakerState {
        self.active -= 1;
        self.recent.push(down);
        if down {
            self.breaker.on_failure(now_ms);
        } else {
            self.breaker.on_success();
        }
        self.breaker.state(now_ms)
    }

    /// The breaker's state now, and when it lets the next probe through if it holds.
    pub fn breaker(&self, now_ms: i64) -> (BreakerState, Option<i64>) {
        (self.breaker.state(now_ms), self.breaker.reopens_at())
    }

    /// Since when it is paused, if it is.
    pub fn paused(&self) -> Option<i64> {
        self.paused
    }

    /// Paused since `since`, or (`None`) not paused.
    pub fn set_paused(&mut self, since: Option<i64>) {
        self.paused = since;
    }

    /// Failed attempts among the recent ones, 0 to 1.
    pub fn error_rate(&self) -> f64 {
        self.recent.error_rate()
    }

    /// Requests running now.
    pub fn active(&self) -> u32 {
        self.active
    }

    /// Whether this node holds the delivery (sending it, or recording its attempt).
    pub fn holds(&self, delivery_id: i64) -> bool {
        self.in_flight.contains(&delivery_id)
    }

    /// The delivery's attempt is recorded (or given up on): claims may take it again.
    pub fn recorded(&mut self, delivery_id: i64) {
        self.in_flight.remove(&delivery_id);
    }

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
        if !self.ready.is_empty() || self.paused.is_some() {
            return [0, 0];
        }
        let allowed = self.breaker.allowance(now_ms, self.free(max_in_flight));
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

    /// Slots for requests that may start now: see `plan`.
    fn free(&self, max_in_flight: u32) -> u32 {
        // Sent and not yet recorded: what a killed node may have sent twice.
        let sent = self.in_flight.len().saturating_sub(self.ready.len());
        let unrecorded = u32::try_from(sent).unwrap_or(u32::MAX);
        max_in_flight
            .saturating_sub(self.active)
            .min((2 * max_in_flight).saturating_sub(unrecorded))
    }

    /// Takes a request slot for a new delivery to be sent as it is written (`reserve`), if one
    /// is free, the breaker is closed and no claimed delivery waits for a slot (those are
    /// older, and go first). Deliveries due but not yet claimed do not hold it back: while
    /// slots are free the claim loop takes them too, and once a claim finds the slots taken,
    /// what it claimed waits in `ready` and new deliveries wait behind it.
    pub fn reserve(&mut self, now_ms: i64, max_in_flight: u32) -> bool {
        let closed = self.breaker.state(now_ms) == BreakerState::Closed;
        let free = self.ready.is_empty()
            && closed
            && self.paused.is_none()
            && self.free(max_in_flight) > 0;
        if free {
            self.active += 1;
        }
        free
    }

    /// A claimed delivery: started now (`Some`) if a slot is free, otherwise queued in
    /// `ready`. Slots taken by new deliveries while the claim ran are why one may not be.
    pub fn admit(
        &mut self,
        claimed: Claimed,
        lease_until_ms: i64,
        now_ms: i64,
        max_in_flight: u32,
    ) -> Option<Claimed> {
        let free = self.free(max_in_flight) > 0;
        self.in_flight.insert(claimed.delivery_id);
        if free {
            self.active += 1;
            self.breaker.on_start(now_ms);
            return Some(claimed);
        }
        self.ready.push_back(Ready {
            claimed,
            lease_until_ms,
        });
        None
    }

    /// The next queued delivery to start now, if a slot is free and the breaker lets it go.
    /// One whose lease would end before a request could finish is dropped: it is claimed
    /// again once the lease expires, rather than sent while another node may take it.
    pub fn next_ready(
        &mut self,
        now_ms: i64,
        timeout_ms: i64,
        max_in_flight: u32,
    ) -> Option<Ready> {
        while self.paused.is_none() && self.breaker.allowance(now_ms, self.free(max_in_flight)) > 0
        {
            let ready = self.ready.pop_front()?;
            if now_ms + timeout_ms > ready.lease_until_ms {
                self.in_flight.remove(&ready.claimed.delivery_id);
                continue;
            }
            self.active += 1;
            self.breaker.on_start(now_ms);
            return Some(ready);
        }
        None
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

    fn claimed(id: i64) -> Claimed {
        Claimed {
            delivery_id: id,
            call_id: format!("c{id}"),
            attempts: 0,
            unknown_call_answers: 0,
            created_at_ms: 0,
            payload: ivrhook_store::outbox::Payload::Event {
                id,
                body: Vec::new(),
            },
        }
    }

    /// A slot for a new event is taken only when a claim could also start one and no claimed
    /// delivery waits for one; a held slot counts like a running request.
    #[test]
    fn reserve_takes_a_free_slot_unless_a_claimed_delivery_waits_or_the_breaker_holds() {
        let mut st = DestinationState::default();
        assert!(st.reserve(0, 2));
        assert!(st.reserve(0, 2));
        assert_eq!(st.active, 2);
        assert!(!st.reserve(0, 2), "both slots held");
        // A claim that ran meanwhile: its delivery waits for a slot, and goes first.
        assert!(st.admit(claimed(7), 60_000, 0, 2).is_none());
        assert_eq!(st.plan(0, 2), [0, 0], "no claim while one waits");
        st.active = 1;
        assert!(
            !st.reserve(0, 2),
            "the waiting delivery goes before new events"
        );
        let next = st.next_ready(0, 5_000, 2).map(|r| r.claimed.delivery_id);
        assert_eq!((next, st.active), (Some(7), 2));
        st.active = 0;
        st.due_at(Lane::First, 0);
        assert!(
            st.reserve(0, 2),
            "due but unclaimed work does not hold new events back"
        );
        for _ in 0..crate::breaker::FAILURES_TO_OPEN {
            st.breaker.on_failure(5);
        }
        assert!(!st.reserve(6, 2), "the breaker is open");
        let probe_at = 5 + crate::breaker::FIRST_COOLDOWN_MS;
        assert_eq!(st.breaker.state(probe_at), BreakerState::HalfOpen);
        assert!(!st.reserve(probe_at, 2), "the probe is the claim loop's");
    }

    /// A queued delivery whose lease would run out before its request could finish is not
    /// sent: another node may claim it once the lease expires.
    #[test]
    fn a_queued_delivery_near_the_end_of_its_lease_is_dropped_not_sent() {
        let mut st = DestinationState {
            active: 16,
            ..DestinationState::default()
        };
        assert!(st.admit(claimed(1), 4_000, 0, 16).is_none());
        assert!(st.admit(claimed(2), 60_000, 0, 16).is_none());
        st.active = 0;
        let next = st.next_ready(0, 5_000, 16).map(|r| r.claimed.delivery_id);
        assert_eq!(
            next,
            Some(2),
            "a 5 s request does not fit a lease ending at 4 s"
        );
        assert_eq!(
            st.in_flight,
            HashSet::from([2]),
            "the dropped one may be claimed again"
        );
    }
}
