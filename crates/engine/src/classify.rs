//! Reading a business's answer: the contract puts its verdict in the body's `code`, so the
//! body decides where it names a known code, and the HTTP status decides where it does not.
//! Pure: unit-tested without a network.

use ivrhook_protocol::ResponseCode;
use std::time::Duration;

/// What an answer (or the lack of one) means for the delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Done. A warning when the answer was 2xx without a readable code.
    Delivered {
        /// What was not quite right about the answer.
        warning: Option<String>,
    },
    /// Transient: try again on the schedule, not before `retry_after` if the server said so.
    Retry {
        /// Why, in words.
        reason: String,
        /// The server's `Retry-After`, when it gave one.
        retry_after: Option<Duration>,
    },
    /// `108105`: the business may not have recorded the call yet; retried a few times only.
    UnknownCall,
    /// Permanent: the same bytes will fail again.
    Dead {
        /// Why, in words.
        reason: String,
    },
}

/// What went wrong before an answer arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No answer within the destination's `timeout`.
    Timeout,
    /// No connection could be made.
    Connect,
    /// Any other transport error (reset, malformed response).
    Other,
}

/// The longest `Retry-After` honoured; a larger one is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Classifies an HTTP answer from its status, `Retry-After` header and body.
pub fn classify(status: u16, retry_after: Option<&str>, body: &[u8]) -> Verdict {
    classify_code(status, retry_after, read_code(body).as_deref())
}

/// [`classify`] for a body whose `code` was already read (`None`: no readable code).
pub fn classify_code(status: u16, retry_after: Option<&str>, code: Option<&str>) -> Verdict {
    let known = code.and_then(ResponseCode::parse);
    let retry_after = retry_after.and_then(parse_retry_after);
    let success = (200..300).contains(&status);
    match known {
        Some(ResponseCode::Success) if success => return Verdict::Delivered { warning: None },
        Some(ResponseCode::BadInput) => {
            return dead(format!("answered 108100 (bad input), HTTP {status}"))
        }
        Some(ResponseCode::UnknownApp) => {
            return dead(format!("answered 108101 (unknown app), HTTP {status}"))
        }
        Some(ResponseCode::UnknownCall) => return Verdict::UnknownCall,
        Some(ResponseCode::QueueFull) => {
            return retry(
                format!("answered 108102 (queue full), HTTP {status}"),
                retry_after,
            )
        }
        Some(ResponseCode::OtherError) => {
            return retry(
                format!("answered 108104 (other error), HTTP {status}"),
                retry_after,
            )
        }
        Some(ResponseCode::Success) | None => {}
    }
    match status {
        200..=299 => match code {
            None => Verdict::Delivered {
                warning: Some(format!(
                    "HTTP {status} without a readable code; taken as delivered"
                )),
            },
            Some(other) => retry(
                format!("answered unknown code {other:?}, HTTP {status}"),
                retry_after,
            ),
        },
        408 | 429 | 500..=599 => retry(format!("HTTP {status}"), retry_after),
        300..=399 => dead(format!(
            "HTTP {status}: redirects are not followed; fix the callback_url"
        )),
        _ => dead(format!("HTTP {status}")),
    }
}

/// Classifies an internal webhook's answer, which has no contract code: any 2xx is delivered;
/// 408, 429 and 5xx are retried (after `Retry-After` if given); a redirect or another 4xx will
/// not change by itself.
pub fn classify_status(status: u16, retry_after: Option<&str>) -> Verdict {
    let retry_after = retry_after.and_then(parse_retry_after);
    match status {
        200..=299 => Verdict::Delivered { warning: None },
        408 | 429 | 500..=599 => retry(format!("HTTP {status}"), retry_after),
        300..=399 => dead(format!(
            "HTTP {status}: redirects are not followed; fix the destination's url"
        )),
        _ => dead(format!("HTTP {status}")),
    }
}

/// Classifies a request that got no answer: always worth another try.
pub fn classify_failure(failure: Failure, detail: &str) -> Verdict {
    let what = match failure {
        Failure::Timeout => "timed out",
        Failure::Connect => "could not connect",
        Failure::Other => "failed",
    };
    retry(format!("request {what}: {detail}"), None)
}

fn retry(reason: String, retry_after: Option<Duration>) -> Verdict {
    Verdict::Retry {
        reason,
        retry_after,
    }
}

