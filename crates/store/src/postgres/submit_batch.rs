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
                    (Some(&ids), _) => Ok(Submitted::New(ids)),
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
                    Ok(new) if !new.is_empty() => Ok(Submitted::New(new[&1])),
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
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::postgres::test_support::{kept_plan, scratch_store, PLAN_CASES};

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

    /// Keys used in earlier groups, several in one group: each caller gets its own first
    /// event's ids, from one read.
    #[tokio::test]
    async fn repeated_keys_in_a_group_each_get_their_first_event() {
        let (db, store) = scratch_store("ivrhook_batch_repeats", 2).await;
        let mut firsts = Vec::new();
        for key in ["a", "b"] {
            let (job, answered) = job("c1", Some(key));
            write(store.pool.clone(), vec![job]).await;
            match answered.await.unwrap().unwrap() {
                Submitted::New(ids) => firsts.push(ids),
                other => panic!("{other:?}"),
            }
        }
        let (jobs, answers): (Vec<_>, Vec<_>) = [Some("b"), None, Some("a"), Some("b")]
            .into_iter()
            .map(|k| job("c2", k))
            .unzip();
        write(store.pool.clone(), jobs).await;
        let mut got = Vec::new();
        for a in answers {
            got.push(a.await.unwrap().unwrap());
        }
        assert_eq!(got[0], Submitted::Existing(firsts[1]));
        assert!(matches!(got[1], Submitted::New(_)), "{got:?}");
        assert_eq!(got[2], Submitted::Existing(firsts[0]));
        assert_eq!(got[3], Submitted::Existing(firsts[1]));
        crate::Store::close(&store).await;
        db.drop_database().await.unwrap();
    }

    /// The read of repeated keys looks each up in the keys' index, whatever the kept plan was
    /// made from: a scan of every event per group would make each repeat cost the table.
    #[tokio::test]
    async fn the_repeated_keys_read_uses_the_key_index_whatever_it_was_planned_on() {
        let (db, store) = scratch_store("ivrhook_plans_existing", 2).await;
        let client = store.client().await.unwrap();
        for (case, before, after) in PLAN_CASES {
            let plan =
                kept_plan(&client, EXISTING, "ARRAY['app'], ARRAY['k']", before, after).await;
            // Each key by its index, each delivery by its event: nothing read whole.
            assert!(
                plan.contains("using outbound_events_idempotency on outbound_events e"),
                "{case}:\n{plan}"
            );
            assert!(plan.contains("deliveries_by_event"), "{case}:\n{plan}");
            assert!(!plan.contains("Seq Scan"), "{case}:\n{plan}");
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
