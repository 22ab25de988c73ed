//! The outbox's reads on PostgreSQL: listings, a delivery with its attempts, due times, counts.

use super::PgStore;
use crate::{
    outbox::{
        AttemptRow, DeliveryFilter, DeliveryRow, DestinationCount, DueSummary, Lane, OutboundRow,
    },
    rows::{self, DELIVERY},
    Consumer, StoreError,
};
use tokio_postgres::{types::ToSql, Row};

fn delivery(r: &Row) -> Result<DeliveryRow, StoreError> {
    rows::delivery(r)
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
        let sql = format!("SELECT {DELIVERY} FROM deliveries d WHERE d.id = $1");
        Ok(self.rows(&sql, &[&id], delivery).await?.pop())
    }

    /// The statement is built for the filters given, so each combination uses its index. The
    /// state is written into it (one of three fixed words): a prepared statement's generic plan
    /// cannot tell which partial index a `state = $n` would match.
    pub(super) async fn list(&self, f: &DeliveryFilter) -> Result<Vec<DeliveryRow>, StoreError> {
        let mut sql = format!("SELECT {DELIVERY} FROM deliveries d WHERE d.id > $1");
        let limit = i64::from(f.limit);
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&f.after];
        if let Some(app) = &f.app_id {
            params.push(app);
            sql.push_str(&format!(" AND d.app_id = ${}", params.len()));
        }
        if let Some(destination) = &f.destination {
            params.push(destination);
            sql.push_str(&format!(" AND d.destination = ${}", params.len()));
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
            "SELECT {DELIVERY}, e.body FROM outbound_events e JOIN deliveries d ON d.event_id = e.id
             WHERE e.call_id = $1 ORDER BY e.id"
        );
        self.rows(&sql, &[&call], |r| {
            Ok(OutboundRow {
                delivery: delivery(r)?,
                body: r.try_get(13)?,
            })
        })
        .await
    }

    /// A call's forward deliveries: each report of the call, each of its destinations.
    pub(super) async fn forwards(&self, call: &str) -> Result<Vec<DeliveryRow>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY} FROM reports r JOIN deliveries d ON d.report_id = r.id
             WHERE r.call_id = $1 AND d.report_id IS NOT NULL ORDER BY d.id"
        );
        self.rows(&sql, &[&call], delivery).await
    }

    /// The earliest due time of each destination's lanes, in one statement: one index seek per
    /// destination and lane, however large the backlog.
    pub(super) async fn earliest(
        &self,
        destinations: &[String],
    ) -> Result<Vec<DueSummary>, StoreError> {
        let sql = "SELECT a.destination, l.lane, due.at
                   FROM unnest($1::text[]) AS a(destination)
                   CROSS JOIN (VALUES (0::bigint), (1)) AS l(lane)
                   CROSS JOIN LATERAL (
                       SELECT MIN(next_attempt_at_ms) AS at FROM deliveries
                       WHERE state = 'pending' AND destination = a.destination
                         AND lane = l.lane) due
                   WHERE due.at IS NOT NULL";
        self.rows(sql, &[&destinations], |r| {
            let lane: i64 = r.try_get(1)?;
            Ok(DueSummary {
                destination: r.try_get(0)?,
                lane: Lane::from_int(lane),
                next_attempt_at_ms: r.try_get(2)?,
            })
        })
        .await
    }

    pub(super) async fn next(
        &self,
        destination: &str,
        lane: Lane,
        after_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT MIN(next_attempt_at_ms) FROM deliveries
                   WHERE state = 'pending' AND destination = $1 AND lane = $2
                     AND next_attempt_at_ms > $3";
        let rows = self
            .rows(sql, &[&destination, &lane.as_int(), &after_ms], |r| {
                Ok(r.try_get::<_, Option<i64>>(0)?)
            })
            .await?;
        Ok(rows.into_iter().next().flatten())
    }

    pub(super) async fn counts(&self) -> Result<Vec<DestinationCount>, StoreError> {
        // One state per part, so each reads its own index (migration 0004): pending rows
        // through deliveries_due, dead ones through deliveries_by_state.
        let sql = "SELECT destination, 'pending', COUNT(*), MIN(created_at_ms) FROM deliveries
                   WHERE state = 'pending' GROUP BY destination
                   UNION ALL
                   SELECT destination, 'dead', COUNT(*), MIN(created_at_ms) FROM deliveries
                   WHERE state = 'dead' GROUP BY destination";
        self.rows(sql, &[], rows::count).await
    }

    pub(super) async fn latest(&self) -> Result<i64, StoreError> {
        let sql = "SELECT COALESCE(MAX(id), 0) FROM reports";
        let found = self.rows(sql, &[], |r| Ok(r.try_get::<_, i64>(0)?)).await?;
        Ok(found.into_iter().next().unwrap_or(0))
    }

    pub(super) async fn consumer(&self, name: &str) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT cursor FROM consumers WHERE name = $1";
        let found = self
            .rows(sql, &[&name], |r| Ok(r.try_get::<_, i64>(0)?))
            .await?;
        Ok(found.into_iter().next())
    }

    /// Moves a consumer's cursor forward (never back); returns where it is.
    pub(super) async fn ack(&self, name: &str, cursor: i64, now: i64) -> Result<i64, StoreError> {
        let sql = "INSERT INTO consumers (name, cursor, updated_at_ms) VALUES ($1, $2, $3)
                   ON CONFLICT (name) DO UPDATE
                   SET cursor = GREATEST(consumers.cursor, excluded.cursor),
                       updated_at_ms = excluded.updated_at_ms
                   RETURNING cursor";
        let found = self
            .rows(
                sql,
                &[&name, &cursor, &now],
                |r| Ok(r.try_get::<_, i64>(0)?),
            )
            .await?;
        found
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Corrupt("consumers: the upsert returned no row".into()))
    }

    pub(super) async fn consumer_list(&self) -> Result<Vec<Consumer>, StoreError> {
        let sql = "SELECT name, cursor, updated_at_ms FROM consumers ORDER BY name";
        self.rows(sql, &[], |r| {
            Ok(Consumer {
                name: r.try_get(0)?,
                cursor: r.try_get(1)?,
                updated_at_ms: r.try_get(2)?,
            })
        })
        .await
    }

    /// Reports after `cursor`, and when the first of them was received.
    pub(super) async fn behind(&self, cursor: i64) -> Result<(i64, Option<i64>), StoreError> {
        let sql = "SELECT (SELECT COUNT(*) FROM reports WHERE id > $1),
                          (SELECT received_at_ms FROM reports WHERE id > $1 ORDER BY id LIMIT 1)";
        let found = self
            .rows(sql, &[&cursor], |r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .await?;
        Ok(found.into_iter().next().unwrap_or((0, None)))
    }
}
