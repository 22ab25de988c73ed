//! Where each claim starts reading the claim index. Deliveries leave the front of
//! `deliveries_due` as they finish, but their entries stay until VACUUM removes them, so a
//! claim that always starts at the front reads past every delivery finished since the last
//! vacuum: hundreds of thousands of entries a minute at thousands of deliveries a second,
//! thousands of buffers per claim. A claim therefore starts at the first row the
//! previous claim took for the same destination and lane, or half a second before that claim's time
//! if that is earlier (`WRITE_LAG_MS`), and reads from the front only once a second
//! (`FULL_SCAN_EVERY_MS`), which finds what can become claimable behind the floor
//! without this node hearing of it: leases that expired, another node's clock running
//! behind. The one common case, a delivery waiting for an earlier one of its call, is
//! handled when this node records the earlier one (`lower`); if another node records it, a
//! full scan finds the later one within the second.

use std::{collections::HashMap, sync::Mutex};

/// How often a claim reads the index from its front.
pub(crate) const FULL_SCAN_EVERY_MS: i64 = 1_000;

/// How far behind the claim's own time the floor stays. Writes commit out of the order of
/// their due times (a submission due at t can commit after one due at t + 3 ms, from another
/// group or node), so a floor at the first row taken would leave such a row behind it for up
/// to a second. A write that takes longer than this between reading the clock and
/// committing is found by the next read from the front.
pub(crate) const WRITE_LAG_MS: i64 = 500;

/// A position in the claim index: `(next_attempt_at_ms, id)` within one destination and lane.
pub(crate) type Position = (i64, i64);

/// Reading from here reads the whole index.
pub(crate) const FRONT: Position = (i64::MIN, i64::MIN);

#[derive(Debug, Default)]
pub(crate) struct Floors {
    by_lane: Mutex<HashMap<(String, i64), Floor>>,
}

#[derive(Debug)]
struct Floor {
    at: Position,
    full_scan_at_ms: i64,
    /// Bumped by every `lower`, so a claim that started before does not raise the floor
    /// past what was lowered meanwhile.
    generation: u64,
}

/// Where a claim started, to hand back to `claimed`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start {
    pub at: Position,
    generation: u64,
}

impl Floors {
    pub fn start(&self, destination: &str, lane: i64, now_ms: i64) -> Start {
        let map = self.by_lane.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&(destination.to_owned(), lane)) {
            Some(f) if now_ms < f.full_scan_at_ms.saturating_add(FULL_SCAN_EVERY_MS) => Start {
                at: f.at,
                generation: f.generation,
            },
            Some(f) => Start {
                at: FRONT,
                generation: f.generation,
            },
            None => Start {
                at: FRONT,
                generation: 0,
            },
        }
    }

    /// After a claim from `start` that took rows from `first` on (`None`: took nothing).
    pub fn claimed(
        &self,
        destination: &str,
        lane: i64,
        now_ms: i64,
        start: Start,
        first: Option<Position>,
    ) {
        let mut map = self.by_lane.lock().unwrap_or_else(|p| p.into_inner());
        let f = map.entry((destination.to_owned(), lane)).or_insert(Floor {
            at: FRONT,
            full_scan_at_ms: i64::MIN,
            generation: 0,
        });
        if start.at == FRONT {
            f.full_scan_at_ms = now_ms;
        }
        if let Some(first) = first {
            if f.generation == start.generation {
                f.at = first.min((now_ms.saturating_sub(WRITE_LAG_MS), i64::MIN));
            }
        }
    }

    /// Something at `at` became claimable (a delivery whose predecessor this node recorded).
    pub fn lower(&self, destination: &str, lane: i64, at: Position) {
        let mut map = self.by_lane.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = map.get_mut(&(destination.to_owned(), lane)) {
            f.at = f.at.min(at);
            f.generation += 1;
        }
    }

    /// Every claim reads from the front next (after a manual retry).
    pub fn reset(&self) {
        self.by_lane
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_starts_where_the_last_took_and_reads_the_front_each_second() {
        let floors = Floors::default();
        let t = 10_000;
        let s = floors.start("a", 0, t);
        assert_eq!(s.at, FRONT);
        floors.claimed("a", 0, t, s, Some((5, 50)));
        let s = floors.start("a", 0, t + 10);
        assert_eq!(s.at, (5, 50));
        floors.claimed("a", 0, t + 10, s, Some((7, 70)));
        floors.claimed("a", 0, t + 10, floors.start("a", 0, t + 10), None);
        assert_eq!(
            floors.start("a", 0, t + 20).at,
            (7, 70),
            "nothing taken: stays"
        );
        assert_eq!(floors.start("a", 1, t + 20).at, FRONT, "per lane");
        assert_eq!(floors.start("b", 0, t + 20).at, FRONT, "per destination");
        assert_eq!(floors.start("a", 0, t + FULL_SCAN_EVERY_MS).at, FRONT);
        // A row due just now: the floor stays WRITE_LAG_MS behind the claim's time.
        floors.claimed("a", 1, t, floors.start("a", 1, t), Some((t - 1, 90)));
        assert_eq!(floors.start("a", 1, t + 1).at, (t - WRITE_LAG_MS, i64::MIN));
    }

    #[test]
    fn a_lowered_floor_is_not_raised_by_a_claim_that_started_before() {
        let floors = Floors::default();
        let t = 10_000;
        floors.claimed("a", 0, t, floors.start("a", 0, t), Some((5, 50)));
        let before = floors.start("a", 0, t + 1);
        floors.lower("a", 0, (2, 20));
        floors.claimed("a", 0, t + 1, before, Some((9, 90)));
        assert_eq!(floors.start("a", 0, t + 2).at, (2, 20));
        floors.lower("a", 0, (8, 80));
        assert_eq!(
            floors.start("a", 0, t + 2).at,
            (2, 20),
            "lowering never raises"
        );
        floors.reset();
        assert_eq!(floors.start("a", 0, t + 2).at, FRONT);
    }
}

