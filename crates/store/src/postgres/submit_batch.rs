//! Submitted events in groups (`batch`): each event and its delivery for the whole group in
//! one statement. Ids come from the events' sequence in the callers' order; an event whose
//! idempotency key was used before (earlier, or earlier in the same group) inserts nothing and
//! gets the first event's ids. A group that fails is retried one event at a time.

use crate::{
    outbox::{EventIds, NewEvent, Submitted},
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
const SUBMIT_MANY: &str = "
    WITH input AS (
        SELECT nextval('outbound_events_id_seq'::regclass) AS id, t.*
        FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::bigint[],
                    $6::bigint[]) WITH ORDINALITY
             AS t(app_id, call_id, idempotency_key, body, created_at_ms, first_at_ms, ord)
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
    delivery AS (
        INSERT INTO deliveries (event_id, app_id, call_id, next_attempt_at_ms, created_at_ms,
                                updated_at_ms)
        SELECT i.id, i.app_id, i.call_id, i.first_at_ms, i.created_at_ms, i.created_at_ms
        FROM input i JOIN (SELECT id FROM keyed UNION ALL SELECT id FROM keyless) e
             ON e.id = i.id
        ORDER BY i.id
        RETURNING event_id, id)
    SELECT i.ord, d.event_id, d.id FROM input i JOIN delivery d ON d.event_id = i.id";

pub(crate) async fn write(pool: Pool, batch: Vec<Job>) {
    match submit_many(&pool, &batch).await {
        Ok(new) => {
            for (i, job) in batch.into_iter().enumerate() {
                let result = match new.get(&(i as i64 + 1)) {
                    Some(&ids) => Ok(Submitted::New(ids)),
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
                    Ok(new) if !new.is_empty() => Ok(Submitted::New(new[&1])),
                    Ok(_) => existing(&pool, &job.event).await,
                    Err(e) => Err(e),
                };
                let _ = job.answer.send(result);
            }
        }
    }
}

/// The ids of the events inserted, by their 1-based place in `jobs`.
async fn submit_many(pool: &Pool, jobs: &[Job]) -> Result<HashMap<i64, EventIds>, StoreError> {
    let events: Vec<&NewEvent> = jobs.iter().map(|j| &j.event).collect();
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
            ],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let ids = EventIds {
                event_id: r.try_get(1)?,
                delivery_id: r.try_get(2)?,
            };
            Ok((r.try_get(0)?, ids))
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
    use crate::postgres::test_support::scratch_store;

    fn job(
        call: &str,
        key: Option<&str>,
    ) -> (Job, oneshot::Receiver<Result<Submitted, StoreError>>) {
        let event = NewEvent {
            app_id: "app".try_into().unwrap(),
            call_id: call.try_into().unwrap(),
            idempotency_key: key.map(str::to_owned),
            body: call.as_bytes().to_vec(),
            created_at_ms: 0,
            first_attempt_at_ms: 0,
        };
        let (answer, answered) = oneshot::channel();
        (Job { event, answer }, answered)
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
