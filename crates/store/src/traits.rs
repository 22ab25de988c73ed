//! The [`Store`] trait: what the server and the delivery engine need of a database.

use crate::{
    activity::Count,
    analytics,
    deadlines::{CallDeadline, Settle},
    outbox::{
        AttemptRecord, AttemptRow, ClaimRequest, ClaimRound, Claimed, DeliveryFilter, DeliveryRow,
        DestinationCount, DueSummary, Lane, NewEvent, OutboundRow, Recorded, RetryRange, Submitted,
    },
    recordings::{KeptRecording, OldCursor},
    Consumer, Inserted, NewReport, StoreError, StoredReport,
};
use async_trait::async_trait;
use ivrhook_protocol::{AppId, CallId};

/// Writes are durable when their future resolves `Ok`.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    // --- received reports (the receiver) ---

    /// Stores a report unless the same app, call and content is stored already; the database's
    /// unique key decides, so concurrent duplicates cannot both be new. A new report's
    /// forward deliveries are written in the same transaction.
    async fn insert_report(&self, report: NewReport) -> Result<Inserted, StoreError>;

    /// Records a call the business placed, its report due by `report_due_at_ms` when set.
    /// `true` when it was not known before (a known call keeps its first registration).
    async fn register_call(
        &self,
        app: &AppId,
        call: &CallId,
        report_due_at_ms: Option<i64>,
    ) -> Result<bool, StoreError>;

    /// The registered call, when it has a deadline for its report.
    async fn call_deadline(
        &self,
        app: &AppId,
        call: &CallId,
    ) -> Result<Option<CallDeadline>, StoreError>;

    /// What a sweep has to settle at `now_ms`, at most `limit` of each: calls past their
    /// deadline with no report (`Settle::Overdue`), and overdue calls reported since
    /// (`Settle::Resolved`). Reading settles nothing: a sweep announces them, then `settle`s.
    async fn unsettled(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<(Settle, CallDeadline)>, StoreError>;

    /// Marks each call settled as of `now_ms`; the ones this marked (not another node). A call
    /// announced overdue is marked so even if its report came since: it is late then, and the
    /// next `unsettled` has it to resolve.
    async fn settle(
        &self,
        calls: &[(Settle, AppId, CallId)],
        now_ms: i64,
    ) -> Result<Vec<(AppId, CallId)>, StoreError>;

    /// Calls overdue and still without a report, per app.
    async fn overdue_counts(&self) -> Result<Vec<(AppId, u64)>, StoreError>;

    /// Calls overdue and still without a report, oldest first, after `after` (the last
    /// page's `(overdue_at_ms, call_id)`), of `app` when given.
    async fn overdue_calls(
        &self,
        app: Option<&AppId>,
        after: Option<(i64, String)>,
        limit: u32,
    ) -> Result<Vec<CallDeadline>, StoreError>;

    /// Whether `register_call` recorded the call for the app.
    async fn is_call_known(&self, app: &AppId, call: &CallId) -> Result<bool, StoreError>;

    /// Every report received for a call (under any app), oldest first.
    async fn reports_for_call(&self, call: &CallId) -> Result<Vec<StoredReport>, StoreError>;

    /// Reports with an id greater than `after`, in id order, at most `limit`.
    async fn reports_after(&self, after: i64, limit: u32) -> Result<Vec<StoredReport>, StoreError>;

    /// The id of the newest report (0 when none is stored).
    async fn latest_report_id(&self) -> Result<i64, StoreError>;

    /// Reports with ids below `before`, of `app` when given, newest first (the list of calls).
    async fn reports_before(
        &self,
        before: i64,
        app: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredReport>, StoreError>;

    /// Distinct callIds of received reports that start with `prefix`, in order, at most
    /// `limit` (the dashboard's call search).
    async fn calls_with_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<String>, StoreError>;

    // --- named consumers of the report feed ---

    /// A consumer's cursor, `None` for a name never acknowledged.
    async fn consumer_cursor(&self, name: &str) -> Result<Option<i64>, StoreError>;

    /// Moves a consumer's cursor forward to `cursor` (never back); returns where it is now.
    async fn ack_consumer(&self, name: &str, cursor: i64, now_ms: i64) -> Result<i64, StoreError>;

    /// Every named consumer, by name.
    async fn consumers(&self) -> Result<Vec<Consumer>, StoreError>;

    /// How many reports are newer than `cursor`, and when the first of them was received.
    async fn reports_behind(&self, cursor: i64) -> Result<(i64, Option<i64>), StoreError>;

    // --- the outbox (the sender) ---

    /// Writes an event and its delivery in one transaction (the transactional outbox).
    async fn submit_event(&self, event: NewEvent) -> Result<Submitted, StoreError>;

    /// Leases up to `limit` due deliveries; the lease is committed before this returns.
    async fn claim(&self, request: ClaimRequest) -> Result<Vec<Claimed>, StoreError>;

    /// `claim`, then, if it took fewer than `limit`, `next_due` after the request's time: what
    /// a worker needs after each claim. A backend over a network does both in one statement.
    /// A failed read of the due time gives `None`, never an error: the deliveries are leased
    /// by then and must be sent.
    async fn claim_round(&self, request: ClaimRequest) -> Result<ClaimRound, StoreError> {
        let (destination, lane, now, limit) = (
            request.destination.clone(),
            request.lane,
            request.now_ms,
            request.limit,
        );
        let claimed = self.claim(request).await?;
        let next_due_ms = if claimed.len() < limit as usize {
            self.next_due(&destination, lane, now).await.ok().flatten()
        } else {
            None
        };
        Ok(ClaimRound {
            claimed,
            next_due_ms,
        })
    }

    /// Records an attempt and moves its delivery, if `owner` still holds the lease; for a
    /// delivery that finished, names the next pending delivery of its call (`Recorded`).
    async fn record_attempt(&self, attempt: AttemptRecord) -> Result<Recorded, StoreError>;

    /// Clears every lease: only for a store that knows it has a single process (SQLite).
    async fn release_all_leases(&self) -> Result<u64, StoreError>;

    /// A dead or pending delivery goes now; a dead one starts a new round of its schedule.
    async fn retry_delivery(&self, id: i64, now_ms: i64)
        -> Result<Option<DeliveryRow>, StoreError>;

    /// Like `retry_delivery` for a destination's dead and pending deliveries created in a time
    /// range.
    async fn retry_range(&self, range: &RetryRange, now_ms: i64) -> Result<u64, StoreError>;

    /// How many deliveries `retry_range` would send now.
    async fn count_range(&self, range: &RetryRange) -> Result<u64, StoreError>;

    /// Deliveries the filter selects, oldest first.
    async fn deliveries(&self, filter: DeliveryFilter) -> Result<Vec<DeliveryRow>, StoreError>;

    /// One delivery with its attempts, oldest first.
    async fn delivery(&self, id: i64)
        -> Result<Option<(DeliveryRow, Vec<AttemptRow>)>, StoreError>;

    /// Events sent for a call, with their deliveries, oldest first.
    async fn outbound_for_call(&self, call: &CallId) -> Result<Vec<OutboundRow>, StoreError>;

    /// The forward deliveries of a call's received reports, oldest first.
    async fn forwards_for_call(&self, call: &CallId) -> Result<Vec<DeliveryRow>, StoreError>;

    /// The earliest due time of each destination's pending deliveries per lane, for a worker
    /// starting up or catching up.
    async fn earliest_due(&self, destinations: Vec<String>) -> Result<Vec<DueSummary>, StoreError>;

    /// The earliest due time after `after_ms` of a destination's pending deliveries in a lane.
    async fn next_due(
        &self,
        destination: &str,
        lane: Lane,
        after_ms: i64,
    ) -> Result<Option<i64>, StoreError>;

    /// The earliest pending delivery of `call` to `destination` before `delivery_id`: what an
    /// ordered destination's delivery waits for.
    async fn earlier_pending(
        &self,
        destination: &str,
        call: &str,
        delivery_id: i64,
    ) -> Result<Option<i64>, StoreError>;

    /// One bounded step of pruning (see `retention`).
    async fn prune(
        &self,
        request: crate::retention::PruneRequest,
    ) -> Result<crate::retention::PruneStep, StoreError>;

    /// Gives freed space back to the file system, a little at a time (SQLite); nothing for
    /// PostgreSQL, whose autovacuum reuses it.
    async fn reclaim(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Creates what the store will need soon, by the node that prunes: on PostgreSQL the
    /// partitions of reports for today and the next days; nothing on SQLite.
    async fn prepare_ahead(&self, _now_ms: i64) -> Result<(), StoreError> {
        Ok(())
    }

    /// Pending and dead deliveries per destination (backlogs and the metrics).
    async fn delivery_counts(&self) -> Result<Vec<DestinationCount>, StoreError>;

    /// Pauses (`Some(at_ms)`) or resumes (`None`) a destination; whether that changed it.
    async fn set_paused(&self, destination: &str, at_ms: Option<i64>) -> Result<bool, StoreError>;

    /// The paused destinations, with when each was paused, by name.
    async fn paused(&self) -> Result<Vec<(String, i64)>, StoreError>;

    // --- recordings ---

    /// Records a recording whose object is stored whole (again, if the same app, call and
    /// link were kept before: the row then says what is stored now).
    async fn keep_recording(&self, kept: &KeptRecording) -> Result<(), StoreError>;

    /// The recording kept for an app's call from `link`.
    async fn kept_recording(
        &self,
        app: &str,
        call: &str,
        link: &str,
    ) -> Result<Option<KeptRecording>, StoreError>;

    /// The recordings kept for a call (under any app), oldest first.
    async fn call_recordings(&self, call: &str) -> Result<Vec<KeptRecording>, StoreError>;

    /// Recordings kept before `before_ms`, after `after` (the last one of the previous page),
    /// oldest first, at most `limit`; each with whether a fetch of its call is pending.
    async fn old_recordings(
        &self,
        before_ms: i64,
        after: Option<OldCursor>,
        limit: u32,
    ) -> Result<Vec<(KeptRecording, bool)>, StoreError>;

    /// Removes a recording's row, once its object is gone; whether it was there.
    async fn forget_recording(&self, kept: &KeptRecording) -> Result<bool, StoreError>;

    // --- activity ---

    /// Adds `counts` to the stored ones (one transaction; each key at most once).
    async fn add_activity(&self, counts: &[Count]) -> Result<(), StoreError>;

    /// The counts whose span starts in `from_min..to_min` (minutes since the epoch), minutes
    /// and hours alike, in time order.
    async fn activity(&self, from_min: i64, to_min: i64) -> Result<Vec<Count>, StoreError>;

    /// Rolls the minutes before `before_min` into their hours; the hour rows written.
    async fn roll_activity(&self, before_min: i64) -> Result<u64, StoreError>;

    /// Removes counts before `before_min`, at most `limit`, oldest first; how many.
    async fn prune_activity(&self, before_min: i64, limit: u32) -> Result<u64, StoreError>;

    // --- analytics ---

    /// Adds `counts` to the stored ones (one transaction; each key at most once).
    async fn add_analytics(&self, counts: &[analytics::Count]) -> Result<(), StoreError>;

    /// `app_id`'s counts whose span starts in `from_min..to_min`, hours and days alike.
    async fn analytics(
        &self,
        app_id: &str,
        from_min: i64,
        to_min: i64,
    ) -> Result<Vec<analytics::Count>, StoreError>;

    /// Admits `names` into `app_id`'s `scope` while it holds fewer than `cap`; every name the
    /// scope holds afterwards.
    async fn admit_names(
        &self,
        app_id: &str,
        scope: &str,
        names: &[String],
        cap: u32,
    ) -> Result<Vec<String>, StoreError>;

    /// Rolls the hours before `before_min` into local days of a zone `offset_min` east of
    /// UTC; the day rows written.
    async fn roll_analytics(&self, before_min: i64, offset_min: i64) -> Result<u64, StoreError>;

    /// How many counts start before `before_min` (what pruning them would remove).
    async fn count_analytics_before(&self, before_min: i64) -> Result<u64, StoreError>;

    /// Removes counts before `before_min`, at most `limit`, oldest first; how many.
    async fn prune_analytics(&self, before_min: i64, limit: u32) -> Result<u64, StoreError>;

    // --- operations ---

    /// Answers when the database does (for `/healthz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Bytes the store takes on disk: the SQLite file and its WAL; the PostgreSQL database.
    async fn size_bytes(&self) -> Result<u64, StoreError>;

    /// Finishes every write already handed over, then stops accepting new ones.
    async fn close(&self);

    /// Where the data lives, for the start-up line.
    fn location(&self) -> String;

    /// Whether this store is used by one process only (its leases can be cleared at start).
    fn single_process(&self) -> bool;

    /// Destinations with new due work, announced by any process sharing the database (an
    /// empty name: anything may be due). `None` when this process is the only writer.
    fn wake_ups(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        None
    }

    /// A message each time another process sharing the database stores a new report. `None`
    /// when this process is the only writer.
    fn new_reports(&self) -> Option<tokio::sync::broadcast::Receiver<()>> {
        None
    }
}
