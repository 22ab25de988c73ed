//! `Store` for `PgStore`: each method is one statement or one transaction (see the SQL files).

use super::PgStore;
use crate::{
    activity::Count,
    analytics,
    deadlines::{CallDeadline, Settle},
    outbox::{
        AttemptRecord, AttemptRow, ClaimRequest, ClaimRound, Claimed, DeliveryFilter, DeliveryRow,
        DestinationCount, DueSummary, Lane, NewEvent, OutboundRow, Recorded, RetryRange, Submitted,
    },
    recordings::{KeptRecording, OldCursor},
    Consumer, Inserted, NewReport, Store, StoreError, StoredReport,
};
use async_trait::async_trait;
use ivrhook_protocol::{AppId, CallId};
use tokio::sync::broadcast;

#[async_trait]
impl Store for PgStore {
    async fn insert_report(&self, report: NewReport) -> Result<Inserted, StoreError> {
        self.insert(report).await
    }

    async fn register_call(
        &self,
        app: &AppId,
        call: &CallId,
        report_due_at_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        (self.register((app.as_str(), call.as_str()), report_due_at_ms)).await
    }

    async fn call_deadline(
        &self,
        app: &AppId,
        call: &CallId,
    ) -> Result<Option<CallDeadline>, StoreError> {
        self.deadline_of(app.as_str(), call.as_str()).await
    }

