//! Attempt records in groups (`batch`): the attempt rows and the deliveries' moves for the
//! whole group in one statement. The engine frees a request's slot when the answer arrives,
//! not when it is recorded (the lease keeps other claims off the delivery meanwhile), so a
//! record waiting for its group holds up no request. A group that fails (a deadlock with a
//! bulk retry, say) is retried one record at a time.

use crate::{outbox::AttemptRecord, StoreError};
use deadpool_postgres::Pool;
use tokio::sync::oneshot;

pub(crate) struct Job {
    pub record: AttemptRecord,
    pub answer: oneshot::Sender<Result<(), StoreError>>,
}

/// Every record inserts its attempt; a delivery moves only if this owner still holds its
/// lease and it is still pending (a lease that expired mid-request may have been taken).
const RECORD_MANY: &str = "
    WITH input AS (
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[],
                             $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                             $11::text[], $12::bigint[], $13::bigint[], $14::bigint[],
                             $15::text[], $16::bigint[])
            AS t(delivery_id, owner, started_at_ms, duration_ms, http_status, code,
                 body_excerpt, error, warning, outcome, state, next_attempt_at_ms,
                 unknown_call, finished_at_ms, last_error, now_ms)),
    attempt AS (
        INSERT INTO attempts (delivery_id, owner, started_at_ms, duration_ms, http_status, code,
                              body_excerpt, error, warning, outcome)
        SELECT delivery_id, owner, started_at_ms, duration_ms, http_status, code,
               body_excerpt, error, warning, outcome
        FROM input)
    UPDATE deliveries d
    SET state = i.state, next_attempt_at_ms = i.next_attempt_at_ms,
        unknown_call_answers = d.unknown_call_answers + i.unknown_call,
        finished_at_ms = i.finished_at_ms, last_error = i.last_error,
        attempts = d.attempts + 1, lane = 1, lease_owner = NULL, lease_expires_at_ms = 0,
        updated_at_ms = i.now_ms
    FROM input i
    WHERE d.id = i.delivery_id AND d.lease_owner = i.owner AND d.state = 'pending'";

pub(crate) async fn write(pool: Pool, batch: Vec<Job>) {
    match record_many(&pool, &batch).await {
        Ok(()) => {
            for job in batch {
                let _ = job.answer.send(Ok(()));
            }
        }
        Err(e) if batch.len() == 1 => {
            let job = batch.into_iter().next().expect("one job");
            let _ = job.answer.send(Err(e));
        }
        Err(e) => {
            tracing::debug!(error = ?e, "a batch of attempt records failed; recording one by one");
            for job in batch {
                let result = record_many(&pool, std::slice::from_ref(&job)).await;
                let _ = job.answer.send(result);
            }
        }
    }
}

