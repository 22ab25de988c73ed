//! Received reports in groups (`batch`): copies of one report in a group become one row and
//! count as its duplicates; each new report's forward deliveries are written by the same
//! statement; a group that fails is retried one report at a time, so one bad report fails
//! alone.

use super::{days::Day, report_sql::DayStatement};
use crate::{Inserted, Leased, NewReport, StoreError};
use deadpool_postgres::Pool;
use std::{collections::HashMap, sync::Arc};
use tokio::sync::oneshot;
use tokio_postgres::{error::SqlState, types::ToSql};

pub(crate) struct Job {
    pub report: NewReport,
    pub answer: oneshot::Sender<Result<Inserted, StoreError>>,
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

pub(crate) async fn write(pool: Pool, statement: Arc<DayStatement>, batch: Vec<Job>) {
    let w = Writer {
        pool: &pool,
        statement: &statement,
    };
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
        w.write_day(day, jobs).await;
    }
}

/// Where a group is written.
#[derive(Clone, Copy)]
struct Writer<'a> {
    pool: &'a Pool,
    statement: &'a DayStatement,
}

impl Writer<'_> {
    async fn write_day(self, day: Day, batch: Vec<Job>) {
        if batch.len() == 1 {
            let job = batch.into_iter().next().expect("one job");
            let result = self.insert_one(day, &job.report).await;
            let _ = job.answer.send(result);
            return;
        }
        let groups = copies_together(batch);
        let copies: Vec<(&NewReport, usize)> = groups
            .iter()
            .map(|(_, jobs)| (&jobs[0].report, jobs.len()))
            .collect();
        match self.insert_many(day, &copies).await {
            Ok(rows) => {
                for (k, jobs) in groups {
                    answer(rows.get(&k), jobs);
                }
            }
            Err(e) => {
                tracing::debug!(error = ?e, "a batched insert failed; inserting its reports one by one");
                for job in groups.into_iter().flat_map(|(_, jobs)| jobs) {
                    let result = self.insert_one(day, &job.report).await;
                    let _ = job.answer.send(result);
                }
            }
        }
    }

    /// One report in the group statement, committed on return (`synchronous_commit` is on by
    /// default): the unique key decides between a new row and a duplicate, across every node.
    async fn insert_one(self, day: Day, report: &NewReport) -> Result<Inserted, StoreError> {
        let k = key(report);
        let rows = self.insert_many(day, &[(report, 1)]).await?;
        let stored = rows
            .get(&k)
            .ok_or_else(|| StoreError::Corrupt("a report was not returned by its insert".into()))?;
        Ok(stored.answer(stored.duplicates))
    }

    /// One statement for the whole group, each report with the number of its copies in the
    /// group; returns what it did with each, by key. A statement that names a partition
    /// dropped since it was prepared is built again, once.
    async fn insert_many(
        self,
        day: Day,
        groups: &[(&NewReport, usize)],
    ) -> Result<HashMap<Key, Stored>, StoreError> {
        let columns = Columns::of(groups);
        let params = columns.params();
        let mut client = self.pool.get().await?;
        let mut retried = false;
        let rows = loop {
            let stmt = self.statement.prepare(&mut client, day).await?;
            match client.query(&stmt, &params).await {
                Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) && !retried => {
                    self.statement.forget(&client);
                    retried = true;
                }
                rows => break rows?,
            }
        };
        rows.iter().map(stored).collect()
    }
}

/// What the statement did with one report, by its key.
fn stored(row: &tokio_postgres::Row) -> Result<(Key, Stored), StoreError> {
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
    Ok((k, stored))
}

/// A group's reports as the statement's parallel arrays.
struct Columns<'a> {
    app_id: Vec<&'a str>,
    call_id: Vec<&'a str>,
    content_hash: Vec<&'a [u8]>,
    event: Vec<&'a str>,
    status: Vec<Option<i64>>,
    received: Vec<i64>,
    peer: Vec<Option<&'a str>>,
    raw: Vec<&'a [u8]>,
    utc_offset: Vec<&'a str>,
    warnings: Vec<&'a str>,
    extras: Vec<i64>,
    last_duplicate: Vec<Option<i64>>,
    forwards: Forwards<'a>,
}

