//! Kept recordings on PostgreSQL (`crate::recordings`).

use super::PgStore;
use crate::{
    recordings::{sql, KeptRecording, OldCursor},
    StoreError,
};
use tokio_postgres::Row;

fn text(s: &str) -> String {
    sql::text(s, true)
}

fn read(r: &Row) -> Result<KeptRecording, StoreError> {
    Ok(KeptRecording {
        app_id: r.try_get(0)?,
        call_id: r.try_get(1)?,
        link: r.try_get(2)?,
        report_id: r.try_get(3)?,
        key: r.try_get(4)?,
        size: r.try_get(5)?,
        sha256: r.try_get(6)?,
        content_type: r.try_get(7)?,
        kept_at_ms: r.try_get(8)?,
    })
}

impl PgStore {
    pub(super) async fn keep(&self, k: &KeptRecording) -> Result<(), StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(&text(sql::KEEP)).await?;
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 9] = [
            &k.app_id,
            &k.call_id,
            &k.link,
            &k.report_id,
            &k.key,
            &k.size,
            &k.sha256,
            &k.content_type,
            &k.kept_at_ms,
        ];
        client.execute(&stmt, &params).await?;
        Ok(())
    }

    pub(super) async fn kept(
        &self,
        (app, call, link): (&str, &str, &str),
    ) -> Result<Option<KeptRecording>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(&text(sql::ONE), &[&app, &call, &link])
            .await?;
        row.as_ref().map(read).transpose()
    }

    pub(super) async fn kept_of_call(&self, call: &str) -> Result<Vec<KeptRecording>, StoreError> {
        let client = self.client().await?;
        let rows = client.query(&text(sql::OF_CALL), &[&call]).await?;
        rows.iter().map(read).collect()
    }

    pub(super) async fn old_kept(
        &self,
        before_ms: i64,
        after: &OldCursor,
        limit: u32,
    ) -> Result<Vec<(KeptRecording, bool)>, StoreError> {
        let client = self.client().await?;
        let (at, app, call, link) = after;
        let limit = i64::from(limit);
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] =
            [&before_ms, at, app, call, link, &limit];
        let rows = client.query(&text(sql::OLD), &params).await?;
        rows.iter().map(|r| Ok((read(r)?, r.try_get(9)?))).collect()
    }

    pub(super) async fn forget(&self, k: &KeptRecording) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
            [&k.app_id, &k.call_id, &k.link, &k.key];
        Ok(client.execute(&text(sql::FORGET), &params).await? == 1)
    }
}