    async fn unsettled(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<(Settle, CallDeadline)>, StoreError> {
        self.unsettled_calls(now_ms, limit).await
    }

    async fn settle(
        &self,
        calls: &[(Settle, AppId, CallId)],
        now_ms: i64,
    ) -> Result<Vec<(AppId, CallId)>, StoreError> {
        self.settle_calls(calls, now_ms).await
    }

    async fn overdue_counts(&self) -> Result<Vec<(AppId, u64)>, StoreError> {
        self.overdue_by_app().await
    }

    async fn overdue_calls(
        &self,
        app: Option<&AppId>,
        after: Option<(i64, String)>,
        limit: u32,
    ) -> Result<Vec<CallDeadline>, StoreError> {
        let (ms, call) = after.unwrap_or((-1, String::new()));
        let app = app.map(AppId::as_str);
        self.overdue_list(app, (ms, &call), limit).await
    }

    async fn is_call_known(&self, app: &AppId, call: &CallId) -> Result<bool, StoreError> {
        self.known(app.as_str(), call.as_str()).await
    }

    async fn reports_for_call(&self, call: &CallId) -> Result<Vec<StoredReport>, StoreError> {
        self.for_call(call.as_str()).await
    }

    async fn reports_after(&self, after: i64, limit: u32) -> Result<Vec<StoredReport>, StoreError> {
        self.after(after, limit).await
    }

    async fn latest_report_id(&self) -> Result<i64, StoreError> {
        self.latest().await
    }

    async fn calls_with_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<String>, StoreError> {
        self.calls_with_prefix(prefix, limit).await
    }

    async fn reports_before(
        &self,
        before: i64,
        app: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredReport>, StoreError> {
        self.before(before, app, limit).await
    }

    async fn consumer_cursor(&self, name: &str) -> Result<Option<i64>, StoreError> {
        self.consumer(name).await
    }

    async fn ack_consumer(&self, name: &str, cursor: i64, now_ms: i64) -> Result<i64, StoreError> {
        self.ack(name, cursor, now_ms).await
    }

    async fn consumers(&self) -> Result<Vec<Consumer>, StoreError> {
        self.consumer_list().await
    }

    async fn reports_behind(&self, cursor: i64) -> Result<(i64, Option<i64>), StoreError> {
        self.behind(cursor).await
    }

    async fn submit_event(&self, event: NewEvent) -> Result<Submitted, StoreError> {
        self.submit(event).await
    }

    async fn claim(&self, request: ClaimRequest) -> Result<Vec<Claimed>, StoreError> {
        Ok(self.claim_due(&request).await?.claimed)
    }

    /// One statement: the claim reads the lane's next due time too.
    async fn claim_round(&self, request: ClaimRequest) -> Result<ClaimRound, StoreError> {
        self.claim_due(&request).await
    }

    async fn record_attempt(&self, attempt: AttemptRecord) -> Result<Recorded, StoreError> {
        self.record(attempt.storable()).await
    }

    /// Never called for this backend (other nodes may hold leases); leases expire instead.
    async fn release_all_leases(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    async fn retry_delivery(
        &self,
        id: i64,
        now_ms: i64,
    ) -> Result<Option<DeliveryRow>, StoreError> {
        if !self.retry_one(id, now_ms).await? {
            return Ok(None);
        }
        self.one(id).await
    }

    async fn retry_range(&self, range: &RetryRange, now_ms: i64) -> Result<u64, StoreError> {
        self.retry_many(range, now_ms).await
    }

    async fn count_range(&self, range: &RetryRange) -> Result<u64, StoreError> {
        self.count_range(range).await
    }

    async fn deliveries(&self, filter: DeliveryFilter) -> Result<Vec<DeliveryRow>, StoreError> {
        self.list(&filter).await
    }

    async fn delivery(
        &self,
        id: i64,
    ) -> Result<Option<(DeliveryRow, Vec<AttemptRow>)>, StoreError> {
        let Some(row) = self.one(id).await? else {
            return Ok(None);
        };
        Ok(Some((row, self.attempts(id).await?)))
    }

    async fn outbound_for_call(&self, call: &CallId) -> Result<Vec<OutboundRow>, StoreError> {
        self.outbound(call.as_str()).await
    }

    async fn forwards_for_call(&self, call: &CallId) -> Result<Vec<DeliveryRow>, StoreError> {
        self.forwards(call.as_str()).await
    }

    async fn earliest_due(&self, destinations: Vec<String>) -> Result<Vec<DueSummary>, StoreError> {
        self.earliest(&destinations).await
    }

    async fn next_due(
        &self,
        destination: &str,
        lane: Lane,
        after_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        self.next(destination, lane, after_ms).await
    }

    async fn earlier_pending(
        &self,
        destination: &str,
        call: &str,
        delivery_id: i64,
    ) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT MIN(id) FROM deliveries
                   WHERE state = 'pending' AND destination = $1 AND call_id = $2 AND id < $3";
        let rows = self
            .rows(sql, &[&destination, &call, &delivery_id], |r| {
                Ok(r.try_get::<_, Option<i64>>(0)?)
            })
            .await?;
        Ok(rows.into_iter().next().flatten())
    }

    async fn delivery_counts(&self) -> Result<Vec<DestinationCount>, StoreError> {
        self.counts().await
    }

    async fn set_paused(&self, destination: &str, at_ms: Option<i64>) -> Result<bool, StoreError> {
        self.set_paused(destination, at_ms).await
    }

    async fn paused(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.paused().await
    }

    async fn keep_recording(&self, kept: &KeptRecording) -> Result<(), StoreError> {
        self.keep(kept).await
    }

    async fn kept_recording(
        &self,
        app: &str,
        call: &str,
        link: &str,
    ) -> Result<Option<KeptRecording>, StoreError> {
        self.kept((app, call, link)).await
    }

    async fn call_recordings(&self, call: &str) -> Result<Vec<KeptRecording>, StoreError> {
        self.kept_of_call(call).await
    }

    async fn old_recordings(
        &self,
        before_ms: i64,
        after: Option<OldCursor>,
        limit: u32,
    ) -> Result<Vec<(KeptRecording, bool)>, StoreError> {
        self.old_kept(before_ms, &after.unwrap_or_default(), limit)
            .await
    }

    async fn forget_recording(&self, kept: &KeptRecording) -> Result<bool, StoreError> {
        self.forget(kept).await
    }

    async fn add_activity(&self, counts: &[Count]) -> Result<(), StoreError> {
        self.add_counts(counts).await
    }

    async fn activity(&self, from_min: i64, to_min: i64) -> Result<Vec<Count>, StoreError> {
        self.activity_counts(from_min, to_min).await
    }

    async fn roll_activity(&self, before_min: i64) -> Result<u64, StoreError> {
        self.roll_counts(before_min).await
    }

    async fn prune_activity(&self, before_min: i64, limit: u32) -> Result<u64, StoreError> {
        self.prune_counts(before_min, limit).await
    }

    async fn add_analytics(&self, counts: &[analytics::Count]) -> Result<(), StoreError> {
        self.add_analytics_counts(counts).await
    }

    async fn analytics(
        &self,
        app_id: &str,
        from_min: i64,
        to_min: i64,
    ) -> Result<Vec<analytics::Count>, StoreError> {
        self.analytics_counts(app_id, from_min, to_min).await
    }

    async fn admit_names(
        &self,
        app_id: &str,
        scope: &str,
        names: &[String],
        cap: u32,
    ) -> Result<Vec<String>, StoreError> {
        self.admit_analytics_names(app_id, scope, names, cap).await
    }

    async fn roll_analytics(&self, before_min: i64, offset_min: i64) -> Result<u64, StoreError> {
        self.roll_analytics_hours(before_min, offset_min).await
    }

    async fn count_analytics_before(&self, before_min: i64) -> Result<u64, StoreError> {
        self.count_analytics(before_min).await
    }

    async fn prune_analytics(&self, before_min: i64, limit: u32) -> Result<u64, StoreError> {
        self.prune_analytics_counts(before_min, limit).await
    }

    async fn prepare_ahead(&self, now_ms: i64) -> Result<(), StoreError> {
        super::days::prepare(&mut *self.client().await?, now_ms).await
    }

    async fn prune(
        &self,
        request: crate::retention::PruneRequest,
    ) -> Result<crate::retention::PruneStep, StoreError> {
        self.prune_step(&request).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.client().await?.simple_query("SELECT 1").await?;
        Ok(())
    }

    async fn size_bytes(&self) -> Result<u64, StoreError> {
        let sql = "SELECT pg_database_size(current_database())";
        let bytes: i64 = self.client().await?.query_one(sql, &[]).await?.get(0);
        Ok(u64::try_from(bytes).unwrap_or(0))
    }

    /// Every write is committed before its call returns, so closing only stops the listener
    /// and the pool.
    async fn close(&self) {
        self.stop.cancel();
        self.pool.close();
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    fn single_process(&self) -> bool {
        false
    }

    fn wake_ups(&self) -> Option<broadcast::Receiver<String>> {
        Some(self.subscribe())
    }

    fn new_reports(&self) -> Option<broadcast::Receiver<()>> {
        Some(self.subscribe_reports())
    }
}
