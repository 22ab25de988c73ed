//! Submitted events in groups (`batch`): each event and its delivery for the whole group in
//! one statement. Ids come from the events' sequence in the callers' order; an event whose
//! idempotency key was used before (earlier, or earlier in the same group) inserts nothing and
//! gets the first event's ids. A group that fails is retried one event at a time.
//!
//! A submission with a `Handoff` has its delivery leased to its node at insert when the call
//! allows it (`granted` below): the node sends it with no claim and no NOTIFY.

use crate::{
    outbox::{EventIds, Handoff, NewEvent, Submitted},
    StoreError,
};
use deadpool_postgres::{Object, Pool};
use std::collections::{HashMap, HashSet};
use tokio::sync::oneshot;

pub(crate) struct Job {
    pub event: NewEvent,
    pub answer: oneshot::Sender<Result<Submitted, StoreError>>,
}

/// `input` is materialised once (it calls `nextval`), so each row keeps its id throughout.
/// The sequence is named, not looked up: `pg_get_serial_sequence` ran its catalog lookup once
/// per row. Only events with an idempotency key go through `ON CONFLICT`, with the key's index
/// as its only arbiter: `ON CONFLICT` checks every arbiter index before each insert and writes
/// one more WAL record after it, and only a key can conflict (ids come from the sequence).
///
/// A handoff (`lease_owner` not null) is granted unless the app is ordered and a delivery of
/// the call is pending; the check names pending rows as the claim's ordering check does, so
/// `deliveries_ordering` is the only index that can serve it (migration 0004). It is a
/// `LATERAL … LIMIT 1`, looked up per event: as `NOT EXISTS`, a plan made on a small table
/// read every pending row once per statement into a hash instead. `granted` is materialised
/// so the check runs once per event, not once per column that uses it. Pending rows
/// of the call that another group has not yet committed are not seen: two submissions of one
/// call that overlap in time have no order between them (README).
const SUBMIT_MANY: &str = "
    WITH input AS (
        SELECT nextval('outbound_events_id_seq'::regclass) AS id, t.*
        FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::bigint[],
                    $6::bigint[], $7::text[], $8::bigint[], $9::bool[]) WITH ORDINALITY
             AS t(app_id, call_id, idempotency_key, body, created_at_ms, first_at_ms,
                  lease_owner, lease_until_ms, ordered, ord)
        ORDER BY ord),
    keyed AS (
        INSERT INTO outbound_events (id, app_id, call_id, idempotency_key, body, created_at_ms)
        SELECT id, app_id, call_id, idempotency_key, body, created_at_ms FROM input
        WHERE idempotency_key IS NOT NULL ORDER BY id
        ON CONFLICT (app_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id),
    keyless AS (
        INSERT INTO outbound_events (id, app_id, call_id, body, created_at_ms)
        SELECT id, app_id, call_id, body, created_at_ms FROM input
        WHERE idempotency_key IS NULL ORDER BY id
        RETURNING id),
    granted AS MATERIALIZED (
        SELECT i.*, i.lease_owner IS NOT NULL AND pending.one IS NULL AS leased
        FROM input i JOIN (SELECT id FROM keyed UNION ALL SELECT id FROM keyless) e
             ON e.id = i.id
        LEFT JOIN LATERAL (
            SELECT 1 AS one FROM deliveries p
            WHERE i.lease_owner IS NOT NULL AND i.ordered
              AND p.finished_at_ms IS NULL AND p.app_id = i.app_id AND p.call_id = i.call_id
            LIMIT 1) pending ON true),
    delivery AS (
        INSERT INTO deliveries (event_id, app_id, call_id, next_attempt_at_ms, created_at_ms,
                                updated_at_ms, lease_owner, lease_expires_at_ms)
        SELECT id, app_id, call_id, first_at_ms, created_at_ms, created_at_ms,
               CASE WHEN leased THEN lease_owner END,
               CASE WHEN leased THEN lease_until_ms ELSE 0 END
        FROM granted
        ORDER BY id
        RETURNING event_id, id, lease_owner IS NOT NULL AS leased)
    SELECT i.ord, d.event_id, d.id, d.leased FROM input i JOIN delivery d ON d.event_id = i.id";

pub(crate) async fn write(pool: Pool, batch: Vec<Job>) {
    match submit_many(&pool, &batch).await {
        Ok(new) => {
            for (i, job) in batch.into_iter().enumerate() {
                let result = match new.get(&(i as i64 + 1)) {
                    Some(&submitted) => Ok(submitted),
                    None => existing(&pool, &job.event).await,
                };
                let _ = job.answer.send(result);
            }
        }
        Err(e) if batch.len() == 1 => {
            let job = batch.into_iter().next().expect("one job");
            let _ = job.answer.send(Err(e));
        }
        Err(e) => {
            tracing::debug!(error = ?e, "a batch of events failed; submitting one by one");
            for job in batch {
                let result = match submit_many(&pool, std::slice::from_ref(&job)).await {
                    Ok(new) if !new.is_empty() => Ok(new[&1]),
                    Ok(_) => existing(&pool, &job.event).await,
                    Err(e) => Err(e),
                };
                let _ = job.answer.send(result);
            }
        }
    }
}

/// The events inserted (`New` or `Leased`), by their 1-based place in `jobs`.
async fn submit_many(pool: &Pool, jobs: &[Job]) -> Result<HashMap<i64, Submitted>, StoreError> {
    let events: Vec<&NewEvent> = jobs.iter().map(|j| &j.event).collect();
    let handoffs = handoffs(&events);
    let client: Object = pool.get().await?;
    let stmt = client.prepare_cached(SUBMIT_MANY).await?;
    let rows = client
        .query(
            &stmt,
            &[
                &events.iter().map(|e| e.app_id.as_str()).collect::<Vec<_>>(),
                &events
                    .iter()
                    .map(|e| e.call_id.as_str())
                    .collect::<Vec<_>>(),
                &events
                    .iter()
                    .map(|e| e.idempotency_key.as_deref())
                    .collect::<Vec<_>>(),
                &events.iter().map(|e| &e.body[..]).collect::<Vec<_>>(),
                &events.iter().map(|e| e.created_at_ms).collect::<Vec<_>>(),
                &events
                    .iter()
                    .map(|e| e.first_attempt_at_ms)
                    .collect::<Vec<_>>(),
                &handoffs
                    .iter()
                    .map(|h| h.map(|h| h.owner.as_str()))
                    .collect::<Vec<_>>(),
                &handoffs
                    .iter()
                    .map(|h| h.map_or(0, |h| h.lease_until_ms))
                    .collect::<Vec<_>>(),
                &handoffs
                    .iter()
                    .map(|h| h.is_some_and(|h| h.ordered))
                    .collect::<Vec<_>>(),
            ],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let ids = EventIds {
                event_id: r.try_get(1)?,
                delivery_id: r.try_get(2)?,
            };
            let submitted = match r.try_get(3)? {
                true => Submitted::Leased(ids),
                false => Submitted::New(ids),
            };
            Ok((r.try_get(0)?, submitted))
        })
        .collect()
}

