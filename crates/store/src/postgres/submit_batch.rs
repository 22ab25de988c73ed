//! Submitted events in groups (`batch`): each event and its delivery for the whole group in
//! one statement. Ids come from the events' sequence in the callers' order; an event whose
//! idempotency key was used before (earlier, or earlier in the same group) inserts nothing and
//! gets the first event's ids. A group that fails is retried one event at a time.

use crate::{
    outbox::{EventIds, LeaseOffer, NewEvent, Submitted},
    StoreError,
};
use deadpool_postgres::{Object, Pool};
use std::collections::HashMap;
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
/// `lease` decides each lease offer once (`MATERIALIZED`: inlined, its test would run once for
/// each of the two columns it sets). An ordered destination's delivery is leased only if no
/// earlier event of its call to it is in the group and no delivery of its call to it is
/// unfinished: every
/// delivery this statement sees committed before it began, so before this one's id was drawn.
/// The unfinished check is a scalar subquery, probing `deliveries_ordering` by call for each
/// row (the plan test): as `NOT EXISTS`, the planner may hash it instead, reading every
/// unfinished delivery once per group, which grows with the backlog.
const SUBMIT_MANY: &str = "
    WITH input AS (
        SELECT nextval('outbound_events_id_seq'::regclass) AS id, t.*
        FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::bigint[],
                    $6::bigint[], $7::text[], $8::bigint[], $9::bool[], $10::text[])
                 WITH ORDINALITY
             AS t(app_id, call_id, idempotency_key, body, created_at_ms, first_at_ms,
                  lease_owner, lease_until_ms, ordered, destination, ord)
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
    lease AS MATERIALIZED (
        SELECT i.id, i.lease_owner IS NOT NULL AND (NOT i.ordered OR (
            NOT EXISTS (SELECT 1 FROM input f
                        WHERE f.destination = i.destination AND f.call_id = i.call_id
                          AND f.id < i.id)
            AND (SELECT true FROM deliveries_pending p
                 WHERE p.finished_at_ms IS NULL AND p.destination = i.destination
                   AND p.call_id = i.call_id LIMIT 1) IS NULL)) AS taken
        FROM input i),
    delivery AS (
        INSERT INTO deliveries (event_id, destination, app_id, call_id, next_attempt_at_ms,
                                created_at_ms, updated_at_ms, lease_owner, lease_expires_at_ms)
        SELECT i.id, i.destination, i.app_id, i.call_id, i.first_at_ms, i.created_at_ms,
               i.created_at_ms,
               CASE WHEN l.taken THEN i.lease_owner END,
               CASE WHEN l.taken THEN i.lease_until_ms ELSE 0 END
        FROM input i JOIN (SELECT id FROM keyed UNION ALL SELECT id FROM keyless) e
             ON e.id = i.id
             JOIN lease l ON l.id = i.id
        ORDER BY i.id
        RETURNING event_id, id, lease_owner IS NOT NULL AS leased)
    SELECT i.ord, d.event_id, d.id, d.leased FROM input i JOIN delivery d ON d.event_id = i.id";

pub(crate) async fn write(pool: Pool, batch: Vec<Job>) {
    match submit_many(&pool, &batch).await {
        Ok(new) => {
            // The rest used a key used before: their first events' ids, in one read.
            let repeated: Vec<&NewEvent> = (batch.iter().enumerate())
                .filter(|(i, _)| !new.contains_key(&(*i as i64 + 1)))
                .map(|(_, job)| &job.event)
                .collect();
            let firsts = if repeated.is_empty() {
                Ok(HashMap::new())
            } else {
                existing(&pool, &repeated).await
            };
            for (i, job) in batch.into_iter().enumerate() {
                let result = match (new.get(&(i as i64 + 1)), &firsts) {
                    (Some(&submitted), _) => Ok(submitted),
                    (None, Ok(firsts)) => first_of(firsts, &job.event),
                    // One cause for the whole group; the store's error is not `Clone`, so
                    // each caller gets it as text (with its causes: `Debug`).
                    (None, Err(e)) => Err(StoreError::Task(format!(
                        "reading the events that repeated idempotency keys name: {e:?}"
                    ))),
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
                    Ok(_) => match existing(&pool, &[&job.event]).await {
                        Ok(firsts) => first_of(&firsts, &job.event),
                        Err(e) => Err(e),
                    },
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
    let offers: Vec<Option<&LeaseOffer>> = events.iter().map(|e| e.lease.as_ref()).collect();
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
                &offers
                    .iter()
                    .map(|l| l.map(|l| l.owner.as_str()))
                    .collect::<Vec<_>>(),
                &offers
                    .iter()
                    .map(|l| l.map_or(0, |l| l.until_ms))
                    .collect::<Vec<_>>(),
                &offers
                    .iter()
                    .map(|l| l.is_some_and(|l| l.ordered))
                    .collect::<Vec<_>>(),
                &events
                    .iter()
                    .map(|e| e.destination.as_str())
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
            let submitted = if r.try_get(3)? {
                Submitted::Leased(ids)
            } else {
                Submitted::New(ids)
            };
            Ok((r.try_get(0)?, submitted))
        })
        .collect()
}

/// The events (and deliveries) that idempotency keys name, each looked up in the keys' index
/// and its delivery by event (`LATERAL … LIMIT 1`: as plain joins, the plans kept from a young
/// table hashed a scan of every event, or of every delivery). The plan test below checks it.
const EXISTING: &str = "
    SELECT k.app_id, k.idempotency_key, f.event_id, f.delivery_id
    FROM unnest($1::text[], $2::text[]) AS k(app_id, idempotency_key)
    CROSS JOIN LATERAL (
        SELECT e.id AS event_id, d.id AS delivery_id
        FROM outbound_events e JOIN deliveries d ON d.event_id = e.id
        WHERE e.app_id = k.app_id AND e.idempotency_key = k.idempotency_key
          AND e.idempotency_key IS NOT NULL
        LIMIT 1) f";

/// The ids of the events the idempotency keys of `events` name (nothing was inserted for
/// them: each key was used before), by app and key. One read for the whole group: the group
/// writer waits for it, and a client retrying a burst of submissions sends many at once.
async fn existing(
    pool: &Pool,
    events: &[&NewEvent],
) -> Result<HashMap<(String, String), EventIds>, StoreError> {
    let apps: Vec<&str> = events.iter().map(|e| e.app_id.as_str()).collect();
    let keys: Vec<Option<&str>> = events
        .iter()
        .map(|e| e.idempotency_key.as_deref())
        .collect();
    let client = pool.get().await?;
    let stmt = client.prepare_cached(EXISTING).await?;
    let rows = client.query(&stmt, &[&apps, &keys]).await?;
    rows.iter()
        .map(|r| {
            let ids = EventIds {
                event_id: r.try_get(2)?,
                delivery_id: r.try_get(3)?,
            };
            Ok(((r.try_get(0)?, r.try_get(1)?), ids))
        })
        .collect()
}

/// `e`'s answer from what `existing` read: the ids of the first event with its key.
fn first_of(
    firsts: &HashMap<(String, String), EventIds>,
    e: &NewEvent,
) -> Result<Submitted, StoreError> {
    let key = (
        e.app_id.to_string(),
        e.idempotency_key.clone().unwrap_or_default(),
    );
    firsts
        .get(&key)
        .map(|&ids| Submitted::Existing(ids))
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "event of app {} not inserted, and no event holds its idempotency key",
                e.app_id
            ))
        })
}

#[cfg(test)]
#[path = "submit_batch_tests.rs"]
mod tests;