async fn record_many(pool: &Pool, jobs: &[Job]) -> Result<(), StoreError> {
    let records: Vec<&AttemptRecord> = jobs.iter().map(|j| &j.record).collect();
    let moves: Vec<_> = records.iter().map(|r| r.delivery_move()).collect();
    let column = |f: fn(&AttemptRecord) -> Option<&str>| -> Vec<Option<&str>> {
        records.iter().map(|r| f(r)).collect()
    };
    let client = pool.get().await?;
    let stmt = client.prepare_cached(RECORD_MANY).await?;
    client
        .execute(
            &stmt,
            &[
                &records.iter().map(|r| r.delivery_id).collect::<Vec<_>>(),
                &records.iter().map(|r| r.owner.as_str()).collect::<Vec<_>>(),
                &records.iter().map(|r| r.started_at_ms).collect::<Vec<_>>(),
                &records.iter().map(|r| r.duration_ms).collect::<Vec<_>>(),
                &records
                    .iter()
                    .map(|r| r.http_status.map(i64::from))
                    .collect::<Vec<_>>(),
                &column(|r| r.code.as_deref()),
                &column(|r| r.body_excerpt.as_deref()),
                &column(|r| r.error.as_deref()),
                &column(|r| r.warning.as_deref()),
                &moves.iter().map(|m| m.outcome).collect::<Vec<_>>(),
                &moves.iter().map(|m| m.state).collect::<Vec<_>>(),
                &moves
                    .iter()
                    .map(|m| m.next_attempt_at_ms)
                    .collect::<Vec<_>>(),
                &moves.iter().map(|m| m.unknown_call).collect::<Vec<_>>(),
                &moves.iter().map(|m| m.finished_at_ms).collect::<Vec<_>>(),
                &moves
                    .iter()
                    .map(|m| m.last_error.as_deref())
                    .collect::<Vec<_>>(),
                &moves.iter().map(|m| m.now_ms).collect::<Vec<_>>(),
            ],
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{
        outbox::{ClaimRequest, DeliveryState, Lane, NewEvent, Settle, Submitted},
        postgres::{scratch::ScratchDatabase, Migrations, PgStore},
        Store,
    };

    fn job(
        delivery_id: i64,
        owner: &str,
        settle: Settle,
    ) -> (Job, oneshot::Receiver<Result<(), StoreError>>) {
        let record = AttemptRecord {
            delivery_id,
            owner: owner.to_owned(),
            started_at_ms: 10,
            duration_ms: 5,
            http_status: Some(200),
            code: Some("108104".to_owned()),
            body_excerpt: None,
            error: None,
            warning: None,
            settle,
        };
        let (answer, answered) = oneshot::channel();
        (Job { record, answer }, answered)
    }

    /// One group: a delivery delivered, one retried, one whose lease another owner holds (its
    /// attempt is kept, the delivery does not move), and one for a delivery that does not
    /// exist, which fails the group; the others are then written one by one.
    #[tokio::test]
    async fn a_group_moves_each_leased_delivery_and_survives_a_bad_record() {
        let db = ScratchDatabase::for_tests("ivrhook_batch_record")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let store = PgStore::open(&db.url, Migrations::Apply, 4).await.unwrap();
        let mut ids = Vec::new();
        for call in ["c1", "c2", "c3"] {
            let event = NewEvent {
                app_id: "app".try_into().unwrap(),
                call_id: call.try_into().unwrap(),
                idempotency_key: None,
                body: b"{}".to_vec(),
                created_at_ms: 0,
                first_attempt_at_ms: 0,
            };
            let Submitted::New(new) = store.submit_event(event).await.unwrap() else {
                panic!("not new")
            };
            ids.push(new.delivery_id);
        }
        let claimed = store
            .claim(ClaimRequest {
                app_id: "app".to_owned(),
                lane: Lane::First,
                limit: 10,
                now_ms: 1,
                lease_until_ms: 60_000,
                owner: "a".to_owned(),
                ordered: true,
                exclude: Vec::new(),
            })
            .await
            .unwrap();
        assert_eq!(claimed.len(), 3);
        let retry = Settle::Retry {
            at_ms: 99,
            unknown_call: false,
        };
        let (jobs, answers): (Vec<_>, Vec<_>) = [
            job(ids[0], "a", Settle::Delivered),
            job(ids[1], "a", retry),
            job(ids[2], "b", Settle::Delivered),
            job(ids[2] + 1000, "a", Settle::Delivered),
        ]
        .into_iter()
        .unzip();
        write(store.pool.clone(), jobs).await;
        let mut results = Vec::new();
        for a in answers {
            results.push(a.await.unwrap().is_ok());
        }
        assert_eq!(results, [true, true, true, false]);

        let (first, attempts) = store.delivery(ids[0]).await.unwrap().unwrap();
        assert_eq!(
            (first.state, first.attempts, attempts.len()),
            (DeliveryState::Delivered, 1, 1)
        );
        let (second, _) = store.delivery(ids[1]).await.unwrap().unwrap();
        assert_eq!(
            (second.state, second.attempts, second.next_attempt_at_ms),
            (DeliveryState::Pending, 1, 99)
        );
        assert_eq!(second.last_error.as_deref(), Some("108104"));
        let (third, attempts) = store.delivery(ids[2]).await.unwrap().unwrap();
        assert_eq!(
            (third.state, third.attempts, attempts.len()),
            (DeliveryState::Pending, 0, 1),
            "another owner's lease: the attempt is kept, the delivery does not move"
        );
        store.close().await;
        db.drop_database().await.unwrap();
    }
}
