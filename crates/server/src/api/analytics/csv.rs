//! The analytics as CSV: one figure a line, `section,position,prompt,name,value`.

use super::Answer;
use std::fmt::Write;

/// Every figure of `a`, with a header line.
pub(super) fn lines(a: &Answer) -> String {
    let mut out = String::from("section,position,prompt,name,value\n");
    let f = &a.figures;
    let mut line =
        |section: &str, position: Option<i64>, prompt: &str, name: &str, value: String| {
            let position = position.map(|p| p.to_string()).unwrap_or_default();
            let _ = writeln!(
                out,
                "{section},{position},{},{},{value}",
                field(prompt),
                field(name)
            );
        };
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let ms = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    line("span", None, "", "from", a.from.clone());
    line("span", None, "", "to", a.to.clone());
    line("calls", None, "", "calls", f.calls.to_string());
    line("calls", None, "", "completed_share", opt(f.completed_share));
    line("calls", None, "", "hung_up_share", opt(f.hung_up_share));
    line(
        "calls",
        None,
        "",
        "length_median_ms",
        ms(f.length_median_ms),
    );
    line("calls", None, "", "length_p90_ms", ms(f.length_p90_ms));
    for p in &f.prompts {
        let (pos, name) = (Some(p.position), p.prompt.as_str());
        line("prompt", pos, name, "played", p.played.to_string());
        line("prompt", pos, name, "to_end_share", opt(p.to_end_share));
        line(
            "prompt",
            pos,
            name,
            "listened_median_ms",
            ms(p.listened_median_ms),
        );
        line("prompt", pos, name, "hung_up_share", opt(p.hung_up_share));
        if let Some(d) = &p.dtmf {
            line("keys", pos, name, "(no key)", d.no_key.to_string());
            for e in &d.keys {
                line("keys", pos, name, &e.keys, e.n.to_string());
            }
        }
    }
    for (i, path) in f.funnel.iter().enumerate() {
        for (s, step) in path.steps.iter().enumerate() {
            let name = format!("path {} step {}", i + 1, s + 1);
            line(
                "funnel",
                Some(s as i64 + 1),
                &step.prompt,
                &name,
                step.reached.to_string(),
            );
        }
    }
    out
}

/// A CSV field: quoted when it holds a comma, a quote or a line break; a leading `=`, `+`,
/// `-` or `@` is prefixed with `'` so a spreadsheet does not run it as a formula.
fn field(text: &str) -> String {
    let text = match text.starts_with(['=', '+', '-', '@']) {
        true => format!("'{text}"),
        false => text.to_owned(),
    };
    match text.contains([',', '"', '\n', '\r']) {
        true => format!("\"{}\"", text.replace('"', "\"\"")),
        false => text,
    }
}
