//! Attempt records in groups (`batch`): a group's records in one transaction, one commit,
//! their statements pipelined on one connection. The engine frees a request's slot when the
//! answer arrives, not when it is recorded (the lease keeps other claims off the delivery
//! meanwhile), so a record waiting for its group holds up no request. A group that fails (a
//! deadlock with a bulk retry, say) is retried one record at a time.

use super::floors::Floors;
use crate::{outbox::AttemptRecord, StoreError};
use deadpool_postgres::Pool;
use std::sync::Arc;
use tokio::sync::oneshot;

pub(crate) struct Job {
    pub record: AttemptRecord,
    pub answer: oneshot::Sender<Result<(), StoreError>>,
}

/// Every record inserts its attempt; a delivery moves only if this owner still holds its
/// lease (a lease that expired mid-request may have been taken by another node). Only pending
/// deliveries carry a lease (a claim leases pending rows; every move out of pending clears
/// it), so the lease is the whole check: a `state = 'pending'` term would let the planner
/// read the row through the pending-only indexes, and on a young table whose statistics say
/// almost nothing is pending it did, walking every pending row to find one (measured at a
/// backlog of thousands: 85 buffers per record instead of about 25).
///
/// One row per statement, by primary key, a group's statements pipelined in one transaction:
/// a multi-row `UPDATE … FROM unnest(…)` was measured choosing a hash join over every pending
/// delivery for the same reason; a lookup by id has no other plan.
///
/// A delivery that finishes returns the next pending delivery of its call (lane, due time,
/// id): it may have been waiting for this one, behind the lane's claim floor (`floors`).
const RECORD_ONE: &str = "
    WITH attempt AS (
        INSERT INTO attempts (delivery_id, owner, started_at_ms, duration_ms, http_status, code,
                              body_excerpt, error, warning, outcome)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10))
    UPDATE deliveries d
    SET state = $11, next_attempt_at_ms = $12,
        unknown_call_answers = unknown_call_answers + $13, finished_at_ms = $14,
        last_error = $15, attempts = attempts + 1, lane = 1,
        lease_owner = NULL, lease_expires_at_ms = 0, updated_at_ms = $16
    WHERE id = $1 AND lease_owner = $2
    RETURNING d.app_id, (
        SELECT ARRAY[p.lane, p.next_attempt_at_ms, p.id] FROM deliveries p
        WHERE $11 <> 'pending' AND p.state = 'pending' AND p.app_id = d.app_id
          AND p.call_id = d.call_id AND p.id > d.id
        ORDER BY p.id LIMIT 1)";

pub(crate) async fn write(pool: Pool, floors: Arc<Floors>, batch: Vec<Job>) {
    match record_many(&pool, &floors, &batch).await {
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
                let result = record_many(&pool, &floors, std::slice::from_ref(&job)).await;
                let _ = job.answer.send(result);
            }
        }
    }
}

async fn record_many(pool: &Pool, floors: &Floors, jobs: &[Job]) -> Result<(), StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let stmt = tx.prepare_cached(RECORD_ONE).await?;
    let rows = jobs.iter().map(|job| {
        let (r, stmt, tx) = (&job.record, &stmt, &tx);
        async move {
            let m = r.delivery_move();
            let http_status = r.http_status.map(i64::from);
            tx.query(
                stmt,
                &[
                    &r.delivery_id,
                    &r.owner,
                    &r.started_at_ms,
                    &r.duration_ms,
                    &http_status,
                    &r.code,
                    &r.body_excerpt,
                    &r.error,
                    &r.warning,
                    &m.outcome,
                    &m.state,
                    &m.next_attempt_at_ms,
                    &m.unknown_call,
                    &m.finished_at_ms,
                    &m.last_error,
                    &m.now_ms,
                ],
            )
            .await
        }
    });
    // Polled together, the statements go out back to back on the one connection.
    let moved = futures_util::future::try_join_all(rows).await?;
    tx.commit().await?;
    // Committed: what follows only moves floors, and cannot fail the records.
    for row in moved.iter().flatten() {
        let (Ok(app), Ok(Some(next))) = (
            row.try_get::<_, String>(0),
            row.try_get::<_, Option<Vec<i64>>>(1),
        ) else {
            continue;
        };
        if let [lane, due, id] = next[..] {
            floors.lower(&app, lane, (due, id));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{
        outbox::{ClaimRequest, DeliveryState, Lane, Settle},
        postgres::{
            scratch::ScratchDatabase,
            test_support::{record, submit, YOUNG_BACKLOG},
            Migrations, PgStore,
        },
        Store,
    };

    fn job(
        delivery_id: i64,
        owner: &str,
        settle: Settle,
    ) -> (Job, oneshot::Receiver<Result<(), StoreError>>) {
        let record = record(delivery_id, owner, "108104", settle);
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
            ids.push(submit(&store, call).await);
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
        write(store.pool.clone(), Arc::default(), jobs).await;
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

    /// A record reads its delivery by primary key, whatever the statistics say: here on a
    /// table never analysed, with a backlog of pending deliveries, under a generic plan (what a
    /// prepared statement settles on). With a `state = 'pending'` term it read through a
    /// pending-only index instead.
    #[tokio::test]
    async fn the_record_reads_its_delivery_by_primary_key() {
        let db = ScratchDatabase::for_tests("ivrhook_plans_record")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let store = PgStore::open(&db.url, Migrations::Apply, 2).await.unwrap();
        let client = store.pool.get().await.unwrap();
        client
            .batch_execute(&format!(
                "{YOUNG_BACKLOG} SET plan_cache_mode = force_generic_plan;"
            ))
            .await
            .unwrap();
        let stmt = client
            .prepare(&format!("EXPLAIN {RECORD_ONE}"))
            .await
            .unwrap();
        let none: Option<String> = None;
        let rows = client
            .query(
                &stmt,
                &[
                    &5i64,
                    &"o",
                    &0i64,
                    &0i64,
                    &None::<i64>,
                    &none,
                    &none,
                    &none,
                    &none,
                    &"delivered",
                    &"delivered",
                    &0i64,
                    &0i64,
                    &None::<i64>,
                    &none,
                    &0i64,
                ],
            )
            .await
            .unwrap();
        let plan: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        let plan = plan.join("\n");
        assert!(
            plan.contains("using deliveries_pkey on deliveries"),
            "{plan}"
        );
        client.batch_execute("RESET plan_cache_mode").await.unwrap();
        drop(client);
        store.close().await;
        db.drop_database().await.unwrap();
    }
}
