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
    /// The decoded form, as JSON text.
    pub decoded: String,
    /// The decoder's warnings, as a JSON array.
    pub warnings: String,
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New {
        id: i64,
    },
    /// The same report was stored before; `times` counts the duplicates seen so far.
    Duplicate {
        id: i64,
        times: i64,
    },
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
    pub decoded: Value,
    pub warnings: Value,
    pub duplicates: i64,
}
