//! The report decoder, lenient and strict, on any bytes: it answers, never panics.
#![no_main]

use ivrhook_protocol::{decode, DecodeOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    for strict in [false, true] {
        let options = DecodeOptions {
            strict,
            ..DecodeOptions::default()
        };
        if let Ok(decoded) = decode(body, &options) {
            // What is stored of an accepted report reads back.
            let _ = decoded.stored_json();
        }
    }
});
