//! Attempt records in groups (`batch`): a group's records in one statement, one commit. The
//! engine frees a request's slot when the answer arrives, not when it is recorded (the lease
//! keeps other claims off the delivery meanwhile), so a record waiting for its group holds up
//! no request. A group that fails (a deadlock with a bulk retry, say) is retried one record
//! at a time.

use super::{finished_days, floors::Floors, moved::again_if_moved};
use crate::{
    outbox::{AttemptRecord, Lane, Recorded},
    StoreError,
};
use deadpool_postgres::Pool;
use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, LazyLock},
};
use tokio::sync::oneshot;

pub(crate) struct Job {
    pub record: AttemptRecord,
    pub answer: oneshot::Sender<Result<Recorded, StoreError>>,
}

/// Every record appends its attempt to its delivery's `attempt_log` (migration 5: one row
/// write per record, not two); the delivery moves only if this owner still holds its lease (a
/// lease that expired mid-request may have been taken by another node). The move is decided
/// per column by `CASE`, not by the `WHERE`, so that the attempt is kept either way, and it is
/// decided on the row as it is when locked (PostgreSQL re-evaluates the assignments on the
/// newest version of a row another transaction changed meanwhile). An attempt that found its
/// lease gone says so in its entry (`lease_lost`), which is also how the statement tells which
/// rows it moved. Only pending deliveries carry a lease (a claim leases pending rows; every
/// move out of pending clears it), so the lease is the whole check: a `state = 'pending'` term
/// would let the planner read the rows through the pending-only indexes, and on a young table
/// whose statistics say almost nothing is pending it may, walking every pending row to find
/// one.
///
/// A group is one statement, its rows in parallel arrays: a statement per record would cost
/// PostgreSQL a round trip, an executor start and a share of `BEGIN`/`COMMIT` each, most of
/// its work per delivery. The rows are found by `id = ANY(…)` on the primary key: joined to
/// the arrays alone, a planner with stale statistics may hash every pending delivery instead.
/// A record whose delivery does not exist changes nothing and comes back missing.
///
/// A delivery that finishes returns the next pending delivery of its call (id, lane, due
/// time): it may have been waiting for this one, behind the lane's claim floor (`floors`),
/// and the engine claims again only when there is one (`Recorded`). A delivery of the call
/// committed while this statement runs is not in its snapshot; if that one's own claim also
/// ran before this commit, it found the call blocked, and it waits for the backstop's poll
/// (2 s; docs/sender.md). The next delivery is read as the claim's ordering check is
/// (`outbox::CLAIM`), so that `deliveries_ordering` is the only index that serves it, and
/// taken by `min` rather than `ORDER BY p.id LIMIT 1`, which would make the primary key's
/// order worth a walk.
///
/// A delivery that finishes moves from `deliveries_pending` to its day's partition
/// (migration 13), so the statement changes `deliveries`, and `@pending` is where
/// `RECORD_PENDING` names the partition it reads (`PENDING`). A delivery another node
/// finished after this one's lease ran out is in a finished day's partition: `RECORD_ANY`
/// looks there, for the records the first statement did not find.
const RECORD_MANY: &str = "
    WITH r AS (
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[],
                             $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[],
                             $10::text[], $11::text[], $12::bigint[], $13::bigint[],
                             $14::bigint[], $15::text[], $16::bigint[])
            AS r(id, owner, started_at_ms, duration_ms, http_status, code, body_excerpt,
                 error, warning, outcome, state, next_attempt_at_ms, unknown_call,
                 finished_at_ms, last_error, now_ms))
    UPDATE deliveries d
    SET attempt_log = d.attempt_log || jsonb_strip_nulls(jsonb_build_object(
            'id', nextval('attempt_ids'), 'owner', r.owner, 'started_at_ms', r.started_at_ms,
            'duration_ms', r.duration_ms, 'http_status', r.http_status, 'code', r.code,
            'body_excerpt', r.body_excerpt, 'error', r.error, 'warning', r.warning,
            'outcome', r.outcome,
            'lease_lost', CASE WHEN d.lease_owner = r.owner THEN NULL ELSE true END)),
        state = CASE WHEN d.lease_owner = r.owner THEN r.state ELSE d.state END,
        next_attempt_at_ms = CASE WHEN d.lease_owner = r.owner
                                  THEN r.next_attempt_at_ms ELSE d.next_attempt_at_ms END,
        unknown_call_answers = CASE WHEN d.lease_owner = r.owner
                                    THEN d.unknown_call_answers + r.unknown_call
                                    ELSE d.unknown_call_answers END,
        finished_at_ms = CASE WHEN d.lease_owner = r.owner
                              THEN r.finished_at_ms ELSE d.finished_at_ms END,
        last_error = CASE WHEN d.lease_owner = r.owner THEN r.last_error ELSE d.last_error END,
        attempts = CASE WHEN d.lease_owner = r.owner THEN d.attempts + 1 ELSE d.attempts END,
        lane = CASE WHEN d.lease_owner = r.owner THEN 1 ELSE d.lane END,
        lease_expires_at_ms = CASE WHEN d.lease_owner = r.owner
                                   THEN 0 ELSE d.lease_expires_at_ms END,
        updated_at_ms = CASE WHEN d.lease_owner = r.owner THEN r.now_ms ELSE d.updated_at_ms END,
        lease_owner = CASE WHEN d.lease_owner = r.owner THEN NULL ELSE d.lease_owner END
    FROM r
    WHERE d.id = ANY($1::bigint[]) AND d.id = r.id @pending
    RETURNING d.id, d.destination, (
        SELECT min(ARRAY[p.id, p.lane, p.next_attempt_at_ms]) FROM deliveries_pending p
        WHERE r.state <> 'pending' AND NOT ((d.attempt_log -> -1) ? 'lease_lost')
          AND p.finished_at_ms IS NULL AND p.destination = d.destination
          AND p.call_id = d.call_id AND (p.call_id, p.id) > (d.call_id, d.id))";

