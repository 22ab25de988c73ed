//! Filling a store for `bench growth`: reports of the seed's shape with callIds in no order
//! (so that every index keyed by callId is written all over, as a platform's random ids
//! would), written through the store's own insert path as the receiver writes them; one in ten
//! forwarded and delivered at the first attempt, one in a hundred forwarded and dead.

use super::load::Workload;
use bytes::Bytes;
use ivrhook_store::{
    outbox::{AttemptRecord, LeaseOffer, Settle},
    Forward, Inserted, Store,
};
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

const SEED: &str = include_str!("../../../../fixtures/seed-example-all-succeeded.json");
const SEED_CALL: &str = "88-2018031000182918181271218-108bc381ca0f42d8-out";
/// Where seeded reports are forwarded (no server of the bench has it configured).
pub(crate) const SEEDED_DESTINATION: &str = "crm";

/// A bijection on u64 that scatters consecutive numbers (splitmix64's finaliser).
fn scatter(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Report `n` of run `run`: a callId of the seed's shape, unique per (run, n), in no order.
pub(crate) fn call_id(run: u64, n: u64) -> String {
    let key = scatter((run << 40) | n);
    format!(
        "88-{key:020}{:07}-{:016x}-out",
        n % 10_000_000,
        scatter(key)
    )
}

/// Reports of run `run` with scattered callIds, for the load generator.
pub(crate) struct RandomCalls {
    head: &'static str,
    tail: &'static str,
    run: u64,
}

impl RandomCalls {
    pub(crate) fn new(run: u64) -> RandomCalls {
        let (head, tail) = SEED.split_once(SEED_CALL).expect("the seed has its callId");
        RandomCalls { head, tail, run }
    }
}

impl Workload for RandomCalls {
    fn body(&self, n: u64) -> Bytes {
        Bytes::from(format!(
            "{}{}{}",
            self.head,
            call_id(self.run, n),
            self.tail
        ))
    }

    fn success(&self, _status: u16, body: &[u8]) -> bool {
        body.windows(8).any(|w| w == b"\"000000\"")
    }
}

/// The run number of seeded reports.
pub(crate) const SEED_RUN: u64 = 1;

/// Writes reports `from..to` of the seed run with `writers` concurrent writers.
pub(crate) async fn seed(store: Arc<dyn Store>, from: u64, to: u64) -> Result<(), String> {
    let next = Arc::new(AtomicU64::new(from));
    let writers: Vec<_> = (0..256)
        .map(|_| {
            let (store, next) = (Arc::clone(&store), Arc::clone(&next));
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= to {
                        return Ok::<(), String>(());
                    }
                    write_one(&*store, n).await?;
                }
            })
        })
        .collect();
    for w in writers {
        w.await.map_err(|e| e.to_string())??;
    }
    Ok(())
}

async fn write_one(store: &dyn Store, n: u64) -> Result<(), String> {
    let work = RandomCalls::new(SEED_RUN);
    let call = call_id(SEED_RUN, n);
    let raw = work.body(n).to_vec();
    let now = chrono::Utc::now();
    let mut report = super::seeded_report(&call, raw, n, now);
    let now_ms = now.timestamp_millis();
    let settle = match n % 100 {
        0 => Some(Settle::Dead {
            reason: "HTTP 410".into(),
        }),
        x if x % 10 == 5 => Some(Settle::Delivered),
        _ => None,
    };
    if settle.is_some() {
        report.forwards.push(Forward {
            destination: SEEDED_DESTINATION.into(),
            first_attempt_at_ms: now_ms,
            lease: Some(LeaseOffer {
                owner: "seed".into(),
                until_ms: now_ms + 60_000,
                ordered: false,
            }),
        });
    }
    let inserted = store
        .insert_report(report)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let (Some(settle), Inserted::New { leased, .. }) = (settle, inserted) else {
        return Ok(());
    };
    for l in leased {
        let attempt = attempt(l.delivery_id, now_ms, settle.clone());
        store
            .record_attempt(attempt)
            .await
            .map_err(|e| format!("{e:?}"))?;
    }
    Ok(())
}

fn attempt(delivery_id: i64, at_ms: i64, settle: Settle) -> AttemptRecord {
    let delivered = settle == Settle::Delivered;
    AttemptRecord {
        delivery_id,
        owner: "seed".into(),
        started_at_ms: at_ms,
        duration_ms: 3,
        http_status: Some(if delivered { 200 } else { 410 }),
        code: None,
        body_excerpt: Some(if delivered { "ok" } else { "gone" }.into()),
        error: None,
        warning: None,
        settle,
    }
}
