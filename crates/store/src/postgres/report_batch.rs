//! Received reports in groups (`batch`): copies of one report in a group become one row and
//! count as its duplicates; each new report's forward deliveries are written by the same
//! statement; a group that fails is retried one report at a time, so one bad report fails
//! alone.

use super::days::{self, Day, FIRST_DAY_ID};
use crate::{Inserted, Leased, NewReport, StoreError};
use deadpool_postgres::Pool;
use std::collections::HashMap;
use tokio::sync::oneshot;
use tokio_postgres::error::SqlState;

pub(crate) struct Job {
    pub report: NewReport,
    pub answer: oneshot::Sender<Result<Inserted, StoreError>>,
}

/// The group's reports, received on one day, then the forward deliveries of those that are
/// new, each found by its report's key. A report is a duplicate if its key is in the day's
/// partition (`ON CONFLICT`, across every node) or in the day before, or among the reports
/// stored before days (`prior`); otherwise it is new (`xmax = 0`: inserted, not updated).
/// Deliveries are inserted in the order of their reports' ids, so a call's later report gets
/// later delivery ids: the order its deliveries go in.
///
/// `lease` decides each forward's lease offer once (`MATERIALIZED`), as `submit_batch` does
/// for events: an ordered destination's delivery is leased only if no earlier report of its
/// call in the group goes to the same destination and no delivery of its call to it is
/// unfinished (read through `deliveries_ordering`, one probe per forward). Each report comes
/// back with its leased deliveries, for the node to send.
///
/// `@table`, `@prev`, `@first` and `@before_days` stand for the day's partition, the first
/// ids of the day before and of the day, and the end of `reports_before_days` (`insert_sql`).
const INSERT_MANY: &str = "
    WITH input AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[], $5::bigint[],
                             $6::bigint[], $7::text[], $8::bytea[], $9::text[], $10::text[],
                             $11::bigint[], $12::bigint[]) WITH ORDINALITY
            AS t(app_id, call_id, content_hash, event, status, received_at_ms, peer, raw,
                 utc_offset, warnings, duplicates, last_duplicate_at_ms, g)),
    prior AS (
        UPDATE reports r SET duplicates = r.duplicates + i.duplicates + 1,
                             last_duplicate_at_ms = i.received_at_ms
        FROM input i
        WHERE r.call_id = i.call_id AND r.app_id = i.app_id AND r.content_hash = i.content_hash
          AND (r.id < @before_days OR (r.id >= @prev AND r.id < @first))
        RETURNING r.id, r.duplicates, i.g, r.call_id, r.app_id, r.content_hash),
    ins AS (
        INSERT INTO @table AS r (app_id, call_id, content_hash, event, status, received_at_ms,
                                 peer, raw, utc_offset, warnings, duplicates,
                                 last_duplicate_at_ms)
        SELECT app_id, call_id, content_hash, event, status, received_at_ms, peer, raw,
               utc_offset, warnings, duplicates, last_duplicate_at_ms
        FROM input i WHERE NOT EXISTS (SELECT 1 FROM prior p WHERE p.g = i.g) ORDER BY g
        ON CONFLICT (call_id, app_id, content_hash)
        DO UPDATE SET duplicates = r.duplicates + excluded.duplicates + 1,
                      last_duplicate_at_ms = excluded.received_at_ms
        RETURNING id, duplicates, xmax = 0 AS new, call_id, app_id, content_hash),
    fwd AS MATERIALIZED (
        SELECT ins.id AS report_id, ins.app_id, ins.call_id, f.destination, f.due,
               i.received_at_ms, f.lease_owner, f.lease_until, f.ordered, f.n
        FROM unnest($13::bigint[], $14::text[], $15::bigint[], $16::text[], $17::bigint[],
                    $18::bool[]) WITH ORDINALITY
                 AS f(g, destination, due, lease_owner, lease_until, ordered, n)
             JOIN input i ON i.g = f.g
             JOIN ins ON ins.new AND ins.call_id = i.call_id AND ins.app_id = i.app_id
                     AND ins.content_hash = i.content_hash),
    lease AS MATERIALIZED (
        SELECT x.n, x.lease_owner IS NOT NULL AND (NOT x.ordered OR (
            NOT EXISTS (SELECT 1 FROM fwd y
                        WHERE y.destination = x.destination AND y.call_id = x.call_id
                          AND y.report_id < x.report_id)
            AND (SELECT true FROM deliveries p
                 WHERE p.finished_at_ms IS NULL AND p.destination = x.destination
                   AND p.call_id = x.call_id LIMIT 1) IS NULL)) AS taken
        FROM fwd x),
    forwarded AS (
        INSERT INTO deliveries (report_id, destination, app_id, call_id, next_attempt_at_ms,
                                created_at_ms, updated_at_ms, lease_owner, lease_expires_at_ms)
        SELECT x.report_id, x.destination, x.app_id, x.call_id, x.due, x.received_at_ms,
               x.received_at_ms, CASE WHEN l.taken THEN x.lease_owner END,
               CASE WHEN l.taken THEN x.lease_until ELSE 0 END
        FROM fwd x JOIN lease l ON l.n = x.n
        ORDER BY x.report_id, x.n
        RETURNING report_id, destination, id, lease_owner IS NOT NULL AS leased)
    SELECT s.id, s.duplicates, s.new, s.call_id, s.app_id, s.content_hash,
           l.destinations, l.ids
    FROM (SELECT id, duplicates, new, call_id, app_id, content_hash FROM ins
          UNION ALL
          SELECT id, duplicates, false, call_id, app_id, content_hash FROM prior) s
    LEFT JOIN (
        SELECT report_id, array_agg(destination ORDER BY id) AS destinations,
               array_agg(id ORDER BY id) AS ids
        FROM forwarded WHERE leased GROUP BY report_id) l ON l.report_id = s.id";

