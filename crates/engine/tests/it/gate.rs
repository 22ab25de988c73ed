//! A real store with a gate on its claims: a test arms it, waits until a claim is inside,
//! does what must happen while the claim runs, and lets it finish. Everything else goes
//! straight to the store.

use async_trait::async_trait;
use ivrhook_protocol::{AppId, CallId};
use ivrhook_store::{
    outbox::{
        AttemptRecord, AttemptRow, ClaimRequest, ClaimRound, Claimed, DeliveryFilter, DeliveryRow,
        DeliveryState, DueSummary, Lane, NewEvent, OutboundRow, Recorded, Submitted,
    },
    Inserted, NewReport, Store, StoreError, StoredReport,
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
    async fn register_call(&self, app: &AppId, call: &CallId) -> Result<bool, StoreError> {
        self.inner.register_call(app, call).await
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
    async fn retry_range(
        &self,
        app: &AppId,
        from_ms: i64,
        to_ms: i64,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        self.inner.retry_range(app, from_ms, to_ms, now_ms).await
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
    async fn earliest_due(&self, apps: Vec<String>) -> Result<Vec<DueSummary>, StoreError> {
        self.inner.earliest_due(apps).await
    }
    async fn next_due(
        &self,
        app: &str,
        lane: Lane,
        after_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        self.inner.next_due(app, lane, after_ms).await
    }
    async fn delivery_counts(&self) -> Result<Vec<(String, DeliveryState, i64)>, StoreError> {
        self.inner.delivery_counts().await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
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
}
