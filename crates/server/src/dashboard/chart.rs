//! Per-minute bar charts of the last hour, drawn as SVG by ivrhook: stacked series, the peak
//! on the axis, the totals in words for those who do not see the bars.

use maud::{html, Markup};

const W: f64 = 600.0;
const H: f64 = 150.0;
/// Room under the bars for the time labels.
const FOOT: f64 = 18.0;

/// One stacked series: its name, colour and a count for each minute.
pub(crate) struct Series<'a> {
    pub name: &'a str,
    pub colour: &'a str,
    pub counts: Vec<u64>,
}

/// One series' bar in one minute.
struct Block<'a> {
    minute: usize,
    top: f64,
    height: f64,
    colour: &'a str,
    name: &'a str,
    count: u64,
}

pub(crate) fn bars(id: &str, title: &str, series: &[Series]) -> Markup {
    let minutes = series.first().map_or(0, |s| s.counts.len()).max(1);
    let stacked = |i: usize| series.iter().map(|s| s.counts[i]).sum::<u64>();
    let peak = (0..minutes).map(stacked).max().unwrap_or(0).max(1);
    let slot = W / minutes as f64;
    let y_of = |n: u64| (H - FOOT) * n as f64 / peak as f64;
    let totals: Vec<String> = (series.iter())
        .map(|s| format!("{} {}", s.counts.iter().sum::<u64>(), s.name))
        .collect();
    let mut blocks = Vec::new();
    for minute in 0..minutes {
        let mut base = H - FOOT;
        for s in series.iter().filter(|s| s.counts[minute] > 0) {
            let height = y_of(s.counts[minute]);
            base -= height;
            blocks.push(Block {
                minute,
                top: base,
                height,
                colour: s.colour,
                name: s.name,
                count: s.counts[minute],
            });
        }
    }
    let label = format!(
        "{title}, per minute over the last hour: {}",
        totals.join(", ")
    );
    html! {
        figure.chart #(id) {
            figcaption { strong { (title) } " — " (totals.join(", ")) }
            svg viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(label) {
                @for b in &blocks {
                    rect x=(slot * b.minute as f64 + 1.0) y=(b.top) width=((slot - 2.0).max(1.0))
                        height=(b.height) fill=(b.colour) {
                        title { (b.count) " " (b.name) ", " (minutes - b.minute - 1) " min ago" }
                    }
                }
                line x1="0" x2=(W) y1=(H - FOOT) y2=(H - FOOT) stroke="#555" {}
                text x="2" y="12" font-size="12" fill="#333" { "peak " (peak) "/min" }
                text x="0" y=(H - 4.0) font-size="12" fill="#333" { "60 min ago" }
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
        let html = bars("c", "Delivery attempts", &series).into_string();
        assert_eq!(
            html.matches("<rect").count(),
            180,
            "a bar per series and minute"
        );
        assert!(html.contains("peak 131358/min"), "{html}");
        assert!(html.len() < 48 * 1024, "{} bytes", html.len());
    }
}
