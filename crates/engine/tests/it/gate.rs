//! A real store with a gate on its claims: a test arms it, waits until a claim is inside,
//! does what must happen while the claim runs, and lets it finish. Everything else goes
//! straight to the store.

use async_trait::async_trait;
use ivrhook_protocol::{AppId, CallId};
use ivrhook_store::{
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
use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};
use tokio::sync::Notify;

#[derive(Debug, Default)]
pub struct Gate {
    armed: AtomicBool,
    entered: Notify,
    released: Notify,
}

impl Gate {
    /// The next claim stops inside until `release`.
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Waits until an armed claim is inside.
    pub async fn entered(&self) {
        self.entered.notified().await;
    }

    pub fn release(&self) {
        self.released.notify_one();
    }
}

#[derive(Debug)]
pub struct GatedStore {
    pub inner: Arc<dyn Store>,
    pub gate: Arc<Gate>,
}

#[async_trait]
impl Store for GatedStore {
    async fn claim_round(&self, request: ClaimRequest) -> Result<ClaimRound, StoreError> {
        if self.gate.armed.swap(false, Ordering::SeqCst) {
            let released = self.gate.released.notified();
            self.gate.entered.notify_one();
            released.await;
        }
        self.inner.claim_round(request).await
    }

    async fn claim(&self, request: ClaimRequest) -> Result<Vec<Claimed>, StoreError> {
        self.inner.claim(request).await
    }
    async fn insert_report(&self, report: NewReport) -> Result<Inserted, StoreError> {
        self.inner.insert_report(report).await
    }
    async fn register_call(
        &self,
        app: &AppId,
        call: &CallId,
        due: Option<i64>,
    ) -> Result<bool, StoreError> {
        self.inner.register_call(app, call, due).await
    }
    async fn call_deadline(
        &self,
        app: &AppId,
        call: &CallId,
    ) -> Result<Option<CallDeadline>, StoreError> {
        self.inner.call_deadline(app, call).await
    }
    async fn unsettled(
        &self,
        now: i64,
        limit: u32,
    ) -> Result<Vec<(Settle, CallDeadline)>, StoreError> {
        self.inner.unsettled(now, limit).await
    }
    async fn settle(
        &self,
        calls: &[(Settle, AppId, CallId)],
        now: i64,
    ) -> Result<Vec<(AppId, CallId)>, StoreError> {
        self.inner.settle(calls, now).await
    }
    async fn overdue_counts(&self) -> Result<Vec<(AppId, u64)>, StoreError> {
        self.inner.overdue_counts().await
    }
    async fn overdue_calls(
        &self,
        app: Option<&AppId>,
        after: Option<(i64, String)>,
        limit: u32,
    ) -> Result<Vec<CallDeadline>, StoreError> {
        self.inner.overdue_calls(app, after, limit).await
    }
    async fn is_call_known(&self, app: &AppId, call: &CallId) -> Result<bool, StoreError> {
        self.inner.is_call_known(app, call).await
    }
    async fn reports_for_call(&self, call: &CallId) -> Result<Vec<StoredReport>, StoreError> {
        self.inner.reports_for_call(call).await
    }
    async fn reports_after(&self, after: i64, limit: u32) -> Result<Vec<StoredReport>, StoreError> {
        self.inner.reports_after(after, limit).await
    }
    async fn latest_report_id(&self) -> Result<i64, StoreError> {
        self.inner.latest_report_id().await
    }
    async fn consumer_cursor(&self, name: &str) -> Result<Option<i64>, StoreError> {
        self.inner.consumer_cursor(name).await
    }
    async fn ack_consumer(&self, name: &str, cursor: i64, now_ms: i64) -> Result<i64, StoreError> {
        self.inner.ack_consumer(name, cursor, now_ms).await
    }
    async fn consumers(&self) -> Result<Vec<Consumer>, StoreError> {
        self.inner.consumers().await
    }
    async fn reports_behind(&self, cursor: i64) -> Result<(i64, Option<i64>), StoreError> {
        self.inner.reports_behind(cursor).await
    }
    async fn submit_event(&self, event: NewEvent) -> Result<Submitted, StoreError> {
        self.inner.submit_event(event).await
    }
    async fn record_attempt(&self, attempt: AttemptRecord) -> Result<Recorded, StoreError> {
        self.inner.record_attempt(attempt).await
    }
    async fn release_all_leases(&self) -> Result<u64, StoreError> {
        self.inner.release_all_leases().await
    }
    async fn retry_delivery(
        &self,
        id: i64,
        now_ms: i64,
    ) -> Result<Option<DeliveryRow>, StoreError> {
        self.inner.retry_delivery(id, now_ms).await
    }
    async fn retry_range(&self, range: &RetryRange, now_ms: i64) -> Result<u64, StoreError> {
        self.inner.retry_range(range, now_ms).await
    }
    async fn deliveries(&self, filter: DeliveryFilter) -> Result<Vec<DeliveryRow>, StoreError> {
        self.inner.deliveries(filter).await
    }
    async fn delivery(
        &self,
        id: i64,
    ) -> Result<Option<(DeliveryRow, Vec<AttemptRow>)>, StoreError> {
        self.inner.delivery(id).await
    }
    async fn outbound_for_call(&self, call: &CallId) -> Result<Vec<OutboundRow>, StoreError> {
        self.inner.outbound_for_call(call).await
    }
    async fn forwards_for_call(&self, call: &CallId) -> Result<Vec<DeliveryRow>, StoreError> {
        self.inner.forwards_for_call(call).await
    }
    async fn earliest_due(&self, names: Vec<String>) -> Result<Vec<DueSummary>, StoreError> {
        self.inner.earliest_due(names).await
    }
    async fn next_due(
        &self,
        destination: &str,
        lane: Lane,
        after_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        self.inner.next_due(destination, lane, after_ms).await
    }
    async fn reports_before(
        &self,
        before: i64,
        app: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredReport>, StoreError> {
        self.inner.reports_before(before, app, limit).await
    }
    async fn calls_with_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<String>, StoreError> {
        self.inner.calls_with_prefix(prefix, limit).await
    }
    async fn count_range(&self, range: &RetryRange) -> Result<u64, StoreError> {
        self.inner.count_range(range).await
    }
    async fn set_paused(&self, destination: &str, at_ms: Option<i64>) -> Result<bool, StoreError> {
        self.inner.set_paused(destination, at_ms).await
    }
    async fn paused(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.inner.paused().await
    }
    async fn keep_recording(&self, kept: &KeptRecording) -> Result<(), StoreError> {
        self.inner.keep_recording(kept).await
    }
    async fn kept_recording(
        &self,
        app: &str,
        call: &str,
        link: &str,
    ) -> Result<Option<KeptRecording>, StoreError> {
        self.inner.kept_recording(app, call, link).await
    }
    async fn call_recordings(&self, call: &str) -> Result<Vec<KeptRecording>, StoreError> {
        self.inner.call_recordings(call).await
    }
    async fn old_recordings(
        &self,
        before_ms: i64,
        after: Option<OldCursor>,
        limit: u32,
    ) -> Result<Vec<(KeptRecording, bool)>, StoreError> {
        self.inner.old_recordings(before_ms, after, limit).await
    }
    async fn forget_recording(&self, kept: &KeptRecording) -> Result<bool, StoreError> {
        self.inner.forget_recording(kept).await
    }
    async fn add_activity(&self, counts: &[Count]) -> Result<(), StoreError> {
        self.inner.add_activity(counts).await
    }
    async fn activity(&self, from_min: i64, to_min: i64) -> Result<Vec<Count>, StoreError> {
        self.inner.activity(from_min, to_min).await
    }
    async fn roll_activity(&self, before_min: i64) -> Result<u64, StoreError> {
        self.inner.roll_activity(before_min).await
    }
    async fn prune_activity(&self, before_min: i64, limit: u32) -> Result<u64, StoreError> {
        self.inner.prune_activity(before_min, limit).await
    }
    async fn add_analytics(&self, counts: &[analytics::Count]) -> Result<(), StoreError> {
        self.inner.add_analytics(counts).await
    }
    async fn analytics(
        &self,
        app_id: &str,
        from_min: i64,
        to_min: i64,
    ) -> Result<Vec<analytics::Count>, StoreError> {
        self.inner.analytics(app_id, from_min, to_min).await
    }
    async fn admit_names(
        &self,
        app_id: &str,
        scope: &str,
        names: &[String],
        cap: u32,
    ) -> Result<Vec<String>, StoreError> {
        self.inner.admit_names(app_id, scope, names, cap).await
    }
    async fn roll_analytics(&self, before_min: i64, offset_min: i64) -> Result<u64, StoreError> {
        self.inner.roll_analytics(before_min, offset_min).await
    }
    async fn count_analytics_before(&self, before_min: i64) -> Result<u64, StoreError> {
        self.inner.count_analytics_before(before_min).await
    }
    async fn prune_analytics(&self, before_min: i64, limit: u32) -> Result<u64, StoreError> {
        self.inner.prune_analytics(before_min, limit).await
    }
    async fn earlier_pending(
        &self,
        destination: &str,
        call: &str,
        delivery_id: i64,
    ) -> Result<Option<i64>, StoreError> {
        self.inner
            .earlier_pending(destination, call, delivery_id)
            .await
    }
    async fn delivery_counts(&self) -> Result<Vec<DestinationCount>, StoreError> {
        self.inner.delivery_counts().await
    }
    async fn prune(
        &self,
        request: ivrhook_store::retention::PruneRequest,
    ) -> Result<ivrhook_store::retention::PruneStep, StoreError> {
        self.inner.prune(request).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    async fn size_bytes(&self) -> Result<u64, StoreError> {
        self.inner.size_bytes().await
    }
    async fn close(&self) {
        self.inner.close().await
    }
    fn location(&self) -> String {
        self.inner.location()
    }
    fn single_process(&self) -> bool {
        self.inner.single_process()
    }
    fn wake_ups(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        self.inner.wake_ups()
    }
    fn new_reports(&self) -> Option<tokio::sync::broadcast::Receiver<()>> {
        self.inner.new_reports()
    }
}
