//! What one report tells the analytics: its call's outcome and length, and for each command
//! its prompt, how long it was listened to, whether it ran to its end or the caller hung up
//! during it, and the keys entered.

use ivrhook_protocol::{CallStatus, Command, Entry, Hangup, Report};

/// A `multrpt` report, read for the analytics.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Call {
    pub app_id: String,
    /// The hour it was received in (minutes since the epoch).
    pub hour_min: i64,
    pub completed: bool,
    /// From the first command's start to the last command's end or the hang-up, if later.
    pub length_ms: Option<i64>,
    /// The commands, in order.
    pub steps: Vec<Step>,
}

/// One command of a call.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Step {
    /// Its `data`; empty when it has none.
    pub prompt: String,
    /// Code `0` and not hung up during.
    pub to_end: bool,
    pub hung_up: bool,
    /// From its start to its end, or to the hang-up when that came first.
    pub listened_ms: Option<i64>,
    /// For a DTMF command (`ivrreportdtmf`, or keys entered): the keys, if any.
    pub keys: Option<Option<String>>,
}

impl Call {
    /// The analytics' reading of `report`, received at `now_ms`; `None` for a report that is
    /// not a command list's (another event, or no status).
    pub fn of(report: &Report, now_ms: i64) -> Option<Call> {
        if report.event != "multrpt" {
            return None;
        }
        let completed = report.status? == CallStatus::Completed;
        let commands: Vec<&Command> = (report.entries.iter())
            .filter_map(|e| match e {
                Entry::Command(c) => Some(c),
                Entry::Unrecognised(_) => None,
            })
            .collect();
        let hangup_ms = hangup_ms(report);
        let during = (!completed).then(|| hung_up_during(&commands, hangup_ms));
        let steps = (commands.iter().enumerate())
            .map(|(i, c)| Step::of(c, during == Some(i), hangup_ms))
            .collect();
        Some(Call {
            app_id: report.app_id.to_string(),
            hour_min: now_ms.div_euclid(3_600_000) * 60,
            completed,
            length_ms: length_ms(&commands, hangup_ms),
            steps,
        })
    }
}

impl Step {
    fn of(c: &Command, hung_up: bool, hangup_ms: Option<i64>) -> Step {
        let start = c.start.as_ref().map(|t| t.at().timestamp_millis());
        let end = c.end.as_ref().map(|t| t.at().timestamp_millis());
        let stop = match (hung_up, end, hangup_ms) {
            (true, Some(end), Some(h)) => Some(end.min(h)),
            (true, None, Some(h)) => Some(h),
            _ => end,
        };
        let dtmf = c.event.as_deref() == Some("ivrreportdtmf") || c.dtmf.is_some();
        Step {
            prompt: c.data.clone().unwrap_or_default(),
            to_end: !hung_up && c.code.as_deref() == Some("0"),
            hung_up,
            listened_ms: stop.zip(start).map(|(e, s)| e - s).filter(|ms| *ms >= 0),
            keys: dtmf.then(|| c.dtmf.clone()),
        }
    }
}

fn hangup_ms(report: &Report) -> Option<i64> {
    match report.hangup.as_ref()? {
        Hangup::Notice(n) => Some(n.time.as_ref()?.at().timestamp_millis()),
        Hangup::Undecodable(_) => None,
    }
}

/// The command the caller hung up during: the last one that started at or before the
/// hang-up (so the one it falls inside, or the last before it), else the last one.
fn hung_up_during(commands: &[&Command], hangup_ms: Option<i64>) -> usize {
    let last = commands.len().saturating_sub(1);
    let Some(h) = hangup_ms else { return last };
    let started = |c: &&Command| (c.start.as_ref()).is_some_and(|t| t.at().timestamp_millis() <= h);
    commands.iter().rposition(started).unwrap_or(last)
}

fn length_ms(commands: &[&Command], hangup_ms: Option<i64>) -> Option<i64> {
    let start = commands.first()?.start.as_ref()?.at().timestamp_millis();
    let end = (commands.last()?.end.as_ref()).map(|t| t.at().timestamp_millis());
    let last = end.into_iter().chain(hangup_ms).max()?;
    Some(last - start).filter(|ms| *ms >= 0)
}

/// The bucket a length or listened time is counted in, in milliseconds: to the second below
/// a minute, to ten seconds below ten minutes, then to the minute, up to a day.
pub fn bucket_ms(ms: i64) -> i64 {
    let s = ms.div_euclid(1000).clamp(0, 86_400);
    let step = match s {
        ..60 => 1,
        60..600 => 10,
        _ => 60,
    };
    s / step * step * 1000
}
