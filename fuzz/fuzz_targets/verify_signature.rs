//! The signature verifiers on any header text and body: a verdict, never a panic, and a
//! signature made for the body always verifies.
#![no_main]

use ivrhook_protocol::{signature::hmac_sha256_matches, SigningSecret};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, i64, &[u8])| {
    let (header, id, timestamp, body) = input;
    let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let _ = secret.verify(id, timestamp, body, header);
    let own = secret.sign(id, timestamp, body);
    assert!(secret.verify(id, timestamp, body, &own));
    let _ = hmac_sha256_matches(b"key", body, header.as_bytes());
});
