//! Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `{webhook-id}.{webhook-timestamp}.{body}`, keyed by the bytes of a `whsec_<base64>` secret.

use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// A signing key, parsed from its `whsec_` form. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Vec<u8>);

impl SigningSecret {
    /// Reads `whsec_` + base64 of the key bytes, as the specification writes secrets.
    pub fn parse(text: &str) -> Result<Self, String> {
        let b64 = text
            .strip_prefix("whsec_")
            .ok_or("must start with whsec_ followed by the base64 of the key")?;
        let key = STANDARD
            .decode(b64)
            .map_err(|e| format!("the part after whsec_ is not base64: {e}"))?;
        if key.len() < 16 {
            return Err(format!(
                "the key is {} bytes; use at least 16 (24 to 64 is usual)",
                key.len()
            ));
        }
        Ok(SigningSecret(key))
    }

    /// The `webhook-signature` header value for a message.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mac = self.mac(msg_id, timestamp, body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    /// The HMAC of `{msg_id}.{timestamp}.{body}`, as the specification signs.
    fn mac(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// Whether `header` (a `webhook-signature` value: space-separated `v1,<base64>` entries,
    /// any one of which may match) signs the message; compared in constant time.
    pub fn verify(&self, msg_id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        header.split(' ').any(|entry| {
            let Some(given) = entry
                .strip_prefix("v1,")
                .and_then(|b| STANDARD.decode(b).ok())
            else {
                return false;
            };
            self.mac(msg_id, timestamp, body)
                .verify_slice(&given)
                .is_ok()
        })
    }
}

/// Whether `given` is the HMAC-SHA256 of `body` under `key`; compared in constant time.
pub fn hmac_sha256_matches(key: &[u8], body: &[u8], given: &[u8]) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(given).is_ok()
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example from the Standard Webhooks specification's reference libraries.
    #[test]
    fn matches_the_specification_example() {
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let sig = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn verifies_its_own_signatures_and_nothing_else() {
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let sig = secret.sign("msg_1", 1614265330, body);
        assert!(secret.verify("msg_1", 1614265330, body, &sig));
        assert!(secret.verify("msg_1", 1614265330, body, &format!("v1,AAAA {sig}")));
        assert!(
            !secret.verify("msg_2", 1614265330, body, &sig),
            "another id"
        );
        assert!(
            !secret.verify("msg_1", 1614265331, body, &sig),
            "another time"
        );
        assert!(
            !secret.verify("msg_1", 1614265330, b"{}", &sig),
            "another body"
        );
        assert!(!secret.verify("msg_1", 1614265330, body, "v1,not base64!"));
        assert!(!secret.verify("msg_1", 1614265330, body, ""));
    }

    #[test]
    fn refuses_malformed_secrets() {
        assert!(SigningSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap_err()
            .contains("whsec_"));
        assert!(SigningSecret::parse("whsec_!!!")
            .unwrap_err()
            .contains("base64"));
        assert!(SigningSecret::parse("whsec_c2hvcnQ=")
            .unwrap_err()
            .contains("16"));
        assert!(!format!(
            "{:?}",
            SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()
        )
        .contains("MfKQ"));
    }
}
