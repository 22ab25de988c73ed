//! Registered calls' deadlines on PostgreSQL (`crate::deadlines`). Several nodes sweep at
//! once: each `settle` marks a call only if no other node did (the `UPDATE`'s condition is
//! checked again on the row it locks), so each call is settled once.

use super::PgStore;
use crate::{
    deadlines::{deadline, sql, CallDeadline, Settle},
    StoreError,
};
use ivrhook_protocol::{AppId, CallId};
use tokio_postgres::Row;

fn text(s: &str) -> String {
    sql::text(s, true)
}

fn read(row: &Row) -> Result<CallDeadline, StoreError> {
    let times = [
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
    ];
    deadline(row.try_get(0)?, row.try_get(1)?, times)
}

impl PgStore {
    pub(super) async fn register(
        &self,
        (app, call): (&str, &str),
        due_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(&text(sql::REGISTER)).await?;
        let at = super::now_ms();
        Ok(client.execute(&stmt, &[&app, &call, &at, &due_ms]).await? == 1)
    }

    pub(super) async fn deadline_of(
        &self,
        app: &str,
        call: &str,
    ) -> Result<Option<CallDeadline>, StoreError> {
        let client = self.client().await?;
        let row = client.query_opt(&text(sql::ONE), &[&app, &call]).await?;
        row.as_ref().map(read).transpose()
    }

    pub(super) async fn unsettled_calls(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<(Settle, CallDeadline)>, StoreError> {
        let client = self.client().await?;
        let limit = i64::from(limit);
        let mut out = Vec::new();
        for row in client.query(&text(sql::DUE), &[&now_ms, &limit]).await? {
            let reported: bool = row.try_get(6)?;
            let settle = if reported {
                Settle::Reported
            } else {
                Settle::Overdue
            };
            out.push((settle, read(&row)?));
        }
        for row in client.query(&text(sql::LATE), &[&limit]).await? {
            out.push((Settle::Resolved, read(&row)?));
        }
        Ok(out)
    }

    pub(super) async fn settle_calls(
        &self,
        calls: &[(Settle, AppId, CallId)],
        now_ms: i64,
    ) -> Result<Vec<(AppId, CallId)>, StoreError> {
        let client = self.client().await?;
        let mut marked = Vec::new();
        for (s, app, call) in calls {
            let stmt = client.prepare_cached(&text(sql::settle(*s))).await?;
            let n = client
                .execute(&stmt, &[&app.as_str(), &call.as_str(), &now_ms])
                .await?;
            if n == 1 {
                marked.push((app.clone(), call.clone()));
            }
        }
        Ok(marked)
    }

    pub(super) async fn overdue_by_app(&self) -> Result<Vec<(AppId, u64)>, StoreError> {
        let rows = self.client().await?.query(&text(sql::COUNTS), &[]).await?;
        let count = |r: &Row| -> Result<(AppId, u64), StoreError> {
            let app: String = r.try_get(0)?;
            let n: i64 = r.try_get(1)?;
            let app = AppId::try_from(app)
                .map_err(|e| StoreError::Corrupt(format!("calls.app_id: {e}")))?;
            Ok((app, n.max(0) as u64))
        };
        rows.iter().map(count).collect()
    }

    pub(super) async fn overdue_list(
        &self,
        app: Option<&str>,
        (after_ms, after_call): (i64, &str),
        limit: u32,
    ) -> Result<Vec<CallDeadline>, StoreError> {
        let limit = i64::from(limit);
        let client = self.client().await?;
        let rows = client
            .query(&text(sql::LIST), &[&app, &after_ms, &after_call, &limit])
            .await?;
        rows.iter().map(read).collect()
    }
}
