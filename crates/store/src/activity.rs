//! Activity counted per app and minute, kept for the whole cluster across restarts. A count
//! is a sum: every node adds its own to the same rows (`n = n + excluded.n`), so flushes from
//! any node, in any order, leave the total. Minutes are rolled into hours once they are older
//! than [`MINUTES_KEPT`]; retention removes hours.

use crate::{
    rows::{required, Columns},
    StoreError,
};

/// Minutes kept as minutes (two days); older ones are rolled into hours.
pub const MINUTES_KEPT: i64 = 48 * 60;

/// What a count counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum What {
    /// Reports received; the label is the code they were answered with.
    Received,
    /// Duplicate reports: answered, not stored again.
    Duplicate,
    /// A destination's attempts; the label is the outcome: `delivered`, `retried` or `dead`.
    Attempt,
    /// A destination's attempts; the label is what answered: a contract code, `HTTP 503`,
    /// `acknowledged`, `no answer`.
    Answer,
}

impl What {
    /// As the store keeps it.
    pub fn as_str(self) -> &'static str {
        match self {
            What::Received => "received",
            What::Duplicate => "duplicate",
            What::Attempt => "attempt",
            What::Answer => "answer",
        }
    }

    /// From what the store keeps; `None` for a name this build does not know.
    pub fn parse(s: &str) -> Option<What> {
        [What::Received, What::Duplicate, What::Attempt, What::Answer]
            .into_iter()
            .find(|w| w.as_str() == s)
    }
}

/// Where a count belongs: an app, a span of time, what, a destination and a label.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountKey {
    /// Minutes since the Unix epoch at which the span starts.
    pub at_min: i64,
    /// The span's length in minutes: 1, or 60 once rolled into hours.
    pub span_min: i64,
    /// The app (empty when the count is not an app's, e.g. a report refused unread).
    pub app_id: String,
    /// What is counted.
    pub what: What,
    /// The destination, for attempts and answers; empty otherwise.
    pub destination: String,
    /// The code, outcome or answer; empty for duplicates.
    pub label: String,
}

/// A count: `n` of its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    /// Where it belongs.
    pub key: CountKey,
    /// How many.
    pub n: i64,
}

/// A row selected by [`sql::RANGE`], or `None` for one a newer build wrote (a `what` this one
/// does not know).
pub(crate) fn read(r: &impl Columns) -> Result<Option<Count>, StoreError> {
    let text = |i, what| required(r.text(i)?, what);
    let Some(what) = What::parse(&text(3, "activity.what")?) else {
        return Ok(None);
    };
    let int = |i, what| required(r.int(i)?, what);
    let key = CountKey {
        at_min: int(0, "activity.at_min")?,
        span_min: int(1, "activity.span_min")?,
        app_id: text(2, "activity.app_id")?,
        what,
        destination: text(4, "activity.destination")?,
        label: text(5, "activity.label")?,
    };
    Ok(Some(Count {
        key,
        n: int(6, "activity.n")?,
    }))
}

/// The SQL both backends run, with `?N` placeholders (PostgreSQL's are `$N`, see [`sql::text`]).
pub(crate) mod sql {
    pub const ADD: &str = "
        INSERT INTO activity (at_min, span_min, app_id, what, destination, label, n)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
        ON CONFLICT (at_min, span_min, app_id, what, destination, label)
        DO UPDATE SET n = activity.n + excluded.n";
    pub const RANGE: &str = "
        SELECT at_min, span_min, app_id, what, destination, label, n FROM activity
        WHERE at_min >= ?1 AND at_min < ?2
        ORDER BY at_min, span_min, app_id, what, destination, label";
    /// Rolls minutes into hours: the hour's row gets the sum of its minutes (which the
    /// backend removes in the same statement or transaction).
    pub const ROLLED_UP: &str = "
        INSERT INTO activity (at_min, span_min, app_id, what, destination, label, n)
        SELECT at_min - at_min % 60, 60, app_id, what, destination, label, SUM(n)
        FROM @minutes
        GROUP BY at_min - at_min % 60, app_id, what, destination, label
        ON CONFLICT (at_min, span_min, app_id, what, destination, label)
        DO UPDATE SET n = activity.n + excluded.n";
    /// The minutes before `?1`.
    pub const MINUTES_BEFORE: &str = "activity WHERE span_min = 1 AND at_min < ?1";
    /// Counts before `?1`, at most `?2` of them, oldest first.
    pub const PRUNE: &str = "
        DELETE FROM activity WHERE (at_min, span_min, app_id, what, destination, label) IN (
            SELECT at_min, span_min, app_id, what, destination, label FROM activity
            WHERE at_min < ?1 ORDER BY at_min LIMIT ?2)";

    /// `text` with `?N` as PostgreSQL writes it when `pg`.
    pub fn text(text: &str, pg: bool) -> String {
        match pg {
            true => text.replace('?', "$"),
            false => text.to_owned(),
        }
    }
}
