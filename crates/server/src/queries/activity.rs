//! The overview's activity for the whole cluster: the stored counts
//! (`ivrhook_store::activity`) summed into the bars of a range.

use crate::{error::ApiError, state::AppState};
use ivrhook_store::activity::What;
use std::collections::BTreeMap;

/// The overview's ranges (`?range=`), each drawn as bars of a fixed width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Range {
    /// The last hour, a bar a minute.
    #[default]
    Hour,
    /// The last day, a bar per 30 minutes.
    Day,
    /// The last week, a bar per 2 hours.
    Week,
    /// The last 30 days, a bar per 12 hours.
    Month,
}

impl Range {
    /// Every range, in order.
    pub const ALL: [Range; 4] = [Range::Hour, Range::Day, Range::Week, Range::Month];

    /// From `?range=`; `None` for anything else.
    pub fn parse(s: &str) -> Option<Range> {
        Range::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// As `?range=` names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Range::Hour => "1h",
            Range::Day => "24h",
            Range::Week => "7d",
            Range::Month => "30d",
        }
    }

    /// In words: "the last hour".
    pub fn words(self) -> &'static str {
        match self {
            Range::Hour => "the last hour",
            Range::Day => "the last 24 hours",
            Range::Week => "the last 7 days",
            Range::Month => "the last 30 days",
        }
    }

    /// Minutes per bar (a whole number of hours beyond two days, where minutes are hours).
    pub fn bar_min(self) -> i64 {
        match self {
            Range::Hour => 1,
            Range::Day => 30,
            Range::Week => 120,
            Range::Month => 720,
        }
    }

    /// One bar's width in words: "min", "2 h".
    pub fn unit(self) -> &'static str {
        match self {
            Range::Hour => "min",
            Range::Day => "30 min",
            Range::Week => "2 h",
            Range::Month => "12 h",
        }
    }

    /// Where the range starts, as the chart's axis says it.
    pub fn start(self) -> &'static str {
        match self {
            Range::Hour => "60 min ago",
            Range::Day => "24 h ago",
            Range::Week => "7 d ago",
            Range::Month => "30 d ago",
        }
    }

    /// How long ago the bar `back` bars before the newest began, in words.
    pub fn ago(self, back: usize) -> String {
        let min = back as i64 * self.bar_min();
        match self {
            Range::Hour => format!("{min} min ago"),
            _ => format!("{} h ago", min / 60),
        }
    }

    fn bars(self) -> i64 {
        match self {
            Range::Hour => 60,
            Range::Day => 48,
            Range::Week => 84,
            Range::Month => 60,
        }
    }
}

/// One bar's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Bar {
    /// Reports received and stored (duplicates and refusals apart).
    pub reports: u64,
    /// Attempts that delivered.
    pub delivered: u64,
    /// Attempts to be tried again.
    pub retried: u64,
    /// Attempts after which the delivery is dead.
    pub dead: u64,
    /// Attempts by what answered.
    pub answers: BTreeMap<String, u64>,
}

/// The bars of `range` up to `now_ms`, oldest first, the last one holding now.
pub(crate) async fn bars(st: &AppState, range: Range, now_ms: i64) -> Result<Vec<Bar>, ApiError> {
    let width = range.bar_min();
    let end = (now_ms.div_euclid(60_000).div_euclid(width) + 1) * width;
    let start = end - range.bars() * width;
    let mut bars = vec![Bar::default(); range.bars() as usize];
    for c in st.store.activity(start, end).await? {
        let Some(bar) = bars.get_mut(((c.key.at_min - start) / width) as usize) else {
            continue;
        };
        let n = u64::try_from(c.n).unwrap_or(0);
        match (c.key.what, c.key.label.as_str()) {
            (What::Received, "000000") => bar.reports += n,
            (What::Attempt, "delivered") => bar.delivered += n,
            (What::Attempt, "retried") => bar.retried += n,
            (What::Attempt, "dead") => bar.dead += n,
            (What::Answer, answer) => *bar.answers.entry(answer.to_owned()).or_default() += n,
            _ => {}
        }
    }
    Ok(bars)
}