impl<'a> Columns<'a> {
    fn of(groups: &[(&'a NewReport, usize)]) -> Self {
        let firsts: Vec<&NewReport> = groups.iter().map(|(r, _)| *r).collect();
        let extras: Vec<i64> = groups.iter().map(|(_, n)| *n as i64 - 1).collect();
        let received: Vec<i64> = (firsts.iter())
            .map(|r| r.received_at.timestamp_millis())
            .collect();
        let last_duplicate = (extras.iter().zip(&received))
            .map(|(&n, &at)| (n > 0).then_some(at))
            .collect();
        Columns {
            app_id: firsts.iter().map(|r| r.app_id.as_str()).collect(),
            call_id: firsts.iter().map(|r| r.call_id.as_str()).collect(),
            content_hash: firsts.iter().map(|r| &r.content_hash[..]).collect(),
            event: firsts.iter().map(|r| r.event.as_str()).collect(),
            status: firsts.iter().map(|r| r.status).collect(),
            received,
            peer: firsts.iter().map(|r| r.peer.as_deref()).collect(),
            raw: firsts.iter().map(|r| &r.raw[..]).collect(),
            utc_offset: firsts.iter().map(|r| r.utc_offset.as_str()).collect(),
            warnings: firsts.iter().map(|r| r.warnings.as_str()).collect(),
            extras,
            last_duplicate,
            forwards: Forwards::of(&firsts),
        }
    }

    /// In the order of the statement's `$1` to `$18`.
    fn params(&self) -> [&(dyn ToSql + Sync); 18] {
        let f = &self.forwards;
        [
            &self.app_id,
            &self.call_id,
            &self.content_hash,
            &self.event,
            &self.status,
            &self.received,
            &self.peer,
            &self.raw,
            &self.utc_offset,
            &self.warnings,
            &self.extras,
            &self.last_duplicate,
            &f.report,
            &f.destination,
            &f.due,
            &f.lease_owner,
            &f.lease_until,
            &f.ordered,
        ]
    }
}

/// Copies of one report in the same batch become one group (a statement may not touch a row
/// twice); the copies after the first count as its duplicates.
fn copies_together(batch: Vec<Job>) -> Vec<(Key, Vec<Job>)> {
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
    groups
}

/// Answers each copy of one report from what the statement did with it.
fn answer(stored: Option<&Stored>, jobs: Vec<Job>) {
    let Some(stored) = stored else {
        for job in jobs {
            let _ = job.answer.send(Err(StoreError::Corrupt(
                "a batched report was not returned by its insert".into(),
            )));
        }
        return;
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
    use crate::postgres::{
        days,
        report_sql::insert_sql,
        test_support::{assert_ordering_probed, kept_plan, report, scratch_store},
    };

    /// 2026-12-04T12:00:00Z.
    const NOW_MS: i64 = 1_796_385_600_000;

    /// A batch of `calls`, written as one group; the answers in order.
    async fn batch(pool: &Pool, calls: &[&str]) -> Vec<Inserted> {
        let (jobs, answers): (Vec<_>, Vec<_>) = calls
            .iter()
            .map(|c| {
                let (answer, answered) = oneshot::channel();
                (
                    Job {
                        report: report(c, NOW_MS),
                        answer,
                    },
                    answered,
                )
            })
            .unzip();
        write(pool.clone(), Arc::default(), jobs).await;
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
        let (a_report, c_report) = (report("a", NOW_MS), report("c", NOW_MS));
        let day = Day::of_ms(NOW_MS).unwrap();
        let statement = DayStatement::default();
        let writer = Writer {
            pool: &pool,
            statement: &statement,
        };
        let rows = writer
            .insert_many(day, &[(&a_report, 2), (&c_report, 1)])
            .await
            .unwrap();
        let a_row = &rows[&key(&report("a", NOW_MS))];
        assert_eq!((a_row.id, a_row.duplicates, a_row.new), (a, 6, false));
        assert!(rows[&key(&report("c", NOW_MS))].new, "c is new");
        crate::Store::close(&store).await;
        db.drop_database().await.unwrap();
    }

    /// The group statement reads the dedupe keys of its day and of the earlier partitions it
    /// names, each through its index, and no other day's partition: its cost does not grow
    /// with the days kept.
    #[tokio::test]
    async fn the_group_statement_reads_two_days_whatever_is_kept() {
        let (db, store) = scratch_store("ivrhook_plans_days", 2).await;
        let day = Day::of_ms(NOW_MS).unwrap();
        let mut client = store.client().await.unwrap();
        for n in -3..=2 {
            days::ensure(&mut client, day.after(n)).await.unwrap();
        }
        let args = "ARRAY['app'], ARRAY['c1'], ARRAY['\\x00'::bytea], ARRAY['multrpt'], \
                    ARRAY[0::bigint], ARRAY[0::bigint], ARRAY[NULL], ARRAY['{}'::bytea], \
                    ARRAY['+08:00'], ARRAY['[]'], ARRAY[0::bigint], ARRAY[NULL::bigint], \
                    ARRAY[]::bigint[], ARRAY[]::text[], ARRAY[]::bigint[], ARRAY[]::text[], \
                    ARRAY[]::bigint[], ARRAY[]::bool[]";
        let earlier = days::earlier(&client, day).await.unwrap();
        assert_eq!(
            earlier,
            [day.before().table()],
            "nothing was stored before days"
        );
        let earlier = [day.before().table(), "reports_before_days".to_owned()];
        let plan = kept_plan(&client, &insert_sql(day, &earlier), args, "", "").await;
        for probed in [day.before().table(), "reports_before_days".into()] {
            let index = format!("using {probed}_dedupe");
            assert!(plan.contains(&index), "{index} is not read:\n{plan}");
        }
        let arbiter = format!("Conflict Arbiter Indexes: {}_dedupe", day.table());
        assert!(plan.contains(&arbiter), "{plan}");
        for other in [day.after(-3), day.after(-2), day.after(1), day.after(2)] {
            assert!(
                !plan.contains(&other.table()),
                "{} is read:\n{plan}",
                other.table()
            );
        }
        assert!(!plan.contains("Seq Scan on reports"), "{plan}");
        drop(client);
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
        assert_ordering_probed(&client, &insert_sql(day, &[]), args, &by).await;
        drop(client);
        crate::Store::close(&store).await;
        db.drop_database().await.unwrap();
    }
}
