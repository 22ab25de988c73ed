//! The keys recordings are kept under.

use sha2::{Digest, Sha256};

/// The key a call's recording from `link` is kept under: by app and the day its report
/// came, the call's id made safe for a file name, and a hash that keeps apart what
/// making it safe merged. The same report's fetch writes the same key again.
pub(crate) fn object_key(app: &str, call: &str, link: &str, received_ms: i64) -> String {
    let day = chrono::DateTime::from_timestamp_millis(received_ms).unwrap_or_default();
    let hash = Sha256::new()
        .chain_update(app)
        .chain_update([0])
        .chain_update(call)
        .chain_update([0])
        .chain_update(link)
        .finalize();
    let ext = extension(link).map(|e| format!(".{e}")).unwrap_or_default();
    format!(
        "{}/{}/{}-{}{ext}",
        safe(app),
        day.format("%Y-%m-%d"),
        safe(call),
        hex(&hash[..8])
    )
}

/// `s` with every character but ASCII letters, digits, `-` and `_` as `_`, at most 64 long.
fn safe(s: &str) -> String {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    s.chars()
        .take(64)
        .map(|c| if ok(c) { c } else { '_' })
        .collect()
}

/// The link's file extension, when it is a short alphanumeric one (`wav`, `mp3`).
pub(crate) fn extension(link: &str) -> Option<String> {
    let path = link.split(['?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    let (_, ext) = name.rsplit_once('.')?;
    let ok = !ext.is_empty() && ext.len() <= 5 && ext.chars().all(|c| c.is_ascii_alphanumeric());
    ok.then(|| ext.to_ascii_lowercase())
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_safe_and_stable() {
        let link = "https://p.example/rec/20180118-1.WAV?sig=x";
        let key = object_key("a1", "c/../1", link, 1_516_279_461_000);
        assert!(key.starts_with("a1/2018-01-18/c____1-"), "{key}");
        assert!(key.ends_with(".wav"), "{key}");
        assert_eq!(key, object_key("a1", "c/../1", link, 1_516_279_461_000));
        assert_ne!(key, object_key("a1", "c_.._1", link, 1_516_279_461_000));
        assert_eq!(extension("https://p.example/x"), None);
        assert_eq!(
            extension("https://p.example/x.tar.gz/y.mp3#t"),
            Some("mp3".into())
        );
    }
}