/// The group statement for reports received on `day`.
fn insert_sql(day: Day) -> String {
    INSERT_MANY
        .replace("@table", &day.table())
        .replace("@prev", &day.before().first_id().to_string())
        .replace("@first", &day.first_id().to_string())
        .replace("@before_days", &FIRST_DAY_ID.to_string())
}

/// What the statement did with one report.
struct Stored {
    id: i64,
    duplicates: i64,
    new: bool,
    leased: Vec<Leased>,
}

type Key = (String, String, [u8; 32]);

fn key(r: &NewReport) -> Key {
    (r.call_id.to_string(), r.app_id.to_string(), r.content_hash)
}

pub(crate) async fn write(pool: Pool, batch: Vec<Job>) {
    // Almost always one day; a group that spans midnight is written as one per day.
    let mut by_day: Vec<(Day, Vec<Job>)> = Vec::new();
    for job in batch {
        match Day::of_ms(job.report.received_at.timestamp_millis()) {
            Err(e) => {
                let _ = job.answer.send(Err(e));
            }
            Ok(day) => match by_day.iter_mut().find(|(d, _)| *d == day) {
                Some((_, jobs)) => jobs.push(job),
                None => by_day.push((day, vec![job])),
            },
        }
    }
    for (day, jobs) in by_day {
        write_day(&pool, day, jobs).await;
    }
}

async fn write_day(pool: &Pool, day: Day, batch: Vec<Job>) {
    if batch.len() == 1 {
        let job = batch.into_iter().next().expect("one job");
        let result = insert_one(pool, day, &job.report).await;
        let _ = job.answer.send(result);
        return;
    }
    // Copies of one report in the same batch become one row (a statement may not touch a
    // row twice); the copies after the first count as its duplicates.
    let mut groups: Vec<(Key, Vec<Job>)> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    for job in batch {
        let k = key(&job.report);
        match index.get(&k) {
            Some(&i) => groups[i].1.push(job),
            None => {
                index.insert(k.clone(), groups.len());
                groups.push((k, vec![job]));
            }
        }
    }
    let copies: Vec<(&NewReport, usize)> = groups
        .iter()
        .map(|(_, jobs)| (&jobs[0].report, jobs.len()))
        .collect();
    match insert_many(pool, day, &copies).await {
        Ok(rows) => {
            for (k, jobs) in groups {
                let Some(stored) = rows.get(&k) else {
                    for job in jobs {
                        let _ = job.answer.send(Err(StoreError::Corrupt(
                            "a batched report was not returned by its insert".into(),
                        )));
                    }
                    continue;
                };
                // Before this statement the row had `total - jobs` duplicates (or none).
                let before = if stored.new {
                    -1
                } else {
                    stored.duplicates - jobs.len() as i64
                };
                for (i, job) in jobs.into_iter().enumerate() {
                    let _ = job.answer.send(Ok(stored.answer(before + 1 + i as i64)));
                }
            }
        }
        Err(e) => {
            tracing::debug!(error = ?e, "a batched insert failed; inserting its reports one by one");
            for job in groups.into_iter().flat_map(|(_, jobs)| jobs) {
                let result = insert_one(pool, day, &job.report).await;
                let _ = job.answer.send(result);
            }
        }
    }
}

/// One report in the group statement, committed on return (`synchronous_commit` is on by
/// default): the unique key decides between a new row and a duplicate, across every node.
async fn insert_one(pool: &Pool, day: Day, report: &NewReport) -> Result<Inserted, StoreError> {
    let k = key(report);
    let rows = insert_many(pool, day, &[(report, 1)]).await?;
    let stored = rows
        .get(&k)
        .ok_or_else(|| StoreError::Corrupt("a report was not returned by its insert".into()))?;
    Ok(stored.answer(stored.duplicates))
}