/// Pending rows, in the words of the partition key: this selects `deliveries_pending` as the
/// plan is made. `finished_at_ms IS NULL` would say the same, but it would also let the
/// planner read the rows through `deliveries_ordering` (its predicate), walking every pending
/// delivery, as a plan made on a young table does.
const PENDING: &str = "AND COALESCE(d.finished_at_ms, 0) = 0";

pub(crate) static RECORD_PENDING: LazyLock<String> =
    LazyLock::new(|| RECORD_MANY.replace("@pending", PENDING));
static RECORD_ANY: LazyLock<String> = LazyLock::new(|| RECORD_MANY.replace("@pending", ""));

pub(crate) async fn write(pool: Pool, floors: Arc<Floors>, batch: Vec<Job>) {
    // Two records of one delivery (a lease that expired mid-request and was claimed again by
    // this node) are written in turn: in one statement, either could be the one that moves it.
    let mut ids = HashSet::with_capacity(batch.len());
    if batch.iter().all(|j| ids.insert(j.record.delivery_id)) {
        match record_all(&pool, &floors, &batch).await {
            Ok(found) => {
                for job in batch {
                    let _ = job.answer.send(answer(&found, job.record.delivery_id));
                }
                return;
            }
            Err(e) if batch.len() == 1 => {
                let job = batch.into_iter().next().expect("one job");
                let _ = job.answer.send(Err(e));
                return;
            }
            Err(e) => {
                tracing::debug!(error = ?e, "a group of attempt records failed; recording one by one");
            }
        }
    }
    for job in batch {
        let id = job.record.delivery_id;
        let result = record_all(&pool, &floors, std::slice::from_ref(&job)).await;
        let _ = job.answer.send(result.and_then(|found| answer(&found, id)));
    }
}

/// A record's answer from what its statement returned: nothing means no such delivery.
fn answer(found: &HashMap<i64, Recorded>, id: i64) -> Result<Recorded, StoreError> {
    found
        .get(&id)
        .copied()
        .ok_or(StoreError::NoSuchDelivery(id))
}

