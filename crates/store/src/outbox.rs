//! The outbox as the store sees it: events submitted for delivery, received reports forwarded
//! on, their deliveries (each to one destination), and attempts.

use ivrhook_protocol::{AppId, CallId};
use std::fmt;

/// An event handed to ivrhook for delivery to its app's callback URL.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub app_id: AppId,
    pub call_id: CallId,
    /// The destination its delivery goes to (the app's callback destination).
    pub destination: String,
    pub idempotency_key: Option<String>,
    /// The bytes to POST, exactly.
    pub body: Vec<u8>,
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
    pub owner: String,
    pub until_ms: i64,
    pub ordered: bool,
}

/// Ids of an event and its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventIds {
    pub event_id: i64,
    pub delivery_id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    New(EventIds),
    /// New, and leased to the owner of the event's `LeaseOffer`: that node sends it.
    Leased(EventIds),
    /// The idempotency key was used before: the first event's ids.
    Existing(EventIds),
}

/// First attempts and retries are claimed separately, so neither starves the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    First,
    Retry,
}

impl Lane {
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
    pub destination: String,
    pub lane: Lane,
    pub limit: u32,
    pub now_ms: i64,
    pub lease_until_ms: i64,
    pub owner: String,
    /// Skip a delivery while an earlier one for the same call is pending.
    pub ordered: bool,
    /// Deliveries this worker already has in flight (never claimed twice by one owner).
    pub exclude: Vec<i64>,
}

/// A claimed delivery, with what is needed to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery_id: i64,
    pub call_id: String,
    /// Attempts made so far in this round.
    pub attempts: u32,
    pub unknown_call_answers: u32,
    pub created_at_ms: i64,
    pub payload: Payload,
}

/// What a delivery carries: an event's bytes, or a received report to render.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Event { id: i64, body: Vec<u8> },
    Report(ReceivedReport),
}

/// A received report as a forward delivery needs it: the bytes as they arrived and what its
/// decoded form is derived from.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedReport {
    pub id: i64,
    pub app_id: String,
    pub event: String,
    pub status: Option<i64>,
    pub received_at_ms: i64,
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
    Event(i64),
    Report(i64),
}

/// What a claim round found: the deliveries leased and, when fewer were leased than asked
/// for, the earliest due time after `now_ms` in the lane, for the worker to wait until.
#[derive(Debug, Clone, Default)]
pub struct ClaimRound {
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
    Delivered,
    Retry { at_ms: i64, unknown_call: bool },
    Dead { reason: String },
}

/// One attempt, as recorded.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub delivery_id: i64,
    pub owner: String,
    pub started_at_ms: i64,
    pub duration_ms: i64,
    pub http_status: Option<u16>,
    pub code: Option<String>,
    pub body_excerpt: Option<String>,
    pub error: Option<String>,
    pub warning: Option<String>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    Pending,
    Delivered,
    Dead,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 3] = [Self::Pending, Self::Delivered, Self::Dead];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

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

#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRow {
    pub id: i64,
    pub source: Source,
    pub destination: String,
    /// The app of the event or report it delivers.
    pub app_id: String,
    pub call_id: String,
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_attempt_at_ms: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRow {
    pub id: i64,
    pub started_at_ms: i64,
    pub duration_ms: i64,
    pub http_status: Option<i64>,
    pub code: Option<String>,
    pub body_excerpt: Option<String>,
    pub error: Option<String>,
    pub warning: Option<String>,
    pub outcome: String,
}

/// An outbound event with its delivery, for a call's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundRow {
    pub body: Vec<u8>,
    pub delivery: DeliveryRow,
}

/// Which deliveries to list.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub app_id: Option<String>,
    pub destination: Option<String>,
    pub state: Option<DeliveryState>,
    pub after: i64,
    pub limit: u32,
}

/// The earliest due time of pending deliveries, by destination and lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueSummary {
    pub destination: String,
    pub lane: Lane,
    pub next_attempt_at_ms: i64,
}

/// Deliveries of one destination in one state, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationCount {
    pub destination: String,
    pub state: DeliveryState,
    pub count: i64,
    /// When the oldest of them was created.
    pub oldest_created_at_ms: i64,
}
