//! The report decoder, lenient and strict, on any bytes: it answers, never panics.
#![no_main]

use ivrhook_protocol::{
    decode,
    forward::{forwarded, Received},
    DecodeOptions,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    for strict in [false, true] {
        let options = DecodeOptions {
            strict,
            ..DecodeOptions::default()
        };
        if let Ok(decoded) = decode(body, &options) {
            // An accepted report's decoded form (the API's and the forwards') is written.
            let received = Received { id: 1, at_ms: 0 };
            let _ = serde_json::to_vec(&forwarded(&decoded, received));
        }
    }
});