/// What each record found, by delivery id: every delivery written, with the next of its call
/// for those that finished and have one. Pending deliveries first, then the others.
async fn record_all(
    pool: &Pool,
    floors: &Floors,
    jobs: &[Job],
) -> Result<HashMap<i64, Recorded>, StoreError> {
    let records: Vec<&AttemptRecord> = jobs.iter().map(|j| &j.record).collect();
    let pending = || record_many(pool, floors, &records, &RECORD_PENDING);
    let mut found = match again_if_moved(pending).await {
        Err(e) if finished_days::no_day_for(&e) => {
            finished_days::ensure_for(pool, &records).await?;
            again_if_moved(pending).await?
        }
        other => other?,
    };
    let rest: Vec<&AttemptRecord> = records
        .into_iter()
        .filter(|r| !found.contains_key(&r.delivery_id))
        .collect();
    if !rest.is_empty() {
        let any = || record_many(pool, floors, &rest, &RECORD_ANY);
        found.extend(again_if_moved(any).await?);
    }
    Ok(found)
}

async fn record_many(
    pool: &Pool,
    floors: &Floors,
    records: &[&AttemptRecord],
    sql: &str,
) -> Result<HashMap<i64, Recorded>, StoreError> {
    let records = records.iter().copied();
    let moves: Vec<_> = records.clone().map(AttemptRecord::delivery_move).collect();
    let ids: Vec<i64> = records.clone().map(|r| r.delivery_id).collect();
    let owners: Vec<&str> = records.clone().map(|r| r.owner.as_str()).collect();
    let started: Vec<i64> = records.clone().map(|r| r.started_at_ms).collect();
    let durations: Vec<i64> = records.clone().map(|r| r.duration_ms).collect();
    let statuses: Vec<Option<i64>> = records
        .clone()
        .map(|r| r.http_status.map(i64::from))
        .collect();
    let text = |f: fn(&AttemptRecord) -> &Option<String>| -> Vec<Option<&str>> {
        records.clone().map(|r| f(r).as_deref()).collect()
    };
    let (codes, excerpts) = (text(|r| &r.code), text(|r| &r.body_excerpt));
    let (errors, warnings) = (text(|r| &r.error), text(|r| &r.warning));
    let outcomes: Vec<&str> = moves.iter().map(|m| m.outcome).collect();
    let states: Vec<&str> = moves.iter().map(|m| m.state).collect();
    let next_at: Vec<i64> = moves.iter().map(|m| m.next_attempt_at_ms).collect();
    let unknown: Vec<i64> = moves.iter().map(|m| m.unknown_call).collect();
    let finished: Vec<Option<i64>> = moves.iter().map(|m| m.finished_at_ms).collect();
    let last_errors: Vec<Option<&str>> = moves.iter().map(|m| m.last_error.as_deref()).collect();
    let now: Vec<i64> = moves.iter().map(|m| m.now_ms).collect();

    let client = pool.get().await?;
    let stmt = client.prepare_cached(sql).await?;
    let written = client
        .query(
            &stmt,
            &[
                &ids,
                &owners,
                &started,
                &durations,
                &statuses,
                &codes,
                &excerpts,
                &errors,
                &warnings,
                &outcomes,
                &states,
                &next_at,
                &unknown,
                &finished,
                &last_errors,
                &now,
            ],
        )
        .await?;
    // Committed: what follows only reads what came back, and cannot fail the records.
    let mut found = HashMap::new();
    for row in &written {
        let Ok(delivery) = row.try_get::<_, i64>(0) else {
            continue;
        };
        let destination = row.try_get::<_, String>(1);
        let next = row.try_get::<_, Option<Vec<i64>>>(2);
        let next_of_call = match (destination, next.ok().flatten().as_deref()) {
            (Ok(destination), Some(&[id, lane, due])) => {
                floors.lower(&destination, lane, (due, id));
                Some((Lane::from_int(lane), due))
            }
            _ => None,
        };
        found.insert(delivery, Recorded { next_of_call });
    }
    Ok(found)
}

#[cfg(test)]
#[path = "record_batch_tests.rs"]
mod tests;
