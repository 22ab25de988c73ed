//! The outbox as the store sees it: events submitted for delivery, received reports forwarded
//! on, their deliveries (each to one destination), and attempts.

use ivrhook_protocol::{AppId, CallId};
use std::fmt;

/// An event handed to ivrhook for delivery to its app's callback URL.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The app whose callback URL it goes to.
    pub app_id: AppId,
    /// The call it reports.
    pub call_id: CallId,
    /// The destination its delivery goes to (the app's callback destination).
    pub destination: String,
    /// The submitter's `Idempotency-Key`: a second event with it returns the first.
    pub idempotency_key: Option<String>,
    /// The bytes to POST, exactly.
    pub body: Vec<u8>,
    /// When it was submitted, milliseconds since the epoch.
    pub created_at_ms: i64,
    /// When the first attempt is due (the retry schedule's first delay after creation).
    pub first_attempt_at_ms: i64,
    /// Set by a node that can send the event the moment it is written.
    pub lease: Option<LeaseOffer>,
}

/// A node's offer to lease a new event's delivery in the same write that stores it, so the
/// delivery needs no claim: a claim is a statement and a new row version per delivery, a
/// large share of the database's work for a delivery that succeeds at once. The store takes the offer only if the delivery may go now: with
/// `ordered`, no earlier delivery of its call is unfinished, and no earlier event of the same
/// call is in the same write. A delivery leased this way is like a claimed one in every way
/// (its lease expires, others claim it then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseOffer {
    /// The node that would send it.
    pub owner: String,
    /// When the lease would expire.
    pub until_ms: i64,
    /// Whether the destination keeps a call's deliveries in order.
    pub ordered: bool,
}

/// Ids of an event and its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventIds {
    /// The event's id.
    pub event_id: i64,
    /// Its delivery's id.
    pub delivery_id: i64,
}

/// What submitting an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    /// New, left to a claim.
    New(EventIds),
    /// New, and leased to the owner of the event's `LeaseOffer`: that node sends it.
    Leased(EventIds),
    /// The idempotency key was used before: the first event's ids.
    Existing(EventIds),
}

/// First attempts and retries are claimed separately, so neither starves the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    /// Deliveries not attempted yet.
    First,
    /// Deliveries attempted before.
    Retry,
}

impl Lane {
    /// The lane as stored: 0 first attempts, 1 retries.
    pub fn as_int(self) -> i64 {
        match self {
            Lane::First => 0,
            Lane::Retry => 1,
        }
    }

    /// The lane a stored integer names (0 first attempts, anything else retries).
    pub fn from_int(lane: i64) -> Lane {
        if lane == 0 {
            Lane::First
        } else {
            Lane::Retry
        }
    }
}

/// What a worker asks for: up to `limit` due deliveries of one destination in one lane.
#[derive(Debug, Clone)]
pub struct ClaimRequest {
    /// The destination whose deliveries to claim.
    pub destination: String,
    /// First attempts or retries.
    pub lane: Lane,
    /// At most this many.
    pub limit: u32,
    /// Deliveries due at or before this time.
    pub now_ms: i64,
    /// When the leases taken expire.
    pub lease_until_ms: i64,
    /// The node claiming.
    pub owner: String,
    /// Skip a delivery while an earlier one for the same call is pending.
    pub ordered: bool,
    /// Deliveries this worker already has in flight (never claimed twice by one owner).
    pub exclude: Vec<i64>,
}

/// A claimed delivery, with what is needed to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The delivery's id.
    pub delivery_id: i64,
    /// The call it reports.
    pub call_id: String,
    /// Attempts made so far in this round.
    pub attempts: u32,
    /// How many `108105` (unknown call) answers it has had: retried a few times only.
    pub unknown_call_answers: u32,
    /// When the delivery was written.
    pub created_at_ms: i64,
    /// What it carries.
    pub payload: Payload,
}

/// What a delivery carries: an event's bytes, or a received report to render.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// An event submitted to the sender.
    Event {
        /// The event's id.
        id: i64,
        /// The bytes to POST, exactly.
        body: Vec<u8>,
    },
    /// A received report, forwarded.
    Report(ReceivedReport),
}

/// A received report as a forward delivery needs it: the bytes as they arrived and what its
/// decoded form is derived from.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedReport {
    /// The report's id (its place in the feed).
    pub id: i64,
    /// The app it came for.
    pub app_id: String,
    /// Its `event` (`multrpt`).
    pub event: String,
    /// Its `status`: 0 completed, 1 hung up early.
    pub status: Option<i64>,
    /// When it was accepted.
    pub received_at_ms: i64,
    /// The body as the platform sent it.
    pub raw: Vec<u8>,
    /// `None` only for rows older than the column (their decoded form was stored instead).
    pub utc_offset: Option<String>,
    /// The decoder's warnings, as a JSON array.
    pub warnings: String,
}

