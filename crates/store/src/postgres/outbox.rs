//! The outbox's writes on PostgreSQL. A claim locks its rows with `FOR UPDATE SKIP LOCKED`,
//! so nodes claiming at once take different deliveries, and commits the lease before the
//! engine sends anything.

use super::{moved::again_if_moved, PgStore};
use crate::{
    outbox::{AttemptRecord, ClaimRequest, ClaimRound, NewEvent, Recorded, RetryRange, Submitted},
    rows, StoreError,
};
use tokio_postgres::types::ToSql;

/// Rows due now in one destination's lane, oldest due first, from the lane's floor (`floors`)
/// on; with `ordered`, a delivery waits while an earlier one of its call to the same
/// destination is pending (on any node: the state is in the row).
///
/// Each part is written so that one index only can serve it (migrations 4 and 7), because a
/// prepared claim keeps the generic plan it made on a young table: the scan by
/// `deliveries_due`; the ordering check by `deliveries_ordering`, pending rows named by
/// `finished_at_ms IS NULL` and the earlier id by a row comparison that begins at `call_id`
/// (a plain `p.id < d.id` would let the primary key serve it, reading every earlier row).
///
/// Pending deliveries are all in `deliveries_pending` (migration 13), and a claim moves none
/// out of it: it reads and leases them there by name.
///
/// The claimed rows come back as `rows::CLAIMED`, each with its event's body or its report,
/// joined by primary key. The statement also reads the lane's next due time after now (one
/// row even when nothing is claimed, the claimed columns then null): a worker that claims
/// fewer than it asked for needs it, and a second statement for it cost as many round trips
/// as the claims.
static CLAIM: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "WITH due AS (
             SELECT d.id FROM deliveries_pending d
             WHERE d.state = 'pending' AND d.destination = $4 AND d.lane = $5
               AND (d.next_attempt_at_ms, d.id) >= ($9, $10)
               AND d.next_attempt_at_ms <= $3 AND d.lease_expires_at_ms <= $3
               AND d.id <> ALL($6)
               AND (NOT $7 OR NOT EXISTS (
                   SELECT 1 FROM deliveries_pending p
                   WHERE p.finished_at_ms IS NULL AND p.destination = d.destination
                     AND p.call_id = d.call_id AND (p.call_id, p.id) < (d.call_id, d.id)))
             ORDER BY d.next_attempt_at_ms, d.id
             LIMIT $8
             FOR UPDATE SKIP LOCKED),
         c AS (
             UPDATE deliveries_pending d
             SET lease_owner = $1, lease_expires_at_ms = $2, updated_at_ms = $3
             FROM due
             WHERE d.id = due.id
             RETURNING d.id, d.call_id, d.attempts, d.unknown_call_answers, d.created_at_ms,
                       d.event_id, d.report_id, d.next_attempt_at_ms)
         SELECT {}, c.next_attempt_at_ms, next.at
         FROM (
             SELECT MIN(next_attempt_at_ms) AS at FROM deliveries_pending
             WHERE state = 'pending' AND destination = $4 AND lane = $5
               AND next_attempt_at_ms > $3
         ) next
         LEFT JOIN (c LEFT JOIN outbound_events e ON e.id = c.event_id
                      LEFT JOIN reports r ON r.id = c.report_id) ON true",
        rows::CLAIMED
    )
});

/// Sends a dead or pending delivery now. A dead one starts a new round of its schedule (its
/// earlier attempts stay in its `attempt_log`); a pending one keeps its place in the round.
const RETRY_NOW: &str = "
    UPDATE deliveries
    SET next_attempt_at_ms = $1, updated_at_ms = $1,
        attempts = CASE state WHEN 'dead' THEN 0 ELSE attempts END,
        unknown_call_answers = CASE state WHEN 'dead' THEN 0 ELSE unknown_call_answers END,
        lane = CASE state WHEN 'dead' THEN 0 ELSE lane END,
        state = 'pending', finished_at_ms = NULL";

impl PgStore {
    /// Through the group writer (`submit_batch`); then other nodes' engines are woken
    /// (`announce`, after the commit: PostgreSQL serialises the commits of transactions that
    /// NOTIFY), unless the delivery was leased to this node as it was written: no other node
    /// can take it then.
    pub(super) async fn submit(&self, event: NewEvent) -> Result<Submitted, StoreError> {
        let destination = event.destination.clone();
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.submissions
            .send(super::submit_batch::Job { event, answer })
            .map_err(|_| StoreError::Closed)?;
        let submitted = answered.await.map_err(|_| StoreError::Closed)??;
        if let Submitted::New(_) = submitted {
            self.announce(&destination);
        }
        Ok(submitted)
    }

