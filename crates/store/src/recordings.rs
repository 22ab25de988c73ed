//! Call recordings kept by ivrhook: where each one is stored, its size, checksum and type. A
//! row is written only once its object is whole in the object store, so a row names a complete
//! recording; one whose fetch is pending or failed has no row (its delivery to the recordings
//! destination says where it stands).

/// A recording whose object is stored whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptRecording {
    /// The app of the call.
    pub app_id: String,
    /// The call.
    pub call_id: String,
    /// The platform's link it was fetched from (`hungup.fileName`).
    pub link: String,
    /// The report whose fetch kept it.
    pub report_id: i64,
    /// The object's key in the recordings store.
    pub key: String,
    /// Its size in bytes.
    pub size: i64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
    /// Its `Content-Type`.
    pub content_type: String,
    /// When it was kept.
    pub kept_at_ms: i64,
}

/// The SQL both backends run, with `?N` placeholders (PostgreSQL's are `$N`, see [`sql::text`]).
pub(crate) mod sql {
    /// A fetch that ran again (after a crash between the object and its row) wrote the object
    /// again under the same key: the row says what is there now.
    pub const KEEP: &str = "
        INSERT INTO recordings (app_id, call_id, link, report_id, object_key, size_bytes, sha256,
                                content_type, kept_at_ms)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
        ON CONFLICT (app_id, call_id, link) DO UPDATE SET
            report_id = excluded.report_id, object_key = excluded.object_key,
            size_bytes = excluded.size_bytes, sha256 = excluded.sha256,
            content_type = excluded.content_type, kept_at_ms = excluded.kept_at_ms";
    pub const ONE: &str = "
        SELECT @columns FROM recordings WHERE app_id = ?1 AND call_id = ?2 AND link = ?3";
    pub const OF_CALL: &str = "
        SELECT @columns FROM recordings WHERE call_id = ?1 ORDER BY kept_at_ms, app_id, link";
    /// Kept before `?1`, after the cursor, oldest first; each with whether a fetch of its call
    /// is pending (retention keeps those).
    pub const OLD: &str = "
        SELECT @columns, EXISTS (SELECT 1 FROM deliveries d
                                 WHERE d.destination = 'ivrhook:recordings'
                                   AND d.call_id = r.call_id AND d.app_id = r.app_id
                                   AND d.state = 'pending')
        FROM recordings r
        WHERE kept_at_ms < ?1 AND (kept_at_ms, app_id, call_id, link) > (?2, ?3, ?4, ?5)
        ORDER BY kept_at_ms, app_id, call_id, link LIMIT ?6";
    pub const FORGET: &str = "
        DELETE FROM recordings
        WHERE app_id = ?1 AND call_id = ?2 AND link = ?3 AND object_key = ?4";

    /// `text` with the recording's columns in, and `?N` as PostgreSQL writes it when `pg`.
    pub fn text(text: &str, pg: bool) -> String {
        let text = text.replace("@columns", super::COLUMNS);
        match pg {
            true => text.replace('?', "$"),
            false => text,
        }
    }
}

/// Where a listing of old recordings goes on from: the last one's kept time, app, call, link.
pub type OldCursor = (i64, String, String, String);

impl KeptRecording {
    /// The cursor after this recording.
    pub fn cursor(&self) -> OldCursor {
        let (app, call, link) = (self.app_id.clone(), self.call_id.clone(), self.link.clone());
        (self.kept_at_ms, app, call, link)
    }
}

/// The columns a recording is read from, in `KeptRecording`'s order.
pub(crate) const COLUMNS: &str = "app_id, call_id, link, report_id, object_key, size_bytes, \
                                  sha256, content_type, kept_at_ms";
