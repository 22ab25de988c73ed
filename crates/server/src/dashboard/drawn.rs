//! The analytics' drawings, as SVG by ivrhook: a funnel's steps and a prompt's keys as
//! horizontal bars, each with its count in words for those who do not see the bars.

use super::analytics::{percent, shown_prompt};
use crate::queries::analytics::{Path, Prompt};
use maud::{html, Markup};

const W: f64 = 600.0;
const ROW: f64 = 26.0;
/// Names longer than this are cut (the whole name is the bar's title).
const SHOWN_CHARS: usize = 48;

/// A row: a bar `n / of` of the width, with its label over it.
fn row(i: usize, label: &str, n: i64, of: i64, colour: &str) -> Markup {
    let y = i as f64 * ROW;
    let width = (W * n as f64 / of.max(1) as f64).max(2.0);
    let cut: String = label.chars().take(SHOWN_CHARS).collect();
    let cut = match cut.len() < label.len() {
        true => format!("{cut}…"),
        false => cut,
    };
    html! {
        g {
            title { (label) ": " (n) }
            rect x="0" y=(y + 2.0) width=(width) height=(ROW - 4.0) fill=(colour) {}
            text x="6" y=(y + ROW / 2.0 + 5.0) font-size="14" fill="#111" { (cut) " — " (n) }
        }
    }
}

/// One of the most common sequences (`rank` from 0): each step's bar is the calls that
/// reached it, against those that reached the first.
pub(crate) fn funnel(rank: usize, path: &Path) -> Markup {
    let first = path.steps.first().map_or(0, |s| s.reached);
    let words: Vec<String> = (path.steps.iter())
        .map(|s| format!("{} reached {}", s.reached, shown_prompt(&s.prompt)))
        .collect();
    let h = ROW * path.steps.len() as f64;
    html! {
        figure.funnel {
            figcaption { "Sequence " (rank + 1) ": " (path.calls) " calls ran exactly it" }
            svg viewBox={ "0 0 " (W) " " (h) } role="img" aria-label=(words.join(", ")) {
                @for (i, s) in path.steps.iter().enumerate() {
                    (row(i, shown_prompt(&s.prompt), s.reached, first, "#a8dadc"))
                }
            }
        }
    }
}

/// A DTMF prompt's keys entered, the most entered first, and the share with no key.
pub(crate) fn keys(p: &Prompt) -> Markup {
    let Some(dtmf) = &p.dtmf else { return html! {} };
    let most = dtmf
        .keys
        .iter()
        .map(|k| k.n)
        .max()
        .unwrap_or(0)
        .max(dtmf.no_key);
    let h = ROW * (dtmf.keys.len() + 1) as f64;
    let words: Vec<String> = (dtmf.keys.iter())
        .map(|k| format!("{} entered {}", k.n, k.keys))
        .collect();
    html! {
        figure.keys {
            figcaption {
                "#" (p.position) " " (shown_prompt(&p.prompt)) ": " (percent(dtmf.no_key_share)) " no key"
            }
            svg viewBox={ "0 0 " (W) " " (h) } role="img" aria-label=(words.join(", ")) {
                @for (i, k) in dtmf.keys.iter().enumerate() { (row(i, &k.keys, k.n, most, "#457b9d55")) }
                (row(dtmf.keys.len(), "(no key)", dtmf.no_key, most, "#e9c46a"))
            }
        }
    }
}
