//! Bar charts of a range (a bar a minute over the last hour, wider bars over longer ranges),
//! drawn as SVG by ivrhook: stacked series, the peak on the axis, the totals in words for
//! those who do not see the bars.

use crate::queries::activity::Range;
use maud::{html, Markup};

const W: f64 = 600.0;
const H: f64 = 150.0;
/// Room under the bars for the time labels.
const FOOT: f64 = 18.0;

/// One stacked series: its name, colour and a count for each bar.
pub(crate) struct Series<'a> {
    pub name: &'a str,
    pub colour: &'a str,
    pub counts: Vec<u64>,
}

/// One series' part of one bar.
struct Block<'a> {
    slot_at: usize,
    top: f64,
    height: f64,
    colour: &'a str,
    name: &'a str,
    count: u64,
}

pub(crate) fn bars(id: &str, title: &str, series: &[Series], range: Range) -> Markup {
    let slots = series.first().map_or(0, |s| s.counts.len()).max(1);
    let stacked = |i: usize| series.iter().map(|s| s.counts[i]).sum::<u64>();
    let peak = (0..slots).map(stacked).max().unwrap_or(0).max(1);
    let slot = W / slots as f64;
    let y_of = |n: u64| (H - FOOT) * n as f64 / peak as f64;
    let totals: Vec<String> = (series.iter())
        .map(|s| format!("{} {}", s.counts.iter().sum::<u64>(), s.name))
        .collect();
    let mut blocks = Vec::new();
    for slot_at in 0..slots {
        let mut base = H - FOOT;
        for s in series.iter().filter(|s| s.counts[slot_at] > 0) {
            let height = y_of(s.counts[slot_at]);
            base -= height;
            blocks.push(Block {
                slot_at,
                top: base,
                height,
                colour: s.colour,
                name: s.name,
                count: s.counts[slot_at],
            });
        }
    }
    let label = format!(
        "{title}, per {} over {}: {}",
        range.unit(),
        range.words(),
        totals.join(", ")
    );
    html! {
        figure.chart #(id) {
            figcaption { strong { (title) } " — " (totals.join(", ")) }
            svg viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(label) {
                @for b in &blocks {
                    rect x=(slot * b.slot_at as f64 + 1.0) y=(b.top) width=((slot - 2.0).max(1.0))
                        height=(b.height) fill=(b.colour) {
                        title { (b.count) " " (b.name) ", " (range.ago(slots - b.slot_at - 1)) }
                    }
                }
                line x1="0" x2=(W) y1=(H - FOOT) y2=(H - FOOT) stroke="#555" {}
                text x="2" y="12" font-size="12" fill="#333" { "peak " (peak) "/" (range.unit()) }
                text x="0" y=(H - 4.0) font-size="12" fill="#333" { (range.start()) }
                text x=(W) y=(H - 4.0) font-size="12" fill="#333" text-anchor="end" { "now" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_hour_of_three_series_stays_small() {
        let busy = |n| Series {
            name: "delivered",
            colour: "#2a9d8f",
            counts: vec![n; 60],
        };
        let series = [busy(123_456), busy(7_890), busy(12)];
        let html = bars("c", "Delivery attempts", &series, Range::Hour).into_string();
        assert_eq!(
            html.matches("<rect").count(),
            180,
            "a bar per series and minute"
        );
        assert!(html.contains("peak 131358/min"), "{html}");
        assert!(html.len() < 48 * 1024, "{} bytes", html.len());
    }
}
