//! The hang-up text (`hungup`, JSON inside a JSON string) inside an otherwise valid report.
#![no_main]

use ivrhook_protocol::{decode, DecodeOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let hungup = serde_json_string(text);
    let body = format!(
        r#"{{"appId":"247e35ff320a4142a105024055c367cf","callId":"c-1","event":"multrpt","status":1,"result":[],"hungup":{hungup}}}"#
    );
    for strict in [false, true] {
        let options = DecodeOptions {
            strict,
            ..DecodeOptions::default()
        };
        let _ = decode(body.as_bytes(), &options);
    }
});

/// `text` as a JSON string literal.
fn serde_json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
