//! A call's IVR timeline drawn to scale (SVG): each command a bar from its start for its
//! duration, coloured by kind, with its code and keys; the hang-up a marker with its reason.

use chrono::DateTime;
use maud::{html, Markup};
use serde_json::Value;

const WIDTH: f64 = 960.0;
const ROW: f64 = 28.0;
/// Room on the right of the last bar for its caption.
const CAPTION: f64 = 220.0;

/// One command as drawn.
pub(crate) struct Step {
    pub kind: &'static str,
    pub start_ms: Option<i64>,
    pub duration_ms: Option<i64>,
    pub code: String,
    pub keys: Option<String>,
}

/// The hang-up, from the last report that carries one.
pub(crate) struct HungUp {
    pub at_ms: Option<i64>,
    pub reason: String,
}

fn ms(v: &Value) -> Option<i64> {
    DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// The commands of every report (in the order received, then listed) and the hang-up.
pub(crate) fn read(reports: &[Value]) -> (Vec<Step>, Option<HungUp>) {
    let commands = reports
        .iter()
        .flat_map(|r| r["commands"].as_array().into_iter().flatten());
    let steps = commands
        .filter(|c| c["kind"] != "unrecognised")
        .map(|c| Step {
            kind: match c["kind"].as_str() {
                Some("dtmf") => "DTMF collection",
                Some("playback") => "Playback (TTS/voice)",
                _ => "Command",
            },
            start_ms: ms(&c["start"]),
            duration_ms: c["durationMs"].as_i64(),
            code: c["code"].as_str().unwrap_or("—").to_owned(),
            keys: c["keys"].as_str().map(str::to_owned),
        })
        .collect();
    let hangup = reports.iter().rev().find_map(|r| {
        let h = &r["hangup"];
        (h["decoded"] == true).then(|| HungUp {
            at_ms: ms(&h["time"]),
            reason: h["reason"].as_str().unwrap_or("not given").to_owned(),
        })
    });
    (steps, hangup)
}

/// The drawing; `None` when no command has a start time to place it by. The commands set
/// the scale; a hang-up long after them (a report sent days later) is drawn past a break at
/// the right edge, with how much later it came, so that the bars keep their size.
pub(crate) fn svg(steps: &[Step], hangup: Option<&HungUp>) -> Option<Markup> {
    let placed = steps
        .iter()
        .filter_map(|s| Some((s.start_ms?, s.duration_ms.unwrap_or(0))));
    let t0 = placed.clone().map(|(s, _)| s).min()?;
    let commands_end = placed.map(|(s, d)| s + d.max(0)).max()?;
    let hung_at = hangup.and_then(|h| h.at_ms);
    let far = hung_at.filter(|at| at - commands_end > (commands_end - t0).max(1000));
    let t1 = match far {
        Some(_) => commands_end,
        None => hung_at.map_or(commands_end, |at| at.max(commands_end)),
    };
    let span = (t1 - t0).max(1) as f64;
    let scale = (WIDTH - CAPTION) / span;
    let x = |t: i64| ((t - t0) as f64 * scale).max(0.0);
    let height = ROW * (steps.len() as f64 + 1.5);
    let label = format!(
        "Timeline of {} commands over {:.3} s",
        steps.len(),
        span / 1000.0
    );
    let reason = hangup.map_or("", |h| h.reason.as_str());
    Some(html! {
        svg.timeline viewBox={ "0 0 " (WIDTH) " " (height) } role="img" aria-label=(label) {
            @for (i, s) in steps.iter().enumerate() {
                @if let Some(start) = s.start_ms {
                    @let y = ROW * i as f64;
                    @let w = (s.duration_ms.unwrap_or(0).max(0) as f64 * scale).max(2.0);
                    @let fill = if s.kind == "DTMF collection" { "#2a9d8f" } else { "#457b9d" };
                    rect x=(x(start)) y=(y + 4.0) width=(w) height=(ROW - 8.0) fill=(fill) {
                        title { (s.kind) }
                    }
                    text x=(x(start) + w + 6.0) y=(y + ROW * 0.65) font-size="13" fill="#1a1a1a" {
                        (i + 1) ". " (seconds(s.duration_ms)) " · code " (s.code)
                        @if let Some(k) = &s.keys { " · keys " (k) }
                    }
                }
            }
            (axis(span, height))
            @match (far, hung_at) {
                (Some(at), _) => (far_hangup(at - commands_end, reason, height)),
                (None, Some(at)) => (hangup_line(x(at), reason, height)),
                (None, None) => {},
            }
        }
    })
}

fn hangup_line(x: f64, reason: &str, height: f64) -> Markup {
    html! {
        line x1=(x) x2=(x) y1="0" y2=(height - ROW) stroke="#c1121f" stroke-width="3" {}
        text.hangup x=(x + 4.0) y=(height - ROW - 4.0) font-size="13" fill="#9b1c1c" {
            "hang-up (reason " (reason) ")"
        }
    }
}

/// The hang-up past a break in the axis, `after_ms` after the last command ended.
fn far_hangup(after_ms: i64, reason: &str, height: f64) -> Markup {
    let x = WIDTH - 12.0;
    let axis = height - ROW * 0.5 - 12.0;
    let later = humantime::format_duration(std::time::Duration::from_secs(
        u64::try_from(after_ms / 1000).unwrap_or(0),
    ));
    html! {
        g.break stroke="#555" {
            line x1=(WIDTH - CAPTION + 8.0) x2=(WIDTH - CAPTION + 16.0) y1=(axis + 6.0) y2=(axis - 6.0) {}
            line x1=(WIDTH - CAPTION + 14.0) x2=(WIDTH - CAPTION + 22.0) y1=(axis + 6.0) y2=(axis - 6.0) {}
        }
        line x1=(x) x2=(x) y1="0" y2=(height - ROW) stroke="#c1121f" stroke-width="3" {}
        text.hangup x=(x - 4.0) y=(height - ROW - 4.0) font-size="13" fill="#9b1c1c" text-anchor="end" {
            "hang-up " (later) " later (reason " (reason) ")"
        }
    }
}

fn axis(span: f64, height: f64) -> Markup {
    let y = height - ROW * 0.5;
    let scale = (WIDTH - CAPTION) / span;
    html! {
        line x1="0" x2=(WIDTH - CAPTION) y1=(y - 12.0) y2=(y - 12.0) stroke="#555" {}
        @for i in 0..=4 {
            @let t = span * f64::from(i) / 4.0;
            text x=(t * scale) y=(y + 4.0) font-size="12" fill="#333"
                text-anchor=(if i == 0 { "start" } else { "middle" }) { (format!("{:.1} s", t / 1000.0)) }
        }
    }
}

/// A duration as people read command lengths: seconds with milliseconds.
pub(crate) fn seconds(ms: Option<i64>) -> String {
    ms.map_or_else(
        || "—".to_owned(),
        |ms| format!("{:.3} s", ms as f64 / 1000.0),
    )
}

#[cfg(test)]
#[path = "timeline_tests.rs"]
mod tests;