    pub(super) async fn claim_due(&self, c: &ClaimRequest) -> Result<ClaimRound, StoreError> {
        let lane = c.lane.as_int();
        let start = self.floors.start(&c.destination, lane, c.now_ms);
        let client = self.client().await?;
        let stmt = client.prepare_cached(&CLAIM).await?;
        let limit = i64::from(c.limit);
        let params: &[&(dyn ToSql + Sync)] = &[
            &c.owner,
            &c.lease_until_ms,
            &c.now_ms,
            &c.destination,
            &lane,
            &c.exclude,
            &c.ordered,
            &limit,
            &start.at.0,
            &start.at.1,
        ];
        let (client, stmt) = (&client, &stmt);
        let rows = again_if_moved(|| async move { Ok(client.query(stmt, params).await?) }).await?;
        let next_due_ms: Option<i64> = match rows.first() {
            Some(r) => r.try_get(16)?,
            None => None,
        };
        // Without a claimed row, the one row carries only the due time.
        let found: Vec<_> = rows
            .iter()
            .filter(|r| matches!(r.try_get::<_, Option<i64>>(0), Ok(Some(_))))
            .collect();
        let mut first: Option<super::floors::Position> = None;
        for r in &found {
            let at = (r.try_get(15)?, r.try_get(0)?);
            first = Some(first.map_or(at, |f| f.min(at)));
        }
        self.floors
            .claimed(&c.destination, lane, c.now_ms, start, first);
        let mut claimed = found
            .iter()
            .map(|r| rows::claimed(*r))
            .collect::<Result<Vec<_>, StoreError>>()?;
        // RETURNING order is unspecified; send in the order the deliveries were created.
        claimed.sort_by_key(|c| c.delivery_id);
        let short = claimed.len() < c.limit as usize;
        Ok(ClaimRound {
            claimed,
            next_due_ms: next_due_ms.filter(|_| short),
        })
    }

    /// Through the group writer (`record_batch`): the attempt row, then the delivery's move
    /// if this owner still holds its lease.
    pub(super) async fn record(&self, record: AttemptRecord) -> Result<Recorded, StoreError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.records
            .send(super::record_batch::Job { record, answer })
            .map_err(|_| StoreError::Closed)?;
        answered.await.map_err(|_| StoreError::Closed)?
    }

    pub(super) async fn retry_one(&self, id: i64, now_ms: i64) -> Result<bool, StoreError> {
        let sql = format!("{RETRY_NOW} WHERE id = $2 AND state IN ('dead', 'pending')");
        let client = self.client().await?;
        let (client, sql) = (&client, &sql);
        let n = again_if_moved(|| async move { Ok(client.execute(sql, &[&now_ms, &id]).await?) })
            .await?;
        if n == 1 {
            self.floors.reset();
            self.announce("");
        }
        Ok(n == 1)
    }

    pub(super) async fn count_range(&self, r: &RetryRange) -> Result<u64, StoreError> {
        let sql = format!(
            "SELECT COUNT(*) FROM deliveries WHERE destination = $1 AND created_at_ms >= $2
               AND created_at_ms < $3 AND {}",
            r.states.condition()
        );
        let client = self.client().await?;
        let n: i64 = client
            .query_one(&sql, &[&r.destination, &r.from_ms, &r.to_ms])
            .await?
            .try_get(0)?;
        Ok(n.max(0) as u64)
    }

    pub(super) async fn retry_many(&self, r: &RetryRange, now_ms: i64) -> Result<u64, StoreError> {
        let sql = format!(
            "{RETRY_NOW} WHERE destination = $2 AND created_at_ms >= $3 AND created_at_ms < $4
                           AND {}",
            r.states.condition()
        );
        let client = self.client().await?;
        let (client, sql) = (&client, &sql);
        let params: &[&(dyn ToSql + Sync)] = &[&now_ms, &r.destination, &r.from_ms, &r.to_ms];
        let n = again_if_moved(|| async move { Ok(client.execute(sql, params).await?) }).await?;
        if n > 0 {
            self.floors.reset();
            self.announce("");
        }
        Ok(n)
    }
}

#[cfg(test)]
mod plans {
    //! The claim's plan, whatever it was made from: a young table with a backlog (no
    //! statistics yet), an empty table that grew after, statistics that say nothing is
    //! pending. It must walk `deliveries_due` in order from the floor (no sort of the backlog)
    //! and check ordering through `deliveries_ordering`, so a claim costs the same at a backlog
    //! of ten or ten thousand. Planned on an empty table, the check once read `deliveries_due`
    //! instead: every pending delivery once per candidate, over 100 s per claim.
    #![allow(clippy::unwrap_used)]

    use super::CLAIM;
    use crate::postgres::test_support::{kept_plan, scratch_store, PLAN_CASES};

    #[tokio::test]
    async fn the_claim_reads_its_indexes_whatever_it_was_planned_on() {
        let (db, store) = scratch_store("ivrhook_plans_claim", 2).await;
        let client = store.client().await.unwrap();
        let args = "'o', 1, 1, 'app:a', 0, '{}', true, 64, \
                    -9223372036854775808, -9223372036854775808";
        for (case, before, after) in PLAN_CASES {
            let plan = kept_plan(&client, &CLAIM, args, before, after).await;
            assert!(
                plan.contains("Index Scan using deliveries_pending_due on deliveries_pending d"),
                "{case}:\n{plan}"
            );
            assert!(
                plan.contains("using deliveries_pending_ordering on deliveries_pending p"),
                "{case}:\n{plan}"
            );
            assert_eq!(
                plan.matches("using deliveries_pending_due on deliveries_pending")
                    .count(),
                2,
                "{case}: the claim and the next due time read the claim index:\n{plan}"
            );
            assert!(
                !plan.contains("Sort"),
                "{case}: the backlog is sorted:\n{plan}"
            );
            // The floor bounds the index scan itself: rows behind it are not read.
            assert!(
                plan.lines().any(|l| l.contains("Index Cond")
                    && l.contains("ROW(next_attempt_at_ms, id) >= ROW(")),
                "{case}: the floor is not an index condition:\n{plan}"
            );
        }
        drop(client);
        crate::Store::close(&store).await;
        db.drop_database().await.unwrap();
    }
}
