//! Registered calls whose report has a deadline: what the overdue sweeper reads and settles.
//! A call past its deadline with no report is marked overdue once; a report that arrives
//! later marks it reported (late), and the sweeper marks that announced once.

use ivrhook_protocol::{AppId, CallId};

/// A registered call with a deadline for its report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallDeadline {
    /// Its app.
    pub app_id: AppId,
    /// The call.
    pub call_id: CallId,
    /// When it was registered.
    pub registered_at_ms: i64,
    /// When its report was due.
    pub report_due_at_ms: i64,
    /// When its first report was stored, if one was.
    pub reported_at_ms: Option<i64>,
    /// When it was marked overdue, if it was.
    pub overdue_at_ms: Option<i64>,
}

impl CallDeadline {
    /// `waiting` (not due yet), `on_time`, `overdue` (its report is missing) or `late` (it
    /// came after it was marked overdue), at `now_ms`.
    pub fn state(&self, now_ms: i64) -> &'static str {
        match (self.reported_at_ms, self.overdue_at_ms) {
            (Some(_), Some(_)) => "late",
            (Some(_), None) => "on_time",
            (None, Some(_)) => "overdue",
            (None, None) if now_ms >= self.report_due_at_ms => "due",
            (None, None) => "waiting",
        }
    }
}

/// What a sweep settles for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// Past its deadline with no report: overdue.
    Overdue,
    /// Past its deadline with a report the receiver did not mark (one stored before the call
    /// was registered): reported, nothing to announce.
    Reported,
    /// Its report came after it was marked overdue, and that is announced now.
    Resolved,
}

/// The SQL both backends run, with `?N` placeholders (PostgreSQL's are `$N`, see `dollars`).
pub(crate) mod sql {
    pub const REGISTER: &str = "
        INSERT INTO calls (app_id, call_id, registered_at_ms, report_due_at_ms, reported_at_ms)
        VALUES (?1, ?2, ?3, ?4, (SELECT MIN(received_at_ms) FROM reports
                                 WHERE call_id = ?2 AND app_id = ?1))
        ON CONFLICT DO NOTHING";
    /// A stored report marks its registered call reported (the receiver's write).
    pub const REPORTED: &str = "
        UPDATE calls SET reported_at_ms = ?3
        WHERE app_id = ?1 AND call_id = ?2 AND reported_at_ms IS NULL";
    pub const ONE: &str = "
        SELECT @columns FROM calls
        WHERE app_id = ?1 AND call_id = ?2 AND report_due_at_ms IS NOT NULL";
    pub const DUE: &str = "
        SELECT @columns, EXISTS (SELECT 1 FROM reports r
                                 WHERE r.call_id = c.call_id AND r.app_id = c.app_id)
        FROM calls c
        WHERE report_due_at_ms IS NOT NULL AND reported_at_ms IS NULL AND overdue_at_ms IS NULL
          AND report_due_at_ms <= ?1
        ORDER BY report_due_at_ms LIMIT ?2";
    pub const LATE: &str = "
        SELECT @columns FROM calls
        WHERE overdue_at_ms IS NOT NULL AND reported_at_ms IS NOT NULL AND resolved_at_ms IS NULL
        ORDER BY overdue_at_ms LIMIT ?1";
    /// Announced overdue: marked so, even if its report came since it was read (it is late
    /// then, and the next sweep announces that).
    pub const OVERDUE: &str = "
        UPDATE calls SET overdue_at_ms = ?3
        WHERE app_id = ?1 AND call_id = ?2 AND overdue_at_ms IS NULL";
    pub const MARK_REPORTED: &str = "
        UPDATE calls SET reported_at_ms = ?3
        WHERE app_id = ?1 AND call_id = ?2 AND reported_at_ms IS NULL";
    pub const RESOLVED: &str = "
        UPDATE calls SET resolved_at_ms = ?3
        WHERE app_id = ?1 AND call_id = ?2 AND resolved_at_ms IS NULL
          AND overdue_at_ms IS NOT NULL AND reported_at_ms IS NOT NULL";
    pub const COUNTS: &str = "
        SELECT app_id, COUNT(*) FROM calls
        WHERE overdue_at_ms IS NOT NULL AND reported_at_ms IS NULL GROUP BY app_id";
    pub const LIST: &str = "
        SELECT @columns FROM calls
        WHERE overdue_at_ms IS NOT NULL AND reported_at_ms IS NULL
          AND (CAST(?1 AS TEXT) IS NULL OR app_id = ?1) AND (overdue_at_ms, call_id) > (?2, ?3)
        ORDER BY overdue_at_ms, call_id LIMIT ?4";

    /// The statement for `settle`.
    pub fn settle(s: super::Settle) -> &'static str {
        match s {
            super::Settle::Overdue => OVERDUE,
            super::Settle::Reported => MARK_REPORTED,
            super::Settle::Resolved => RESOLVED,
        }
    }

    /// `text` with the deadline's columns in, and `?N` as PostgreSQL writes it when `pg`.
    pub fn text(text: &str, pg: bool) -> String {
        let text = text.replace("@columns", super::COLUMNS);
        match pg {
            true => text.replace('?', "$"),
            false => text,
        }
    }
}

/// The columns a deadline is read from, in `CallDeadline`'s order.
pub(crate) const COLUMNS: &str =
    "app_id, call_id, registered_at_ms, report_due_at_ms, reported_at_ms, overdue_at_ms";

/// A deadline from its columns, as both backends read them.
pub(crate) fn deadline(
    app: String,
    call: String,
    times: [Option<i64>; 4],
) -> Result<CallDeadline, crate::StoreError> {
    let corrupt = |what: &str, e: String| crate::StoreError::Corrupt(format!("calls.{what}: {e}"));
    let [registered, due, reported, overdue] = times;
    Ok(CallDeadline {
        app_id: AppId::try_from(app).map_err(|e| corrupt("app_id", e.to_string()))?,
        call_id: CallId::try_from(call).map_err(|e| corrupt("call_id", e.to_string()))?,
        registered_at_ms: registered.ok_or_else(|| corrupt("registered_at_ms", "null".into()))?,
        report_due_at_ms: due.ok_or_else(|| corrupt("report_due_at_ms", "null".into()))?,
        reported_at_ms: reported,
        overdue_at_ms: overdue,
    })
}
