//! What the commands that talk to a running ivrhook say when they cannot reach it.

/// "could not reach ivrhook at URL: connection refused", the root cause first, and where the
/// address comes from.
pub fn unreachable(server: &str, e: &reqwest::Error) -> String {
    let why = if e.is_builder() && !server.contains("://") {
        format!("{server:?} has no scheme: did you mean http://{server}?")
    } else {
        root_cause(e)
    };
    format!(
        "could not reach ivrhook at {server}: {why} (the address comes from --server or \
         IVRHOOK_SERVER)"
    )
}

/// The answer's body when the server took the request; otherwise its refusal, with the
/// message of the API's error body.
pub async fn accepted(response: reqwest::Response) -> Result<String, String> {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status.is_success() {
        return Ok(text);
    }
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or(text);
    Err(format!("refused with HTTP {}: {message}", status.as_u16()))
}

/// The innermost error: "connection refused", not "error sending request for url (…)".
pub fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// An `http://` or `https://` URL given as `flag`, checked before anything is sent.
pub fn http_url(flag: &str, value: &str) -> Result<String, String> {
    let lower = value.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(if value.contains("://") {
            format!("{flag} {value:?}: must be an http:// or https:// URL")
        } else {
            format!("{flag} {value:?}: has no scheme: did you mean http://{value}?")
        });
    }
    reqwest::Url::parse(value).map_err(|e| format!("{flag} {value:?}: {e}"))?;
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_without_a_scheme_is_refused_with_a_suggestion() {
        let e = http_url("--target", "127.0.0.1:8080/callback").unwrap_err();
        assert_eq!(
            e,
            "--target \"127.0.0.1:8080/callback\": has no scheme: did you mean \
             http://127.0.0.1:8080/callback?"
        );
        let e = http_url("--server", "ftp://x").unwrap_err();
        assert!(e.contains("must be an http:// or https:// URL"), "{e}");
        assert!(http_url("--server", "HTTPS://example.com").is_ok());
        assert!(http_url("--server", "http://[::1").is_err());
    }
}
