//! What the store takes and gives back.

use chrono::{DateTime, Utc};
use ivrhook_protocol::{AppId, CallId};
use serde_json::Value;

/// A received report, ready to store. The JSON fields are serialised by the caller, off the
/// single writer thread.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub app_id: AppId,
    pub call_id: CallId,
    pub event: String,
    pub status: Option<i64>,
    /// SHA-256 of the body's canonical JSON: the dedupe key with app and call.
    pub content_hash: [u8; 32],
    pub received_at: DateTime<Utc>,
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
    pub destination: String,
    pub first_attempt_at_ms: i64,
    /// Set by a node that can send the delivery the moment it is written: taken as for a
    /// submitted event (`LeaseOffer`), when the delivery may go now.
    pub lease: Option<crate::outbox::LeaseOffer>,
}

/// A forward delivery leased to the node that offered the lease, in the write that stored its
/// report: that node sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leased {
    pub destination: String,
    pub delivery_id: i64,
}

/// A named consumer of the report feed and how far it has acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    pub name: String,
    /// The id of the last report it acknowledged (0: none).
    pub cursor: i64,
    pub updated_at_ms: i64,
}

/// What an insert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    New {
        id: i64,
        /// The forwards that took their lease offer.
        leased: Vec<Leased>,
    },
    /// The same report was stored before; `times` counts the duplicates seen so far.
    Duplicate { id: i64, times: i64 },
}

/// A report as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReport {
    pub id: i64,
    pub app_id: String,
    pub call_id: String,
    pub event: String,
    pub status: Option<i64>,
    pub received_at: DateTime<Utc>,
    pub peer: Option<String>,
    pub raw: Vec<u8>,
    pub utc_offset: Option<String>,
    pub warnings: Value,
    pub duplicates: i64,
}
