//! `Store` for `SqliteStore`: writes go to the writer thread as jobs, reads to the pool.

use super::*;

#[async_trait]
impl Store for SqliteStore {
    async fn insert_report(&self, report: NewReport) -> Result<Inserted, StoreError> {
        // A report is several statements (its registered call, its forwards): all or none.
        self.write(true, move |c| reports::insert(c, &report)).await
    }

    async fn register_call(
        &self,
        app: &AppId,
        call: &CallId,
        report_due_at_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        let (app, call, at) = (app.to_string(), call.to_string(), now_ms());
        self.write(false, move |c| {
            deadlines::register(c, (&app, &call), at, report_due_at_ms)
        })
        .await
    }

    async fn call_deadline(
        &self,
        app: &AppId,
        call: &CallId,
    ) -> Result<Option<CallDeadline>, StoreError> {
        let (app, call) = (app.to_string(), call.to_string());
        self.read(move |c| Ok(deadlines::one(c, &app, &call)))
            .await?
    }

    async fn unsettled(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<(Settle, CallDeadline)>, StoreError> {
        self.read(move |c| Ok(deadlines::unsettled(c, now_ms, limit)))
            .await?
    }

    async fn settle(
        &self,
        calls: &[(Settle, AppId, CallId)],
        now_ms: i64,
    ) -> Result<Vec<(AppId, CallId)>, StoreError> {
        let calls = calls.to_vec();
        self.write(false, move |c| deadlines::settle(c, &calls, now_ms))
            .await
    }

    async fn overdue_counts(&self) -> Result<Vec<(AppId, u64)>, StoreError> {
        self.read(|c| Ok(deadlines::counts(c))).await?
    }

    async fn overdue_calls(
        &self,
        app: Option<&AppId>,
        after: Option<(i64, String)>,
        limit: u32,
    ) -> Result<Vec<CallDeadline>, StoreError> {
        let app = app.map(|a| a.to_string());
        let (ms, call) = after.unwrap_or((-1, String::new()));
        self.read(move |c| Ok(deadlines::list(c, app.as_deref(), (ms, &call), limit)))
            .await?
    }

    async fn is_call_known(&self, app: &AppId, call: &CallId) -> Result<bool, StoreError> {
        let (app, call) = (app.to_string(), call.to_string());
        self.read(move |c| reports::call_known(c, &app, &call))
            .await
    }

    async fn reports_for_call(&self, call: &CallId) -> Result<Vec<StoredReport>, StoreError> {
        let call = call.to_string();
        self.read(move |c| reports::for_call(c, &call)).await
    }

    async fn reports_after(&self, after: i64, limit: u32) -> Result<Vec<StoredReport>, StoreError> {
        self.read(move |c| reports::after(c, after, limit)).await
    }

    async fn latest_report_id(&self) -> Result<i64, StoreError> {
        self.read(reports::latest).await
    }

    async fn reports_before(
        &self,
        before: i64,
        app: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredReport>, StoreError> {
        let app = app.map(str::to_owned);
        self.read(move |c| reports::before(c, before, app.as_deref(), limit))
            .await
    }

    async fn calls_with_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<String>, StoreError> {
        let prefix = prefix.to_owned();
        self.read(move |c| reports::calls_with_prefix(c, &prefix, limit))
            .await
    }

    async fn consumer_cursor(&self, name: &str) -> Result<Option<i64>, StoreError> {
        let name = name.to_owned();
        self.read(move |c| reports::consumer(c, &name)).await
    }

    async fn ack_consumer(&self, name: &str, cursor: i64, now_ms: i64) -> Result<i64, StoreError> {
        let name = name.to_owned();
        self.write(false, move |c| reports::ack(c, &name, cursor, now_ms))
            .await
    }

    async fn consumers(&self) -> Result<Vec<Consumer>, StoreError> {
        self.read(reports::consumers).await
    }

    async fn reports_behind(&self, cursor: i64) -> Result<(i64, Option<i64>), StoreError> {
        self.read(move |c| reports::behind(c, cursor)).await
    }

    async fn submit_event(&self, event: NewEvent) -> Result<Submitted, StoreError> {
        self.write(true, move |c| outbox::submit(c, &event)).await
    }

    async fn claim(&self, request: ClaimRequest) -> Result<Vec<Claimed>, StoreError> {
        // A read and a lease per row: in a savepoint, so a claim leases all its rows or none.
        self.write(true, move |c| outbox::claim(c, &request)).await
    }

    async fn record_attempt(&self, attempt: AttemptRecord) -> Result<Recorded, StoreError> {
        let attempt = attempt.storable();
        self.write(true, move |c| outbox::record(c, &attempt)).await
    }

    async fn release_all_leases(&self) -> Result<u64, StoreError> {
        self.write(false, outbox::release_all_leases).await
    }

    async fn retry_delivery(
        &self,
        id: i64,
        now_ms: i64,
    ) -> Result<Option<DeliveryRow>, StoreError> {
        if !self
            .write(false, move |c| outbox::retry_one(c, id, now_ms))
            .await?
        {
            return Ok(None);
        }
        self.read(move |c| outbox_read::one(c, id)).await
    }

    async fn retry_range(&self, range: &RetryRange, now_ms: i64) -> Result<u64, StoreError> {
        let range = range.clone();
        self.write(false, move |c| outbox::retry_range(c, &range, now_ms))
            .await
    }

    async fn count_range(&self, range: &RetryRange) -> Result<u64, StoreError> {
        let range = range.clone();
        self.read(move |c| outbox::count_range(c, &range)).await
    }

    async fn deliveries(&self, filter: DeliveryFilter) -> Result<Vec<DeliveryRow>, StoreError> {
        self.read(move |c| outbox_read::list(c, &filter)).await
    }

    async fn delivery(
        &self,
        id: i64,
    ) -> Result<Option<(DeliveryRow, Vec<AttemptRow>)>, StoreError> {
        self.read(move |c| {
            let Some(row) = outbox_read::one(c, id)? else {
                return Ok(None);
            };
            Ok(Some((row, outbox_read::attempts(c, id)?)))
        })
        .await
    }

    async fn outbound_for_call(&self, call: &CallId) -> Result<Vec<OutboundRow>, StoreError> {
        let call = call.to_string();
        self.read(move |c| outbox_read::for_call(c, &call)).await
    }

    async fn forwards_for_call(&self, call: &CallId) -> Result<Vec<DeliveryRow>, StoreError> {
        let call = call.to_string();
        self.read(move |c| outbox_read::forwards_for_call(c, &call))
            .await
    }

    async fn earliest_due(&self, destinations: Vec<String>) -> Result<Vec<DueSummary>, StoreError> {
        self.read(move |c| outbox_read::earliest_due(c, &destinations))
            .await
    }

    async fn next_due(
        &self,
        destination: &str,
        lane: Lane,
        after_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        let destination = destination.to_owned();
        self.read(move |c| outbox_read::next_due(c, &destination, lane, after_ms))
            .await
    }

    async fn earlier_pending(
        &self,
        destination: &str,
        call: &str,
        delivery_id: i64,
    ) -> Result<Option<i64>, StoreError> {
        let (destination, call) = (destination.to_owned(), call.to_owned());
        self.read(move |c| outbox_read::earlier_pending(c, &destination, &call, delivery_id))
            .await
    }

    async fn delivery_counts(&self) -> Result<Vec<DestinationCount>, StoreError> {
        self.read(outbox_read::counts).await
    }

    async fn set_paused(&self, destination: &str, at_ms: Option<i64>) -> Result<bool, StoreError> {
        let destination = destination.to_owned();
        self.write(false, move |c| paused::set(c, &destination, at_ms))
            .await
    }

    async fn paused(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.read(paused::list).await
    }

    async fn keep_recording(&self, kept: &KeptRecording) -> Result<(), StoreError> {
        let kept = kept.clone();
        self.write(false, move |c| recordings::keep(c, &kept)).await
    }

    async fn kept_recording(
        &self,
        app: &str,
        call: &str,
        link: &str,
    ) -> Result<Option<KeptRecording>, StoreError> {
        let key = (app.to_owned(), call.to_owned(), link.to_owned());
        self.read(move |c| recordings::one(c, (&key.0, &key.1, &key.2)))
            .await
    }

    async fn call_recordings(&self, call: &str) -> Result<Vec<KeptRecording>, StoreError> {
        let call = call.to_owned();
        self.read(move |c| recordings::of_call(c, &call)).await
    }

    async fn old_recordings(
        &self,
        before_ms: i64,
        after: Option<OldCursor>,
        limit: u32,
    ) -> Result<Vec<(KeptRecording, bool)>, StoreError> {
        let after = after.unwrap_or_default();
        (self.read(move |c| recordings::old(c, before_ms, &after, limit))).await
    }

    async fn forget_recording(&self, kept: &KeptRecording) -> Result<bool, StoreError> {
        let kept = kept.clone();
        self.write(false, move |c| recordings::forget(c, &kept))
            .await
    }

    async fn add_activity(&self, counts: &[Count]) -> Result<(), StoreError> {
        let counts = counts.to_vec();
        self.write(true, move |c| activity::add(c, &counts)).await
    }

    async fn activity(&self, from_min: i64, to_min: i64) -> Result<Vec<Count>, StoreError> {
        self.read(move |c| activity::range(c, from_min, to_min))
            .await
    }

    async fn roll_activity(&self, before_min: i64) -> Result<u64, StoreError> {
        self.write(true, move |c| activity::roll(c, before_min))
            .await
    }

    async fn prune_activity(&self, before_min: i64, limit: u32) -> Result<u64, StoreError> {
        self.write(false, move |c| activity::prune(c, before_min, limit))
            .await
    }

    async fn add_analytics(&self, counts: &[crate::analytics::Count]) -> Result<(), StoreError> {
        let counts = counts.to_vec();
        self.write(true, move |c| super::analytics::add(c, &counts))
            .await
    }

    async fn analytics(
        &self,
        app_id: &str,
        from_min: i64,
        to_min: i64,
    ) -> Result<Vec<crate::analytics::Count>, StoreError> {
        let app_id = app_id.to_owned();
        self.read(move |c| super::analytics::range(c, &app_id, from_min, to_min))
            .await
    }

    async fn admit_names(
        &self,
        app_id: &str,
        scope: &str,
        names: &[String],
        cap: u32,
    ) -> Result<Vec<String>, StoreError> {
        let (app_id, scope, names) = (app_id.to_owned(), scope.to_owned(), names.to_vec());
        self.write(true, move |c| {
            super::analytics::admit(c, &app_id, &scope, &names, cap)
        })
        .await
    }

    async fn roll_analytics(&self, before_min: i64, offset_min: i64) -> Result<u64, StoreError> {
        self.write(true, move |c| {
            super::analytics::roll(c, before_min, offset_min)
        })
        .await
    }

    async fn count_analytics_before(&self, before_min: i64) -> Result<u64, StoreError> {
        self.read(move |c| super::analytics::count_before(c, before_min))
            .await
    }

    async fn prune_analytics(&self, before_min: i64, limit: u32) -> Result<u64, StoreError> {
        self.write(false, move |c| {
            super::analytics::prune(c, before_min, limit)
        })
        .await
    }

    async fn prune(&self, request: PruneRequest) -> Result<PruneStep, StoreError> {
        if request.dry_run {
            return self.read(move |c| Ok(prune::step(c, &request))).await?;
        }
        self.write(true, move |c| Ok(prune::step(c, &request)))
            .await?
    }

    /// Frees up to a thousand pages (4 MiB) a time, on files made with incremental vacuum.
    async fn reclaim(&self) -> Result<(), StoreError> {
        self.write(false, |c| {
            c.execute_batch("PRAGMA incremental_vacuum(1000)")
        })
        .await
    }

    /// Goes through the writer thread, so a stuck or stopped writer makes the store unhealthy.
    async fn ping(&self) -> Result<(), StoreError> {
        self.write(false, |c| c.query_row("SELECT 1", [], |_| Ok(())))
            .await
    }

    async fn size_bytes(&self) -> Result<u64, StoreError> {
        let len = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        Ok(len(&self.path) + len(&schema::wal_path(&self.path)))
    }

    async fn close(&self) {
        if let Ok(mut writes) = self.writes.lock() {
            writes.take();
        }
        let handle = self.writer.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
        // Only once every write is committed and synced.
        if let Some(lock) = self.lock.lock().ok().and_then(|mut l| l.take()) {
            lock.release();
        }
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn single_process(&self) -> bool {
        true
    }
}
