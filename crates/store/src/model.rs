//! What the store takes and gives back.

use chrono::{DateTime, Utc};
use ivrhook_protocol::{AppId, CallId};
use serde_json::Value;

/// A received report, ready to store. The JSON fields are serialised by the caller, off the
/// single writer thread.
#[derive(Debug, Clone)]
pub struct NewReport {
    /// The app it came for.
    pub app_id: AppId,
    /// The call it reports.
    pub call_id: CallId,
    /// Its `event` (`multrpt`).
    pub event: String,
    /// Its `status`: 0 completed, 1 hung up early.
    pub status: Option<i64>,
    /// SHA-256 of the body's canonical JSON: the dedupe key with app and call.
    pub content_hash: [u8; 32],
    /// When it was accepted.
    pub received_at: DateTime<Utc>,
    /// The address it came from.
    pub peer: Option<String>,
    /// The body exactly as it arrived.
    pub raw: Vec<u8>,
    /// The UTC offset the timestamps were read with (`+08:00`): with `raw`, all that is needed
    /// to derive the decoded form when it is read. The form itself is not stored, which keeps
    /// rows small and the write path short.
    pub utc_offset: String,
    /// The decoder's warnings, as a JSON array.
    pub warnings: String,
    /// Where the report is forwarded: a delivery each, written with a new report (in the same
    /// transaction) and never for a duplicate.
    pub forwards: Vec<Forward>,
}

/// A forward delivery to create with a new report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// Where to.
    pub destination: String,
    /// When the first attempt is due.
    pub first_attempt_at_ms: i64,
    /// Set by a node that can send the delivery the moment it is written: taken as for a
    /// submitted event (`LeaseOffer`), when the delivery may go now.
    pub lease: Option<crate::outbox::LeaseOffer>,
}

/// A forward delivery leased to the node that offered the lease, in the write that stored its
/// report: that node sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leased {
    /// Where it goes.
    pub destination: String,
    /// The delivery's id.
    pub delivery_id: i64,
}

/// A named consumer of the report feed and how far it has acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    /// Its name, as in `/v1/consumers/{name}`.
    pub name: String,
    /// The id of the last report it acknowledged (0: none).
    pub cursor: i64,
    /// When it last acknowledged.
    pub updated_at_ms: i64,
}

/// What an insert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// Stored.
    New {
        /// The report's id.
        id: i64,
        /// The forwards that took their lease offer.
        leased: Vec<Leased>,
    },
    /// The same report was stored before; `times` counts the duplicates seen so far.
    Duplicate {
        /// The stored report's id.
        id: i64,
        /// Duplicates seen so far, this one included.
        times: i64,
    },
}

/// A report as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReport {
    /// Its id (its place in the feed).
    pub id: i64,
    /// The app it came for.
    pub app_id: String,
    /// The call it reports.
    pub call_id: String,
    /// Its `event` (`multrpt`).
    pub event: String,
    /// Its `status`: 0 completed, 1 hung up early.
    pub status: Option<i64>,
    /// When it was accepted.
    pub received_at: DateTime<Utc>,
    /// The address it came from.
    pub peer: Option<String>,
    /// The body as the platform sent it.
    pub raw: Vec<u8>,
    /// The UTC offset its times were read with; `None` for rows older than the column.
    pub utc_offset: Option<String>,
    /// The decoder's warnings, a JSON array.
    pub warnings: Value,
    /// Copies answered `000000` and not stored again.
    pub duplicates: i64,
}
