//! What a recording's link answered, and what each failure of it means for the fetch.

use crate::{kinds::reach, transport::Outcome};
use hyper::{body::Incoming, header, StatusCode};
use reqwest::Url;

/// An answer with its body to come, and the URL that gave it.
pub(super) struct Answer {
    response: hyper::Response<Incoming>,
    url: Url,
}

impl Answer {
    pub fn new(response: hyper::Response<Incoming>, url: Url) -> Self {
        Answer { response, url }
    }

    /// The recording's bytes, to come.
    pub fn into_body(self) -> Incoming {
        self.response.into_body()
    }
}

/// The answer's verdict: 2xx is the recording; 404 (not ready yet), 408, 429 and 5xx are
/// tried again; any other refusal is final.
pub(super) fn answered(answer: Answer) -> Result<Answer, Outcome> {
    let status = answer.response.status();
    if status.is_success() {
        return Ok(answer);
    }
    let reason = format!("the platform answered {status}");
    let again = matches!(
        status,
        StatusCode::NOT_FOUND | StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS
    ) || status.is_server_error();
    let outcome = match again {
        true => retry(reason),
        false => Outcome::dead(reason),
    };
    Err(Outcome {
        http_status: Some(status.as_u16()),
        ..outcome
    })
}

/// The link's own `Content-Type`, or one its extension implies when it sent none useful.
pub(super) fn content_type(answer: &Answer) -> String {
    let sent = (answer.response.headers().get(header::CONTENT_TYPE))
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.is_empty() && !t.starts_with("application/octet-stream"));
    if let Some(t) = sent {
        return t.to_owned();
    }
    let implied = match super::key::extension(answer.url.path()).as_deref() {
        Some("wav") => "audio/wav",
        Some("mp3") => "audio/mpeg",
        Some("ogg" | "opus") => "audio/ogg",
        Some("m4a") => "audio/mp4",
        _ => "application/octet-stream",
    };
    implied.to_owned()
}

/// A failure of the link's side, tried again; not a sign the recordings store is down.
pub(super) fn retry(reason: String) -> Outcome {
    Outcome {
        down: false,
        ..Outcome::unreachable(reason)
    }
}

/// The `Content-Length` the answer declares.
pub(super) fn content_length(answer: &Answer) -> Option<u64> {
    let length = answer.response.headers().get(header::CONTENT_LENGTH)?;
    length.to_str().ok()?.parse().ok()
}

/// A request that got no answer: tried again, unless the address is out of reach (final).
pub(super) fn failed(outcome: Outcome) -> Outcome {
    match &outcome.error {
        Some(reason) if reason.contains(reach::HINT) => {
            Outcome::dead(reason.replace("not sent", "not fetched"))
        }
        _ => Outcome {
            down: false,
            ..outcome
        },
    }
}