impl Payload {
    /// Where the delivery comes from.
    pub fn source(&self) -> Source {
        match self {
            Payload::Event { id, .. } => Source::Event(*id),
            Payload::Report(r) => Source::Report(r.id),
        }
    }
}

/// What a delivery delivers: an event submitted to the sender, or a received report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The event with this id.
    Event(i64),
    /// The received report with this id.
    Report(i64),
}

/// What a claim round found: the deliveries leased and, when fewer were leased than asked
/// for, the earliest due time after `now_ms` in the lane, for the worker to wait until.
#[derive(Debug, Clone, Default)]
pub struct ClaimRound {
    /// The deliveries leased.
    pub claimed: Vec<Claimed>,
    /// `None` when nothing more is pending in the lane, or when the claim took all it asked
    /// for (the worker claims again at once and does not need it).
    pub next_due_ms: Option<i64>,
}

/// What recording an attempt found out, for the engine's next claim.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    /// When the delivery finished (delivered or dead) and another delivery of its call is
    /// pending: that one's lane and due time. It may have waited for this one (ordering), so
    /// it may be claimable now; without one, a finished delivery unblocks nothing.
    pub next_of_call: Option<(Lane, i64)>,
}

/// How an attempt leaves its delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// Done.
    Delivered,
    /// Pending again, due at `at_ms`.
    Retry {
        /// When the next attempt is due.
        at_ms: i64,
        /// The answer was `108105` (unknown call), which is retried a few times only.
        unknown_call: bool,
    },
    /// Given up, with why.
    Dead {
        /// Why, kept with the delivery.
        reason: String,
    },
}

/// One attempt, as recorded.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    /// The delivery attempted.
    pub delivery_id: i64,
    /// The node that holds its lease: the record is refused if another node took it over.
    pub owner: String,
    /// When the attempt started.
    pub started_at_ms: i64,
    /// How long it took.
    pub duration_ms: i64,
    /// The HTTP status, for kinds that speak HTTP.
    pub http_status: Option<u16>,
    /// The contract's code in the answer.
    pub code: Option<String>,
    /// The start of the answer.
    pub body_excerpt: Option<String>,
    /// What went wrong, in words.
    pub error: Option<String>,
    /// A note on an attempt that counts as delivered (a 2xx without a readable code).
    pub warning: Option<String>,
    /// How it leaves the delivery.
    pub settle: Settle,
}

/// What an attempt writes into its delivery row; the same for every backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeliveryMove {
    /// The attempt's outcome column: `delivered`, `retry` or `dead`.
    pub outcome: &'static str,
    pub state: &'static str,
    pub next_attempt_at_ms: i64,
    /// Added to `unknown_call_answers` (1 for a `108105` answer that is retried).
    pub unknown_call: i64,
    pub finished_at_ms: Option<i64>,
    pub last_error: Option<String>,
    /// When the attempt ended: the row's `updated_at_ms`.
    pub now_ms: i64,
}

impl AttemptRecord {
    /// The record with every text as both backends can keep it. Its code, excerpt and reasons
    /// come from the business's answer, which may hold a NUL character; PostgreSQL's text
    /// cannot, and refused such a record every time, so the delivery was sent again at each
    /// lease expiry and never recorded. A NUL becomes U+FFFD, as undecodable bytes already do.
    pub(crate) fn storable(mut self) -> Self {
        fn clean(text: &mut String) {
            if text.contains('\0') {
                *text = text.replace('\0', "\u{FFFD}");
            }
        }
        for text in [
            &mut self.code,
            &mut self.body_excerpt,
            &mut self.error,
            &mut self.warning,
        ]
        .into_iter()
        .flatten()
        {
            clean(text);
        }
        if let Settle::Dead { reason } = &mut self.settle {
            clean(reason);
        }
        self
    }

    pub(crate) fn delivery_move(&self) -> DeliveryMove {
        let now = self.started_at_ms + self.duration_ms;
        let ended = |outcome, state, last_error| DeliveryMove {
            outcome,
            state,
            next_attempt_at_ms: now,
            unknown_call: 0,
            finished_at_ms: Some(now),
            last_error,
            now_ms: now,
        };
        match &self.settle {
            Settle::Delivered => ended("delivered", "delivered", None),
            Settle::Dead { reason } => ended("dead", "dead", Some(reason.clone())),
            Settle::Retry {
                at_ms,
                unknown_call,
            } => DeliveryMove {
                outcome: "retry",
                state: "pending",
                next_attempt_at_ms: *at_ms,
                unknown_call: i64::from(*unknown_call),
                finished_at_ms: None,
                last_error: self.error.clone().or_else(|| self.code.clone()),
                now_ms: now,
            },
        }
    }
}

