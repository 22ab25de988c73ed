//! The outbox's reads on PostgreSQL: listings, a delivery with its attempts, due times, counts.

use super::PgStore;
use crate::{
    outbox::{
        AttemptRow, DeliveryFilter, DeliveryRow, DeliveryState, DueSummary, Lane, OutboundRow,
    },
    StoreError,
};
use tokio_postgres::{types::ToSql, Row};

const COLUMNS: &str = "d.id, d.event_id, d.app_id, d.call_id, d.state, d.attempts,
    d.next_attempt_at_ms, d.created_at_ms, d.updated_at_ms, d.finished_at_ms, d.last_error";

fn delivery(r: &Row) -> Result<DeliveryRow, StoreError> {
    let state: String = r.try_get(4)?;
    Ok(DeliveryRow {
        id: r.try_get(0)?,
        event_id: r.try_get(1)?,
        app_id: r.try_get(2)?,
        call_id: r.try_get(3)?,
        state: DeliveryState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("deliveries.state: {state:?}")))?,
        attempts: r.try_get(5)?,
        next_attempt_at_ms: r.try_get(6)?,
        created_at_ms: r.try_get(7)?,
        updated_at_ms: r.try_get(8)?,
        finished_at_ms: r.try_get(9)?,
        last_error: r.try_get(10)?,
    })
}

fn attempt(r: &Row) -> Result<AttemptRow, StoreError> {
    Ok(AttemptRow {
        id: r.try_get(0)?,
        started_at_ms: r.try_get(1)?,
        duration_ms: r.try_get(2)?,
        http_status: r.try_get(3)?,
        code: r.try_get(4)?,
        body_excerpt: r.try_get(5)?,
        error: r.try_get(6)?,
        warning: r.try_get(7)?,
        outcome: r.try_get(8)?,
    })
}

impl PgStore {
    pub(super) async fn one(&self, id: i64) -> Result<Option<DeliveryRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM deliveries d WHERE d.id = $1");
        Ok(self.rows(&sql, &[&id], delivery).await?.pop())
    }

    /// The statement is built for the filters given, so each combination uses its index. The
    /// state is written into it (one of three fixed words): a prepared statement's generic plan
    /// cannot tell which partial index a `state = $n` would match.
    pub(super) async fn list(&self, f: &DeliveryFilter) -> Result<Vec<DeliveryRow>, StoreError> {
        let mut sql = format!("SELECT {COLUMNS} FROM deliveries d WHERE d.id > $1");
        let limit = i64::from(f.limit);
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&f.after];
        if let Some(app) = &f.app_id {
            params.push(app);
            sql.push_str(&format!(" AND d.app_id = ${}", params.len()));
        }
        if let Some(state) = f.state {
            sql.push_str(&format!(" AND d.state = '{}'", state.as_str()));
        }
        params.push(&limit);
        sql.push_str(&format!(" ORDER BY d.id LIMIT ${}", params.len()));
        self.rows(&sql, &params, delivery).await
    }

    pub(super) async fn attempts(&self, delivery_id: i64) -> Result<Vec<AttemptRow>, StoreError> {
        // In the order they were appended (migration 5), which is their ids' order.
        let sql = "SELECT (a->>'id')::bigint, (a->>'started_at_ms')::bigint,
                          (a->>'duration_ms')::bigint, (a->>'http_status')::bigint, a->>'code',
                          a->>'body_excerpt', a->>'error', a->>'warning', a->>'outcome'
                   FROM deliveries d, jsonb_array_elements(d.attempt_log) WITH ORDINALITY AS t(a, n)
                   WHERE d.id = $1 ORDER BY t.n";
        self.rows(sql, &[&delivery_id], attempt).await
    }

    pub(super) async fn outbound(&self, call: &str) -> Result<Vec<OutboundRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS}, e.body FROM outbound_events e JOIN deliveries d ON d.event_id = e.id
             WHERE e.call_id = $1 ORDER BY e.id"
        );
        self.rows(&sql, &[&call], |r| {
            Ok(OutboundRow {
                delivery: delivery(r)?,
                body: r.try_get(11)?,
            })
        })
        .await
    }

    /// The earliest due time of each app's lanes, in one statement: one index seek per app and
    /// lane, however large the backlog.
    pub(super) async fn earliest(&self, apps: &[String]) -> Result<Vec<DueSummary>, StoreError> {
        let sql = "SELECT a.app_id, l.lane, due.at
                   FROM unnest($1::text[]) AS a(app_id) CROSS JOIN (VALUES (0::bigint), (1)) AS l(lane)
                   CROSS JOIN LATERAL (
                       SELECT MIN(next_attempt_at_ms) AS at FROM deliveries
                       WHERE state = 'pending' AND app_id = a.app_id AND lane = l.lane) due
                   WHERE due.at IS NOT NULL";
        self.rows(sql, &[&apps], |r| {
            let lane: i64 = r.try_get(1)?;
            Ok(DueSummary {
                app_id: r.try_get(0)?,
                lane: Lane::from_int(lane),
                next_attempt_at_ms: r.try_get(2)?,
            })
        })
        .await
    }

    pub(super) async fn next(
        &self,
        app: &str,
        lane: Lane,
        after_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT MIN(next_attempt_at_ms) FROM deliveries
                   WHERE state = 'pending' AND app_id = $1 AND lane = $2 AND next_attempt_at_ms > $3";
        let rows = self
            .rows(sql, &[&app, &lane.as_int(), &after_ms], |r| {
                Ok(r.try_get::<_, Option<i64>>(0)?)
            })
            .await?;
        Ok(rows.into_iter().next().flatten())
    }

    pub(super) async fn counts(&self) -> Result<Vec<(String, DeliveryState, i64)>, StoreError> {
        // One state per part, so each reads its own index (migration 0004): pending rows
        // through deliveries_due, dead ones through deliveries_by_state.
        let sql = "SELECT app_id, 'pending', COUNT(*) FROM deliveries
                   WHERE state = 'pending' GROUP BY app_id
                   UNION ALL
                   SELECT app_id, 'dead', COUNT(*) FROM deliveries
                   WHERE state = 'dead' GROUP BY app_id";
        self.rows(sql, &[], |r| {
            let state: String = r.try_get(1)?;
            Ok((
                r.try_get(0)?,
                DeliveryState::parse(&state).unwrap_or(DeliveryState::Pending),
                r.try_get(2)?,
            ))
        })
        .await
    }
}