#[cfg(test)]
mod on_postgres {
    //! The floor with real claims: a delivery left behind it is claimed again at once when
    //! this node records its predecessor, and within a second when its lease expires.
    #![allow(clippy::unwrap_used)]

    use super::FULL_SCAN_EVERY_MS;
    use crate::{
        outbox::{ClaimRequest, Lane, Settle},
        postgres::{
            test_support::{record, scratch_store, submit},
            PgStore,
        },
        Store,
    };

    async fn claim(store: &PgStore, now_ms: i64, limit: u32) -> Vec<i64> {
        let request = ClaimRequest {
            destination: "app:app".to_owned(),
            lane: Lane::First,
            limit,
            now_ms,
            lease_until_ms: now_ms + 100,
            owner: "a".to_owned(),
            ordered: true,
            exclude: Vec::new(),
        };
        let claimed = store.claim(request).await.unwrap();
        claimed.iter().map(|c| c.delivery_id).collect()
    }

    async fn deliver(store: &PgStore, delivery_id: i64) {
        let delivered = record(delivery_id, "a", "000000", Settle::Delivered);
        store.record_attempt(delivered).await.unwrap();
    }

    #[tokio::test]
    async fn deliveries_behind_the_floor_are_claimed() {
        let (db, store) = scratch_store("ivrhook_floors", 4).await;
        let first = submit(&store, "k1").await;
        let second = submit(&store, "k1").await; // waits for `first`
        let other = submit(&store, "k2").await;
        // Every event is due at 0; claims run at T and later, more than WRITE_LAG_MS on.
        const T: i64 = 10_000;
        assert_eq!(claim(&store, T + 1, 1).await, [first]);
        // `second` is skipped (its call's first is pending); the floor moves to `other`.
        assert_eq!(claim(&store, T + 2, 1).await, [other]);
        deliver(&store, first).await;
        assert_eq!(
            claim(&store, T + 4, 1).await,
            [second],
            "recording its predecessor lowers the floor"
        );

        deliver(&store, second).await;
        deliver(&store, other).await;

        // A lease that expires behind the floor: found by the next read from the front.
        let left = submit(&store, "k3").await;
        let ahead = submit(&store, "k4").await;
        let full_scan_at = T + 1 + FULL_SCAN_EVERY_MS;
        assert_eq!(claim(&store, full_scan_at, 1).await, [left]);
        assert_eq!(claim(&store, full_scan_at + 1, 1).await, [ahead]);
        let expired = full_scan_at + 100; // `left`'s lease has expired, `ahead`'s not yet
        assert!(
            claim(&store, expired, 1).await.is_empty(),
            "behind the floor"
        );
        assert_eq!(
            claim(&store, full_scan_at + FULL_SCAN_EVERY_MS, 1).await,
            [left]
        );
        store.close().await;
        db.drop_database().await.unwrap();
    }
}
