//! The span analytics are asked for (`?from=&to=`) and the one their counts cover: whole
//! hours for the last two days, whole local days before (the hours are rolled into days).

use crate::error::ApiError;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use ivrhook_store::analytics::{day_start, HOUR, HOURS_KEPT};

/// What `to` is when it is left out: now. And `from`: this long before `to`.
const DEFAULT_DAYS: i64 = 7;

/// Minutes since the epoch: the counts starting in `from_min..to_min`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub from_min: i64,
    pub to_min: i64,
    /// The zone times are shown in.
    pub offset: FixedOffset,
}

impl Span {
    /// From `from` and `to`: RFC 3339 times, or dates (`2026-12-01`: that local day, a `to`
    /// date included).
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        now_ms: i64,
        offset: FixedOffset,
    ) -> Result<Span, ApiError> {
        let to_ms = match to.filter(|t| !t.is_empty()) {
            Some(t) => instant("to", t, offset, 1)?,
            None => now_ms,
        };
        let from_ms = match from.filter(|f| !f.is_empty()) {
            Some(f) => instant("from", f, offset, 0)?,
            None => to_ms - DEFAULT_DAYS * 86_400_000,
        };
        if from_ms >= to_ms {
            return Err(ApiError::invalid("from", "must be before to"));
        }
        let hour_of = |ms: i64| ms.div_euclid(60_000).div_euclid(HOUR) * HOUR;
        let mut from_min = hour_of(from_ms);
        let rolled_before = hour_of(now_ms) - HOURS_KEPT * HOUR;
        if from_min < rolled_before {
            let offset_min = i64::from(offset.local_minus_utc() / 60);
            from_min = day_start(from_min, offset_min);
        }
        let to_min = hour_of(to_ms - 1) + HOUR;
        Ok(Span {
            from_min,
            to_min,
            offset,
        })
    }

    /// The start covered, in the shown zone.
    pub fn from(&self) -> DateTime<FixedOffset> {
        self.at(self.from_min)
    }

    /// The end covered (not included), in the shown zone.
    pub fn to(&self) -> DateTime<FixedOffset> {
        self.at(self.to_min)
    }

    fn at(&self, min: i64) -> DateTime<FixedOffset> {
        let utc = DateTime::from_timestamp(min * 60, 0).unwrap_or_default();
        utc.with_timezone(&self.offset)
    }
}

/// `text` as milliseconds since the epoch; a date is its local midnight, `days_after` later.
fn instant(field: &str, text: &str, offset: FixedOffset, days_after: i64) -> Result<i64, ApiError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.timestamp_millis());
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        let reason = format!("{text:?} is not a date (2026-12-01) or an RFC 3339 time");
        ApiError::invalid(field, reason)
    })?;
    let midnight = (date + chrono::Days::new(days_after as u64)).and_hms_opt(0, 0, 0);
    let local = midnight.and_then(|m| offset.from_local_datetime(&m).single());
    local
        .map(|at| at.timestamp_millis())
        .ok_or_else(|| ApiError::invalid(field, format!("{text:?} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_MS: i64 = 1_764_900_000_000; // 2025-12-05T02:00:00Z
    fn east8() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    #[test]
    fn recent_spans_are_whole_hours_and_older_ones_whole_local_days() {
        let span = Span::parse(Some("2025-12-05T01:30:00Z"), None, NOW_MS, east8()).unwrap();
        assert_eq!(span.from().to_rfc3339(), "2025-12-05T09:00:00+08:00");
        assert_eq!(span.to().to_rfc3339(), "2025-12-05T10:00:00+08:00");
        let old = Span::parse(Some("2025-11-20T13:30:00+08:00"), None, NOW_MS, east8()).unwrap();
        assert_eq!(old.from().to_rfc3339(), "2025-11-20T00:00:00+08:00");
        let dates = Span::parse(Some("2025-12-01"), Some("2025-12-02"), NOW_MS, east8()).unwrap();
        assert_eq!(dates.from().to_rfc3339(), "2025-12-01T00:00:00+08:00");
        assert_eq!(
            dates.to().to_rfc3339(),
            "2025-12-03T00:00:00+08:00",
            "to's day included"
        );
        let week = Span::parse(None, None, NOW_MS, east8()).unwrap();
        assert_eq!(
            week.to_min - week.from_min,
            7 * 1440 + 600,
            "7 days from the local day"
        );
    }
}