impl Stored {
    /// The answer of the copy that is the `times`-th duplicate (0: the new report itself).
    fn answer(&self, times: i64) -> Inserted {
        if times == 0 {
            Inserted::New {
                id: self.id,
                leased: self.leased.clone(),
            }
        } else {
            Inserted::Duplicate { id: self.id, times }
        }
    }
}

/// One statement for the whole group, each report with the number of its copies in the group;
/// returns what it did with each, by key.
async fn insert_many(
    pool: &Pool,
    day: Day,
    groups: &[(&NewReport, usize)],
) -> Result<HashMap<Key, Stored>, StoreError> {
    let firsts: Vec<&NewReport> = groups.iter().map(|(r, _)| *r).collect();
    let extras: Vec<i64> = groups.iter().map(|(_, n)| *n as i64 - 1).collect();
    let forwards = Forwards::of(&firsts);
    let received: Vec<i64> = firsts
        .iter()
        .map(|r| r.received_at.timestamp_millis())
        .collect();
    let last_duplicate: Vec<Option<i64>> = extras
        .iter()
        .zip(&received)
        .map(|(&n, &at)| (n > 0).then_some(at))
        .collect();
    let mut client = pool.get().await?;
    let stmt = prepare(&mut client, day).await?;
    let rows = client
        .query(
            &stmt,
            &[
                &firsts.iter().map(|r| r.app_id.as_str()).collect::<Vec<_>>(),
                &firsts
                    .iter()
                    .map(|r| r.call_id.as_str())
                    .collect::<Vec<_>>(),
                &firsts
                    .iter()
                    .map(|r| &r.content_hash[..])
                    .collect::<Vec<_>>(),
                &firsts.iter().map(|r| r.event.as_str()).collect::<Vec<_>>(),
                &firsts.iter().map(|r| r.status).collect::<Vec<_>>(),
                &received,
                &firsts.iter().map(|r| r.peer.as_deref()).collect::<Vec<_>>(),
                &firsts.iter().map(|r| &r.raw[..]).collect::<Vec<_>>(),
                &firsts
                    .iter()
                    .map(|r| r.utc_offset.as_str())
                    .collect::<Vec<_>>(),
                &firsts
                    .iter()
                    .map(|r| r.warnings.as_str())
                    .collect::<Vec<_>>(),
                &extras,
                &last_duplicate,
                &forwards.report,
                &forwards.destination,
                &forwards.due,
                &forwards.lease_owner,
                &forwards.lease_until,
                &forwards.ordered,
            ],
        )
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let hash: Vec<u8> = row.try_get(5)?;
        let hash: [u8; 32] = hash
            .try_into()
            .map_err(|_| StoreError::Corrupt("reports.content_hash is not 32 bytes".into()))?;
        let k = (row.try_get(3)?, row.try_get(4)?, hash);
        let destinations: Option<Vec<String>> = row.try_get(6)?;
        let ids: Option<Vec<i64>> = row.try_get(7)?;
        let leased = destinations
            .unwrap_or_default()
            .into_iter()
            .zip(ids.unwrap_or_default())
            .map(|(destination, delivery_id)| Leased {
                destination,
                delivery_id,
            })
            .collect();
        let stored = Stored {
            id: row.try_get(0)?,
            duplicates: row.try_get(1)?,
            new: row.try_get(2)?,
            leased,
        };
        out.insert(k, stored);
    }
    Ok(out)
}

/// The day's group statement on this connection, creating the day's partition if it is
/// missing (the node that prunes creates them ahead). The statement of two days before is
/// let go, so a connection keeps at most a few.
async fn prepare(
    client: &mut deadpool_postgres::Object,
    day: Day,
) -> Result<tokio_postgres::Statement, StoreError> {
    let sql = insert_sql(day);
    client
        .statement_cache
        .remove(&insert_sql(day.after(-2)), &[]);
    match client.prepare_cached(&sql).await {
        Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => {
            days::ensure(client, day).await?;
            Ok(client.prepare_cached(&sql).await?)
        }
        prepared => Ok(prepared?),
    }
}

/// A group's forward deliveries as parallel arrays, each with its report's 1-based place.
#[derive(Default)]
struct Forwards<'a> {
    report: Vec<i64>,
    destination: Vec<&'a str>,
    due: Vec<i64>,
    lease_owner: Vec<Option<&'a str>>,
    lease_until: Vec<i64>,
    ordered: Vec<bool>,
}