/// The handoffs the statement may grant: for an ordered app, not to an event whose call has
/// an earlier event in the group (the statement's check cannot see rows it inserts itself).
fn handoffs<'a>(events: &[&'a NewEvent]) -> Vec<Option<&'a Handoff>> {
    let mut calls = HashSet::new();
    events
        .iter()
        .map(|e| {
            let first = calls.insert((e.app_id.as_str(), e.call_id.as_str()));
            e.handoff.as_ref().filter(|h| first || !h.ordered)
        })
        .collect()
}

/// Nothing was inserted for `e`: its idempotency key was used before.
async fn existing(pool: &Pool, e: &NewEvent) -> Result<Submitted, StoreError> {
    let client = pool.get().await?;
    let row = client
        .query_one(
            "SELECT e.id, d.id FROM outbound_events e JOIN deliveries d ON d.event_id = e.id
             WHERE e.app_id = $1 AND e.idempotency_key = $2",
            &[&e.app_id.as_str(), &e.idempotency_key],
        )
        .await?;
    Ok(Submitted::Existing(EventIds {
        event_id: row.try_get(0)?,
        delivery_id: row.try_get(1)?,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::postgres::test_support::{kept_plan, scratch_store, PLAN_CASES};

    type Answered = oneshot::Receiver<Result<Submitted, StoreError>>;

    fn job(call: &str, key: Option<&str>) -> (Job, Answered) {
        let event = NewEvent {
            app_id: "app".try_into().unwrap(),
            call_id: call.try_into().unwrap(),
            idempotency_key: key.map(str::to_owned),
            body: call.as_bytes().to_vec(),
            created_at_ms: 0,
            first_attempt_at_ms: 0,
            handoff: None,
        };
        let (answer, answered) = oneshot::channel();
        (Job { event, answer }, answered)
    }

    fn handed(call: &str, ordered: bool) -> (Job, Answered) {
        let (mut job, answered) = job(call, None);
        job.event.handoff = Some(Handoff {
            owner: "n1".into(),
            lease_until_ms: 1_000,
            ordered,
        });
        (job, answered)
    }

    /// The statement's check cannot see rows the same statement inserts: a second event of an
    /// ordered call in one group must not be handed off too.
    #[tokio::test]
    async fn a_group_hands_off_one_event_per_ordered_call() {
        let (db, store) = scratch_store("ivrhook_batch_handoff", 2).await;
        let (jobs, answers): (Vec<_>, Vec<_>) =
            [("c1", true), ("c1", true), ("c2", false), ("c2", false)]
                .into_iter()
                .map(|(c, ordered)| handed(c, ordered))
                .unzip();
        write(store.pool.clone(), jobs).await;
        let mut leased = Vec::new();
        for a in answers {
            leased.push(matches!(a.await.unwrap().unwrap(), Submitted::Leased(_)));
        }
        assert_eq!(leased, [true, false, true, true]);
        crate::Store::close(&store).await;
        db.drop_database().await.unwrap();
    }

    /// The handoff's check looks up each event's call in `deliveries_ordering`, whatever the
    /// kept plan was made from. Written as `NOT EXISTS`, the plan kept from an empty table read
    /// every pending row into a hash once per group: each submission would cost the backlog.
    #[tokio::test]
    async fn the_handoff_check_reads_the_ordering_index_whatever_it_was_planned_on() {
        let (db, store) = scratch_store("ivrhook_plans_submit", 2).await;
        let client = store.client().await.unwrap();
        let args = "ARRAY['app'], ARRAY['c1'], ARRAY[NULL]::text[], ARRAY['x'::bytea], \
                    ARRAY[0::bigint], ARRAY[0::bigint], ARRAY['o'], ARRAY[1::bigint], \
                    ARRAY[true]";
        for (case, before, after) in PLAN_CASES {
            let plan = kept_plan(&client, SUBMIT_MANY, args, before, after).await;
            assert!(
                plan.contains("using deliveries_ordering on deliveries p"),
                "{case}:\n{plan}"
            );
            // Looked up per event by its call, not every pending row read into a hash.
            assert!(
                plan.lines().any(|l| l.contains("Index Cond")
                    && l.contains("app_id = i")
                    && l.contains("call_id = i")),
                "{case}: the check is not a lookup by call:\n{plan}"
            );
        }
        drop(client);
        crate::Store::close(&store).await;
        db.drop_database().await.unwrap();
    }

    #[tokio::test]
    async fn a_group_keeps_callers_order_and_idempotency_keys() {
        let (db, store) = scratch_store("ivrhook_batch_submit", 4).await;
        let (jobs, answers): (Vec<_>, Vec<_>) = [
            ("c1", Some("k")),
            ("c2", None),
            ("c1", Some("k")),
            ("c3", None),
        ]
        .into_iter()
        .map(|(c, k)| job(c, k))
        .unzip();
        write(store.pool.clone(), jobs).await;
        let mut got = Vec::new();
        for a in answers {
            got.push(a.await.unwrap().unwrap());
        }
        let Submitted::New(first) = got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(
            got[2],
            Submitted::Existing(first),
            "same key in the same group"
        );
        let ids: Vec<i64> = [got[0], got[1], got[3]]
            .iter()
            .map(|s| match s {
                Submitted::New(ids) => ids.delivery_id,
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "deliveries in the callers' order: {ids:?}"
        );
        // Each delivery carries its own event's body.
        let rows = crate::Store::outbound_for_call(&store, &"c3".try_into().unwrap())
            .await
            .unwrap();
        assert_eq!((rows.len(), rows[0].body.as_slice()), (1, b"c3".as_slice()));
        crate::Store::close(&store).await;
        db.drop_database().await.unwrap();
    }
}
