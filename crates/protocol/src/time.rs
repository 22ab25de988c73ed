//! The platform's 17-digit `yyyyMMddHHmmssSSS` timestamps.
//!
//! The text carries no zone: it is the platform's local time. The offset is configuration
//! (default UTC+08:00, the platform's home zone); the original text is always kept, so a
//! wrong offset can be corrected later without losing anything.

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, TimeZone};
use std::{fmt, str::FromStr};

/// A fixed UTC offset such as `+08:00`, `-05:30` or `Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcOffset(FixedOffset);

impl UtcOffset {
    /// The offset as chrono's type, to read or show times in it.
    pub fn fixed(self) -> FixedOffset {
        self.0
    }
}

impl Default for UtcOffset {
    /// UTC+08:00, where the platform in the spec runs.
    fn default() -> Self {
        UtcOffset(FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset"))
    }
}

impl FromStr for UtcOffset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a UTC offset like +08:00, -05:30 or Z");
        if s == "Z" || s == "z" {
            return Ok(UtcOffset(FixedOffset::east_opt(0).ok_or_else(bad)?));
        }
        let b = s.as_bytes();
        if b.len() != 6 || b[3] != b':' || !(b[0] == b'+' || b[0] == b'-') {
            return Err(bad());
        }
        let hours: i32 = s[1..3].parse().map_err(|_| bad())?;
        let minutes: i32 = s[4..6].parse().map_err(|_| bad())?;
        if hours > 14 || minutes > 59 {
            return Err(bad());
        }
        let secs = (hours * 3600 + minutes * 60) * if b[0] == b'-' { -1 } else { 1 };
        FixedOffset::east_opt(secs).map(UtcOffset).ok_or_else(bad)
    }
}

impl fmt::Display for UtcOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A valid 17-digit timestamp: the instant it names and the text it was written as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    text: String,
    at: DateTime<FixedOffset>,
}

impl Timestamp {
    /// Reads `yyyyMMddHHmmssSSS` as local time at `offset`. The error says what is wrong in
    /// words, for a warning or a refusal that names the field.
    pub fn parse(text: &str, offset: UtcOffset) -> Result<Self, String> {
        if text.len() != 17 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{text:?} is not a 17-digit yyyyMMddHHmmssSSS time"));
        }
        let n = |r: std::ops::Range<usize>| text[r].parse::<u32>().unwrap_or(u32::MAX);
        let date = NaiveDate::from_ymd_opt(n(0..4) as i32, n(4..6), n(6..8));
        let naive =
            date.and_then(|d| d.and_hms_milli_opt(n(8..10), n(10..12), n(12..14), n(14..17)));
        let naive = naive.ok_or_else(|| format!("{text:?} is not a real date and time"))?;
        let at = offset
            .fixed()
            .from_local_datetime(&naive)
            .single()
            .ok_or_else(|| format!("{text:?} is not a real date and time"))?;
        Ok(Timestamp {
            text: text.to_owned(),
            at,
        })
    }

    /// The text as the platform wrote it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The instant, in the offset it was read with.
    pub fn at(&self) -> DateTime<FixedOffset> {
        self.at
    }

    /// RFC 3339 with milliseconds and the numeric offset (never `Z`), e.g.
    /// `2018-01-12T17:23:22.010+08:00`.
    pub fn rfc3339(&self) -> String {
        self.at.to_rfc3339_opts(SecondsFormat::Millis, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_spec_example_at_the_default_offset() {
        let t = Timestamp::parse("20180112172322010", UtcOffset::default()).unwrap();
        assert_eq!(t.rfc3339(), "2018-01-12T17:23:22.010+08:00");
        assert_eq!(t.text(), "20180112172322010");
        assert_eq!(t.at().timestamp_millis(), 1_515_749_002_010);
    }

    #[test]
    fn honours_a_configured_offset() {
        let offset: UtcOffset = "-05:30".parse().unwrap();
        let t = Timestamp::parse("20180112172322010", offset).unwrap();
        assert_eq!(t.rfc3339(), "2018-01-12T17:23:22.010-05:30");
        assert_eq!(
            "Z".parse::<UtcOffset>().unwrap().fixed().local_minus_utc(),
            0
        );
    }

    #[test]
    fn refuses_wrong_lengths_and_impossible_dates() {
        let o = UtcOffset::default();
        assert!(Timestamp::parse("2018011217232201", o)
            .unwrap_err()
            .contains("17-digit"));
        assert!(Timestamp::parse("20181312172322010", o)
            .unwrap_err()
            .contains("real date"));
        assert!(Timestamp::parse("2018011217232201x", o).is_err());
        for bad in ["+8", "08:00", "+25:00", "+08:60", "+0800"] {
            assert!(bad.parse::<UtcOffset>().is_err(), "{bad} should be refused");
        }
    }
}