/// A destination's deliveries created in `[from_ms, to_ms)`, for a bulk retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryRange {
    /// The destination.
    pub destination: String,
    /// Created at or after this.
    pub from_ms: i64,
    /// Created before this.
    pub to_ms: i64,
    /// Which of them.
    pub states: RetryStates,
}

/// The deliveries a bulk retry takes: dead, pending (they go now), or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetryStates {
    /// Dead and pending.
    #[default]
    DeadAndPending,
    /// Dead only.
    Dead,
    /// Pending only.
    Pending,
}

impl RetryStates {
    /// The condition in both backends' SQL: each state a term of its own, so that each can
    /// read its own index (no index holds both).
    pub(crate) fn condition(self) -> &'static str {
        match self {
            RetryStates::DeadAndPending => "(state = 'dead' OR state = 'pending')",
            RetryStates::Dead => "state = 'dead'",
            RetryStates::Pending => "state = 'pending'",
        }
    }
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Not finished: due, leased, or waiting for its next attempt.
    Pending,
    /// The destination took it.
    Delivered,
    /// Given up: its schedule ran out or the answer was final.
    Dead,
}

impl DeliveryState {
    /// Every state, in the order above.
    pub const ALL: [DeliveryState; 3] = [Self::Pending, Self::Delivered, Self::Dead];

    /// The state as stored and shown: `pending`, `delivered`, `dead`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

    /// The state `s` names, as [`as_str`](Self::as_str) writes it.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A state read from the database: anything else is corrupt data, never a default.
    pub(crate) fn stored(s: &str) -> Result<Self, crate::StoreError> {
        Self::parse(s).ok_or_else(|| crate::StoreError::Corrupt(format!("deliveries.state: {s:?}")))
    }
}

impl fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A delivery as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRow {
    /// Its id.
    pub id: i64,
    /// What it delivers.
    pub source: Source,
    /// Where to.
    pub destination: String,
    /// The app of the event or report it delivers.
    pub app_id: String,
    /// The call of the event or report it delivers.
    pub call_id: String,
    /// Where it is.
    pub state: DeliveryState,
    /// Attempts made in this round (a retried dead delivery starts a new one).
    pub attempts: i64,
    /// When the next attempt is due (pending ones).
    pub next_attempt_at_ms: i64,
    /// When it was written.
    pub created_at_ms: i64,
    /// When it last changed.
    pub updated_at_ms: i64,
    /// When it was delivered or died.
    pub finished_at_ms: Option<i64>,
    /// The last attempt's error or code.
    pub last_error: Option<String>,
}

/// An attempt as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRow {
    /// Its id.
    pub id: i64,
    /// When it started.
    pub started_at_ms: i64,
    /// How long it took.
    pub duration_ms: i64,
    /// The HTTP status, for kinds that speak HTTP.
    pub http_status: Option<i64>,
    /// The contract's code in the answer.
    pub code: Option<String>,
    /// The start of the answer.
    pub body_excerpt: Option<String>,
    /// What went wrong.
    pub error: Option<String>,
    /// A note on an attempt that counts as delivered.
    pub warning: Option<String>,
    /// `delivered`, `retry` or `dead`.
    pub outcome: String,
}

/// An outbound event with its delivery, for a call's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundRow {
    /// The bytes sent.
    pub body: Vec<u8>,
    /// Its delivery.
    pub delivery: DeliveryRow,
}

/// Which deliveries to list.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// Only this app's.
    pub app_id: Option<String>,
    /// Only this destination's.
    pub destination: Option<String>,
    /// Only in this state.
    pub state: Option<DeliveryState>,
    /// Ids above this (the previous page's last).
    pub after: i64,
    /// At most this many.
    pub limit: u32,
}

/// The earliest due time of pending deliveries, by destination and lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueSummary {
    /// The destination.
    pub destination: String,
    /// The lane.
    pub lane: Lane,
    /// Its earliest pending delivery's due time.
    pub next_attempt_at_ms: i64,
}

/// Deliveries of one destination in one state, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationCount {
    /// The destination.
    pub destination: String,
    /// The state counted.
    pub state: DeliveryState,
    /// How many.
    pub count: i64,
    /// When the oldest of them was created.
    pub oldest_created_at_ms: i64,
}