impl<'a> Forwards<'a> {
    fn of(reports: &[&'a NewReport]) -> Self {
        let mut f = Forwards::default();
        for (g, r) in reports.iter().enumerate() {
            for fw in &r.forwards {
                f.report.push(g as i64 + 1);
                f.destination.push(&fw.destination);
                f.due.push(fw.first_attempt_at_ms);
                f.lease_owner
                    .push(fw.lease.as_ref().map(|l| l.owner.as_str()));
                f.lease_until
                    .push(fw.lease.as_ref().map_or(0, |l| l.until_ms));
                f.ordered.push(fw.lease.as_ref().is_some_and(|l| l.ordered));
            }
        }
        f
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::postgres::test_support::{assert_ordering_probed, scratch_store};

    /// 2026-12-04T12:00:00Z.
    const NOW_MS: i64 = 1_796_385_600_000;

    fn report(call: &str) -> NewReport {
        NewReport {
            app_id: "app".try_into().unwrap(),
            call_id: call.try_into().unwrap(),
            event: "multrpt".into(),
            status: None,
            content_hash: [7; 32],
            received_at: chrono::DateTime::from_timestamp_millis(NOW_MS).unwrap(),
            peer: None,
            raw: b"{}".to_vec(),
            utc_offset: "+08:00".into(),
            warnings: "[]".into(),
            forwards: Vec::new(),
        }
    }

    /// A batch of `calls`, written as one group; the answers in order.
    async fn batch(pool: &Pool, calls: &[&str]) -> Vec<Inserted> {
        let (jobs, answers): (Vec<_>, Vec<_>) = calls
            .iter()
            .map(|c| {
                let (answer, answered) = oneshot::channel();
                (
                    Job {
                        report: report(c),
                        answer,
                    },
                    answered,
                )
            })
            .unzip();
        write(pool.clone(), jobs).await;
        let mut out = Vec::new();
        for a in answers {
            out.push(a.await.unwrap().unwrap());
        }
        out
    }

    #[tokio::test]
    async fn copies_in_one_batch_are_one_row_and_counted_duplicates() {
        let (db, store) = scratch_store("ivrhook_batch_copies", 4).await;
        let pool = store.pool.clone();
        let first = batch(&pool, &["a", "a", "b", "a"]).await;
        let (Inserted::New { id: a, .. }, Inserted::New { id: b, .. }) =
            (first[0].clone(), first[2].clone())
        else {
            panic!("{first:?}")
        };
        assert_eq!(first[1], Inserted::Duplicate { id: a, times: 1 });
        assert_eq!(first[3], Inserted::Duplicate { id: a, times: 2 });
        assert_ne!(a, b);
        let again = batch(&pool, &["a", "a"]).await;
        assert_eq!(
            again,
            [
                Inserted::Duplicate { id: a, times: 3 },
                Inserted::Duplicate { id: a, times: 4 }
            ]
        );
        // The group statement itself takes copies (the answers above could also come from
        // the one-by-one fallback): two more of `a` and a new `c` in one statement.
        let (a_report, c_report) = (report("a"), report("c"));
        let day = Day::of_ms(NOW_MS).unwrap();
        let rows = insert_many(&pool, day, &[(&a_report, 2), (&c_report, 1)])
            .await
            .unwrap();
        let a_row = &rows[&key(&report("a"))];
        assert_eq!((a_row.id, a_row.duplicates, a_row.new), (a, 6, false));
        assert!(rows[&key(&report("c"))].new, "c is new");
        crate::Store::close(&store).await;
        db.drop_database().await.unwrap();
    }

    /// The lease check of a report's forwards probes `deliveries_ordering` by destination and
    /// call, whatever the kept plan was made from: each forward costs one probe, not a read of
    /// every unfinished delivery.
    #[tokio::test]
    async fn the_forwards_lease_check_reads_the_ordering_index_whatever_it_was_planned_on() {
        let (db, store) = scratch_store("ivrhook_plans_report", 2).await;
        let client = store.client().await.unwrap();
        let args = "ARRAY['app'], ARRAY['c1'], ARRAY['\\x00'::bytea], ARRAY['multrpt'], \
                    ARRAY[0::bigint], ARRAY[0::bigint], ARRAY[NULL], ARRAY['{}'::bytea], \
                    ARRAY['+08:00'], ARRAY['[]'], ARRAY[0::bigint], ARRAY[NULL::bigint], \
                    ARRAY[1::bigint], ARRAY['crm'], ARRAY[0::bigint], ARRAY['n1'], \
                    ARRAY[1::bigint], ARRAY[true]";
        let by = ["destination = x.destination", "call_id = x.call_id"];
        let day = Day::of_ms(NOW_MS).unwrap();
        days::ensure(&mut store.client().await.unwrap(), day)
            .await
            .unwrap();
        assert_ordering_probed(&client, &insert_sql(day), args, &by).await;
        drop(client);
        crate::Store::close(&store).await;
        db.drop_database().await.unwrap();
    }
}