fn dead(reason: String) -> Verdict {
    Verdict::Dead { reason }
}

/// The `code` of a JSON object body, as text (a string or an integer).
pub(crate) fn read_code(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    match value.get("code")? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Delta-seconds or an HTTP date, bounded by [`MAX_RETRY_AFTER`].
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
            (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
                .to_std()
                .unwrap_or_default()
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_retry(v: &Verdict) -> bool {
        matches!(v, Verdict::Retry { .. })
    }

    #[test]
    fn success_codes_in_a_2xx_are_delivered() {
        for body in [
            r#"{"code":"000000"}"#,
            r#"{"code":"0","msg":"success"}"#,
            r#"{"code":0}"#,
        ] {
            assert_eq!(
                classify(200, None, body.as_bytes()),
                Verdict::Delivered { warning: None },
                "{body}"
            );
        }
    }

    #[test]
    fn a_2xx_without_a_readable_code_is_delivered_with_a_warning() {
        for body in ["", "ok", "{}", r#"{"code": null}"#] {
            let Verdict::Delivered { warning: Some(w) } = classify(204, None, body.as_bytes())
            else {
                panic!("{body:?} should be delivered with a warning")
            };
            assert!(w.contains("without a readable code"));
        }
    }

    #[test]
    fn transient_codes_and_statuses_are_retried() {
        assert!(is_retry(&classify(200, None, br#"{"code":"108102"}"#)));
        assert!(is_retry(&classify(200, None, br#"{"code":"108104"}"#)));
        assert!(is_retry(&classify(200, None, br#"{"code":"999"}"#)));
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(is_retry(&classify(status, None, b"")), "{status}");
        }
        assert!(
            is_retry(&classify(500, None, br#"{"code":"000000"}"#)),
            "success code but a 5xx"
        );
        assert!(is_retry(&classify_failure(Failure::Timeout, "5s")));
        assert!(is_retry(&classify_failure(Failure::Connect, "refused")));
    }

    #[test]
    fn permanent_answers_are_dead_at_once() {
        for (status, body) in [
            (200, r#"{"code":"108100"}"#),
            (200, r#"{"code":108101}"#),
            (400, ""),
            (404, ""),
            (410, "gone"),
            (302, ""),
        ] {
            assert!(
                matches!(
                    classify(status, None, body.as_bytes()),
                    Verdict::Dead { .. }
                ),
                "{status} {body}"
            );
        }
        assert!(
            matches!(
                classify(503, None, br#"{"code":"108100"}"#),
                Verdict::Dead { .. }
            ),
            "the body's verdict wins"
        );
    }

    #[test]
    fn a_webhook_is_decided_by_its_status() {
        for status in [200, 201, 202, 204, 299] {
            assert_eq!(
                classify_status(status, None),
                Verdict::Delivered { warning: None }
            );
        }
        for status in [408, 429, 500, 502, 503] {
            assert!(is_retry(&classify_status(status, None)), "{status}");
        }
        let Verdict::Retry { retry_after, .. } = classify_status(429, Some("12")) else {
            panic!()
        };
        assert_eq!(retry_after, Some(Duration::from_secs(12)));
        for status in [301, 302, 400, 401, 404, 410, 422] {
            assert!(
                matches!(classify_status(status, None), Verdict::Dead { .. }),
                "{status}"
            );
        }
    }

    #[test]
    fn unknown_call_is_its_own_verdict() {
        assert_eq!(
            classify(200, None, br#"{"code":"108105"}"#),
            Verdict::UnknownCall
        );
    }

    #[test]
    fn retry_after_is_read_and_bounded() {
        let Verdict::Retry { retry_after, .. } = classify(429, Some("7"), b"") else {
            panic!()
        };
        assert_eq!(retry_after, Some(Duration::from_secs(7)));
        let Verdict::Retry { retry_after, .. } = classify(503, Some("999999"), b"") else {
            panic!()
        };
        assert_eq!(retry_after, Some(MAX_RETRY_AFTER));
        let Verdict::Retry { retry_after, .. } =
            classify(503, Some("Wed, 21 Oct 2015 07:28:00 GMT"), b"")
        else {
            panic!()
        };
        assert_eq!(
            retry_after,
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        let Verdict::Retry { retry_after, .. } = classify(503, Some("soon"), b"") else {
            panic!()
        };
        assert_eq!(retry_after, None);
    }
}
