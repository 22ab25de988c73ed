//! The claim loop: for each destination with due work and free slots, claim (concurrently,
//! so the claims share a commit), start the attempts, and sleep until the next due time, a
//! wake-up, or the backstop.

use crate::{attempt, destination::Destination, outgoing::Outgoing, Inner, LEASE_MARGIN};
use ivrhook_store::outbox::{ClaimRequest, ClaimRound, Lane};
use std::sync::{atomic::Ordering, Arc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How often due times are re-read from the store, catching work that no wake-up announced
/// (another node's events, leases that expired). A backstop, not the normal path.
pub const BACKSTOP_MS: i64 = 2_000;

pub(crate) async fn run(inner: Arc<Inner>, shutdown: CancellationToken) {
    if inner.store.single_process() {
        match inner.store.release_all_leases().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(leases = n, "released the leases of a previous run"),
            Err(e) => {
                tracing::error!(error = ?e, "could not release old leases; they expire on their own")
            }
        }
    }
    if let Some(rx) = inner.store.wake_ups() {
        tokio::spawn(crate::remote::follow(
            Arc::clone(&inner),
            rx,
            shutdown.clone(),
        ));
    }
    // Only now may new events be leased as they are written: one leased before the release
    // above would have its lease released under its running attempt.
    inner.running.store(true, Ordering::Release);
    let mut attempts = JoinSet::new();
    let mut refreshed_at = inner.clock.now_ms();
    refresh(&inner).await;
    while !shutdown.is_cancelled() {
        let now = inner.clock.now_ms();
        if now.saturating_sub(refreshed_at) >= BACKSTOP_MS {
            refresh(&inner).await;
            refreshed_at = now;
        }
        let started =
            start_ready(&inner, now, &mut attempts) + claim_round(&inner, now, &mut attempts).await;
        while attempts.try_join_next().is_some() {}
        if started > 0 {
            continue;
        }
        let wake_at = next_wake(&inner, now)
            .unwrap_or(i64::MAX)
            .min(refreshed_at + BACKSTOP_MS);
        tokio::select! {
            () = inner.wake.notified() => {}
            () = inner.clock.sleep_until_ms(wake_at) => {}
            () = shutdown.cancelled() => {}
        }
    }
    // Requests in flight finish (bounded by their timeouts) and are recorded, those sent as
    // they were accepted too; no new event is sent from here from now on.
    inner.running.store(false, Ordering::Release);
    inner.attempts.close();
    while attempts.join_next().await.is_some() {}
    inner.attempts.wait().await;
}

/// Re-reads every destination's earliest due time per lane from the store.
pub(crate) async fn refresh(inner: &Inner) {
    crate::pause::load(inner).await;
    let generations: Vec<[u64; 2]> = inner
        .destinations
        .iter()
        .map(|d| d.state().generations())
        .collect();
    let names = inner
        .destinations
        .iter()
        .map(|d| d.settings.name.clone())
        .collect();
    let summary = match inner.store.earliest_due(names).await {
        Ok(s) => s,
        Err(e) => {
            return tracing::warn!(error = ?e, "could not read due deliveries; will try again")
        }
    };
    for (dest, seen) in inner.destinations.iter().zip(generations) {
        let mut st = dest.state();
        for (lane, seen) in [(Lane::First, seen[0]), (Lane::Retry, seen[1])] {
            let due = summary
                .iter()
                .find(|s| s.lane == lane && s.destination == dest.name())
                .map(|s| s.next_attempt_at_ms);
            st.set_due(lane, due, seen);
        }
    }
}

fn next_wake(inner: &Inner, now: i64) -> Option<i64> {
    inner
        .destinations
        .iter()
        .filter_map(|d| d.state().next_wake(now))
        .min()
}

/// Claims for every destination and lane with due work, concurrently; starts the attempts.
async fn claim_round(inner: &Arc<Inner>, now: i64, attempts: &mut JoinSet<()>) -> usize {
    let mut claims = JoinSet::new();
    for dest in &inner.destinations {
        let (plan, exclude, generation) = {
            let st = dest.state();
            (
                st.plan(now, dest.settings.max_in_flight),
                st.exclusions(),
                st.generations(),
            )
        };
        for (lane, limit, seen) in [
            (Lane::First, plan[0], generation[0]),
            (Lane::Retry, plan[1], generation[1]),
        ] {
            if limit == 0 {
                continue;
            }
            let request = ClaimRequest {
                destination: dest.settings.name.clone(),
                lane,
                limit,
                now_ms: now,
                lease_until_ms: now + (dest.settings.timeout + LEASE_MARGIN).as_millis() as i64,
                owner: inner.owner.clone(),
                ordered: dest.settings.ordered,
                exclude: exclude.clone(),
            };
            let (inner, dest) = (Arc::clone(inner), Arc::clone(dest));
            claims.spawn(async move {
                let result = inner.store.claim_round(request.clone()).await;
                (dest, request, seen, result)
            });
        }
    }
    let mut started = 0;
    while let Some(joined) = claims.join_next().await {
        let Ok((dest, request, seen, result)) = joined else {
            continue;
        };
        started += start(inner, &dest, &request, seen, result, attempts).await;
    }
    started
}

async fn start(
    inner: &Arc<Inner>,
    dest: &Arc<Destination>,
    request: &ClaimRequest,
    seen: u64,
    result: Result<ClaimRound, ivrhook_store::StoreError>,
    attempts: &mut JoinSet<()>,
) -> usize {
    let ClaimRound {
        claimed,
        next_due_ms,
    } = match result {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = ?e, destination = %request.destination,
                "claiming deliveries failed; retrying in a second");
            dest.state()
                .set_due(request.lane, Some(request.now_ms + 1000), seen);
            return 0;
        }
    };
    if claimed.len() < request.limit as usize {
        // Nothing more is due now (or it waits behind an earlier delivery for its call).
        dest.state().set_due(request.lane, next_due_ms, seen);
    }
    let n = claimed.len();
    for c in claimed {
        let admitted = dest.state().admit(
            c,
            request.lease_until_ms,
            request.now_ms,
            dest.settings.max_in_flight,
        );
        if let Some(c) = admitted {
            attempts.spawn(attempt::run(
                Arc::clone(inner),
                Arc::clone(dest),
                Outgoing::new(c),
                request.lease_until_ms,
            ));
        }
    }
    n
}

/// Starts the claimed deliveries that were waiting for a slot, as slots free.
fn start_ready(inner: &Arc<Inner>, now: i64, attempts: &mut JoinSet<()>) -> usize {
    let mut started = 0;
    for dest in &inner.destinations {
        loop {
            let settings = &dest.settings;
            let timeout_ms = settings.timeout.as_millis() as i64;
            let next = dest
                .state()
                .next_ready(now, timeout_ms, settings.max_in_flight);
            let Some(ready) = next else { break };
            attempts.spawn(attempt::run(
                Arc::clone(inner),
                Arc::clone(dest),
                Outgoing::new(ready.claimed),
                ready.lease_until_ms,
            ));
            started += 1;
        }
    }
    started
}
