//! Received reports and registered calls on PostgreSQL.

use super::PgStore;
use crate::{Inserted, NewReport, StoreError, StoredReport};
use deadpool_postgres::Pool;
use tokio_postgres::Row;

const INSERT_REPORT: &str = "
    INSERT INTO reports (app_id, call_id, content_hash, event, status, received_at_ms, peer,
                         raw, utc_offset, warnings)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    ON CONFLICT (call_id, app_id, content_hash)
    DO UPDATE SET duplicates = reports.duplicates + 1,
                  last_duplicate_at_ms = excluded.received_at_ms
    RETURNING id, duplicates";

const COLUMNS: &str = "id, app_id, call_id, event, status, received_at_ms, peer, raw, warnings,
    duplicates, utc_offset";

fn report(row: &Row) -> Result<StoredReport, StoreError> {
    let warnings: String = row.try_get(8)?;
    let ms: i64 = row.try_get(5)?;
    Ok(StoredReport {
        id: row.try_get(0)?,
        app_id: row.try_get(1)?,
        call_id: row.try_get(2)?,
        event: row.try_get(3)?,
        status: row.try_get(4)?,
        received_at: chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default(),
        peer: row.try_get(6)?,
        raw: row.try_get(7)?,
        decoded: None,
        warnings: serde_json::from_str(&warnings)
            .map_err(|e| StoreError::Corrupt(format!("reports.warnings: {e}")))?,
        duplicates: row.try_get(9)?,
        utc_offset: row.try_get(10)?,
    })
}

/// One report in one statement, committed on return (`synchronous_commit` is on by default):
/// the unique key decides between a new row and a duplicate, across every node.
pub(super) async fn insert_one(pool: &Pool, r: &NewReport) -> Result<Inserted, StoreError> {
    let client = pool.get().await?;
    let stmt = client.prepare_cached(INSERT_REPORT).await?;
    let row = client
        .query_one(
            &stmt,
            &[
                &r.app_id.as_str(),
                &r.call_id.as_str(),
                &&r.content_hash[..],
                &r.event,
                &r.status,
                &r.received_at.timestamp_millis(),
                &r.peer,
                &r.raw,
                &r.utc_offset,
                &r.warnings,
            ],
        )
        .await?;
    let (id, times): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
    Ok(if times == 0 {
        Inserted::New { id }
    } else {
        Inserted::Duplicate { id, times }
    })
}

impl PgStore {
    /// Through the group inserter (`batch`): answered once its statement has committed.
    pub(super) async fn insert(&self, report: NewReport) -> Result<Inserted, StoreError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.inserts
            .send(super::report_batch::Job { report, answer })
            .map_err(|_| StoreError::Closed)?;
        answered.await.map_err(|_| StoreError::Closed)?
    }

    pub(super) async fn register(&self, app: &str, call: &str) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "INSERT INTO calls (app_id, call_id, registered_at_ms) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
            .await?;
        Ok(client
            .execute(&stmt, &[&app, &call, &super::now_ms()])
            .await?
            == 1)
    }

    pub(super) async fn known(&self, app: &str, call: &str) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT 1 FROM calls WHERE app_id = $1 AND call_id = $2")
            .await?;
        Ok(client.query_opt(&stmt, &[&app, &call]).await?.is_some())
    }

    pub(super) async fn for_call(&self, call: &str) -> Result<Vec<StoredReport>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM reports WHERE call_id = $1 ORDER BY id");
        self.rows(&sql, &[&call], report).await
    }

    pub(super) async fn after(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredReport>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM reports WHERE id > $1 ORDER BY id LIMIT $2");
        self.rows(&sql, &[&after, &i64::from(limit)], report).await
    }
}
