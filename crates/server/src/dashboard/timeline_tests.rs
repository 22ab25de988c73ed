//! The timeline's scale: set by the commands, whatever the hang-up's distance.

use super::*;

fn step(start_ms: i64, duration_ms: i64) -> Step {
    Step {
        kind: "TTS",
        start_ms: Some(start_ms),
        duration_ms: Some(duration_ms),
        code: "0".into(),
        keys: None,
    }
}

fn hung_up(at_ms: i64) -> HungUp {
    HungUp {
        at_ms: Some(at_ms),
        reason: "16".into(),
    }
}

/// The axis's tick labels, in order.
fn ticks(svg: &str) -> Vec<String> {
    (svg.split("font-size=\"12\""))
        .skip(1)
        .filter_map(|t| Some(t.split('>').nth(1)?.split('<').next()?.to_owned()))
        .collect()
}

#[test]
fn a_hang_up_days_later_leaves_the_commands_at_their_scale_past_a_break() {
    let steps = [step(0, 4_000), step(4_000, 6_000)];
    let six_days = 6 * 86_400_000;
    let svg = svg(&steps, Some(&hung_up(10_000 + six_days)))
        .unwrap()
        .into_string();
    assert_eq!(
        ticks(&svg).last().map(String::as_str),
        Some("10.0 s"),
        "{svg}"
    );
    assert!(svg.contains("class=\"break\""), "{svg}");
    assert!(svg.contains("hang-up 6days later (reason 16)"), "{svg}");
}

#[test]
fn a_hang_up_near_the_commands_is_drawn_on_their_scale() {
    let steps = [step(0, 4_000), step(4_000, 6_000)];
    let svg = svg(&steps, Some(&hung_up(12_000))).unwrap().into_string();
    assert_eq!(
        ticks(&svg).last().map(String::as_str),
        Some("12.0 s"),
        "{svg}"
    );
    assert!(!svg.contains("class=\"break\""), "{svg}");
    assert!(svg.contains("hang-up (reason 16)"), "{svg}");
}
