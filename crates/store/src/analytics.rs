//! IVR analytics: counts per app, hour, command position and prompt, kept for the whole
//! cluster. Like `activity`, each count is a sum every node adds to. Hours are rolled into
//! local days once older than [`HOURS_KEPT`], so a month reads a few thousand rows, not one
//! per hour. Names (prompts, keys, command sequences) are counted by name only while their
//! app is under a cap, decided by the store so that every node agrees.

use crate::{
    rows::{required, Columns},
    StoreError,
};

/// Hours kept as hours (two days); older ones are rolled into days.
pub const HOURS_KEPT: i64 = 48;
/// One hour, in minutes.
pub const HOUR: i64 = 60;
/// One day, in minutes.
pub const DAY: i64 = 1440;

/// What a count counts. Position 0 holds a call's own figures; positions from 1 a command's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Measure {
    /// Calls; the label is their `status`: `0` or `1`.
    Calls,
    /// Calls by length; the label is the length's bucket in milliseconds.
    Length,
    /// Calls by the sequence of prompts they ran; the label is the sequence, as JSON.
    Path,
    /// A command ran.
    Played,
    /// A command ran to its end: code `0`, not hung up during.
    ToEnd,
    /// The caller hung up during a command.
    HungUp,
    /// A command by the time listened; the label is the bucket in milliseconds.
    Listened,
    /// A DTMF command by the keys entered; the label is the keys.
    Keys,
    /// A DTMF command with no key entered.
    NoKey,
}

const ALL: [Measure; 9] = [
    Measure::Calls,
    Measure::Length,
    Measure::Path,
    Measure::Played,
    Measure::ToEnd,
    Measure::HungUp,
    Measure::Listened,
    Measure::Keys,
    Measure::NoKey,
];

impl Measure {
    /// As the store keeps it.
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Calls => "calls",
            Measure::Length => "length",
            Measure::Path => "path",
            Measure::Played => "played",
            Measure::ToEnd => "to_end",
            Measure::HungUp => "hung_up",
            Measure::Listened => "listened",
            Measure::Keys => "keys",
            Measure::NoKey => "no_key",
        }
    }

    /// From what the store keeps; `None` for a name this build does not know.
    pub fn parse(s: &str) -> Option<Measure> {
        ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// Where a count belongs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// The app.
    pub app_id: String,
    /// Minutes since the Unix epoch at which the span starts.
    pub at_min: i64,
    /// The span's length in minutes: [`HOUR`], or [`DAY`] once rolled.
    pub span_min: i64,
    /// The command's position in its report, from 1; 0 for the call's own figures.
    pub position: i64,
    /// The command's prompt (its `data`); empty for a call's own figures.
    pub prompt: String,
    /// What is counted.
    pub measure: Measure,
    /// The status, bucket, keys or sequence; empty where there is none.
    pub label: String,
}

/// A count: `n` of its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    /// Where it belongs.
    pub key: Key,
    /// How many.
    pub n: i64,
}

/// A row selected by [`sql::RANGE`], or `None` for one a newer build wrote.
pub(crate) fn read(r: &impl Columns) -> Result<Option<Count>, StoreError> {
    let text = |i, what| required(r.text(i)?, what);
    let Some(measure) = Measure::parse(&text(5, "analytics.what")?) else {
        return Ok(None);
    };
    let int = |i, what| required(r.int(i)?, what);
    let key = Key {
        app_id: text(0, "analytics.app_id")?,
        at_min: int(1, "analytics.at_min")?,
        span_min: int(2, "analytics.span_min")?,
        position: int(3, "analytics.position")?,
        prompt: text(4, "analytics.prompt")?,
        measure,
        label: text(6, "analytics.label")?,
    };
    Ok(Some(Count {
        key,
        n: int(7, "analytics.n")?,
    }))
}

/// The first minute of the local day holding `at_min`, for a zone `offset_min` east of UTC.
pub fn day_start(at_min: i64, offset_min: i64) -> i64 {
    at_min - (at_min + offset_min).rem_euclid(DAY)
}

/// The SQL both backends run, with `?N` placeholders (see `activity::sql::text`).
pub(crate) mod sql {
    pub const ADD: &str = "
        INSERT INTO analytics (app_id, at_min, span_min, position, prompt, what, label, n)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
        ON CONFLICT (app_id, at_min, span_min, position, prompt, what, label)
        DO UPDATE SET n = analytics.n + excluded.n";
    pub const RANGE: &str = "
        SELECT app_id, at_min, span_min, position, prompt, what, label, n FROM analytics
        WHERE app_id = ?1 AND at_min >= ?2 AND at_min < ?3";
    /// Rolls hours into local days (`?2`: the zone's offset in minutes), summing them.
    pub const ROLLED_UP: &str = "
        INSERT INTO analytics (app_id, at_min, span_min, position, prompt, what, label, n)
        SELECT app_id, at_min - ((at_min + ?2) % 1440), 1440, position, prompt, what, label, SUM(n)
        FROM @hours
        GROUP BY app_id, 2, position, prompt, what, label
        ON CONFLICT (app_id, at_min, span_min, position, prompt, what, label)
        DO UPDATE SET n = analytics.n + excluded.n";
    /// The hours before `?1`.
    pub const HOURS_BEFORE: &str = "analytics WHERE span_min = 60 AND at_min < ?1";
    /// Counts before `?1`, at most `?2` of them, oldest first.
    pub const PRUNE: &str = "
        DELETE FROM analytics
        WHERE (app_id, at_min, span_min, position, prompt, what, label) IN (
            SELECT app_id, at_min, span_min, position, prompt, what, label FROM analytics
            WHERE at_min < ?1 ORDER BY at_min LIMIT ?2)";
    pub const COUNT_BEFORE: &str = "SELECT COUNT(*) FROM analytics WHERE at_min < ?1";
    /// Admits name `?3` in scope `?2` of app `?1` while the scope holds fewer than `?4`.
    pub const ADMIT: &str = "
        INSERT INTO analytics_names (app_id, scope, name)
        SELECT ?1, ?2, ?3
        WHERE (SELECT COUNT(*) FROM analytics_names WHERE app_id = ?1 AND scope = ?2) < ?4
        ON CONFLICT (app_id, scope, name) DO NOTHING";
    pub const NAMES: &str = "SELECT name FROM analytics_names WHERE app_id = ?1 AND scope = ?2";
}
