//! Received reports and registered calls on PostgreSQL.

use super::PgStore;
use crate::{rows, Inserted, NewReport, StoreError, StoredReport};
use tokio_postgres::Row;

const COLUMNS: &str = rows::REPORT;

fn report(row: &Row) -> Result<StoredReport, StoreError> {
    rows::report(row)
}

impl PgStore {
    /// Through the group inserter (`batch`): answered once its statement has committed. A new
    /// report is announced to the other nodes (their feeds), and so is each destination it
    /// is forwarded to (their engines).
    pub(super) async fn insert(&self, report: NewReport) -> Result<Inserted, StoreError> {
        let destinations: Vec<String> = report
            .forwards
            .iter()
            .map(|f| f.destination.clone())
            .collect();
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.inserts
            .send(super::report_batch::Job { report, answer })
            .map_err(|_| StoreError::Closed)?;
        let inserted = answered.await.map_err(|_| StoreError::Closed)??;
        if let Inserted::New { leased, .. } = &inserted {
            self.announce_reports();
            // A leased delivery is this node's to send: no other node needs waking for it.
            let unleased = destinations
                .iter()
                .filter(|d| !leased.iter().any(|l| &l.destination == *d));
            for destination in unleased {
                self.announce(destination);
            }
        }
        Ok(inserted)
    }

    pub(super) async fn known(&self, app: &str, call: &str) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT 1 FROM calls WHERE app_id = $1 AND call_id = $2")
            .await?;
        Ok(client.query_opt(&stmt, &[&app, &call]).await?.is_some())
    }

    pub(super) async fn for_call(&self, call: &str) -> Result<Vec<StoredReport>, StoreError> {
        let sql = format!(
            "SELECT {} FROM reports WHERE call_id = $1 ORDER BY id",
            COLUMNS
        );
        self.rows(&sql, &[&call], report).await
    }

    pub(super) async fn after(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredReport>, StoreError> {
        let sql = format!(
            "SELECT {} FROM reports WHERE id > $1 ORDER BY id LIMIT $2",
            COLUMNS
        );
        self.rows(&sql, &[&after, &i64::from(limit)], report).await
    }

    pub(super) async fn calls_with_prefix(
        &self,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let end = crate::rows::prefix_end(prefix);
        let sql = "SELECT DISTINCT call_id FROM reports WHERE call_id >= $1 AND call_id < $2
                   ORDER BY call_id LIMIT $3";
        self.rows(sql, &[&prefix, &end, &i64::from(limit)], |r| {
            Ok(r.try_get(0)?)
        })
        .await
    }

    pub(super) async fn before(
        &self,
        before: i64,
        app: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredReport>, StoreError> {
        let sql = format!(
            "SELECT {} FROM reports WHERE id < $1 AND ($2::text IS NULL OR app_id = $2)
             ORDER BY id DESC LIMIT $3",
            COLUMNS
        );
        self.rows(&sql, &[&before, &app, &i64::from(limit)], report)
            .await
    }
}
