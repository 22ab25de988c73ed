//! The callback path's per-app checks (`allow_from`, `path_token`, `basic_auth`, `verify`).
//! They run once the body has named a configured app and before anything is stored; a
//! request that fails one is answered HTTP 401 `108104` "not authenticated", whatever the
//! check, and the check is named only in the log and the metrics.

mod peer;
mod replay;

use crate::config::{Basic, InboundAuth, Verify};
use axum::http::{header::AUTHORIZATION, HeaderMap};
use base64::{engine::general_purpose::STANDARD, Engine};
use ivrhook_protocol::signature::hmac_sha256_matches;
pub(crate) use peer::client_address;
pub(crate) use replay::Replays;
use std::net::IpAddr;
use subtle::ConstantTimeEq;

/// Which check refused a request (a metric label and a log field, never the answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    SourceAddress,
    PathToken,
    BasicAuth,
    Signature,
    StaleSignature,
    ReplayedSignature,
}

impl Denied {
    pub fn as_str(self) -> &'static str {
        match self {
            Denied::SourceAddress => "source_address",
            Denied::PathToken => "path_token",
            Denied::BasicAuth => "basic_auth",
            Denied::Signature => "signature",
            Denied::StaleSignature => "stale_signature",
            Denied::ReplayedSignature => "replayed_signature",
        }
    }
}

/// What a request shows of itself.
pub(crate) struct Shown<'a> {
    pub client: IpAddr,
    pub headers: &'a HeaderMap,
    /// The last path segment after `inbound.path`, when the request came to `{path}/{token}`.
    pub token: Option<&'a str>,
    pub body: &'a [u8],
    pub now_ms: i64,
}

/// Every check the app sets, in a fixed order; `app` is the app's id (for replays).
pub(crate) fn check(
    auth: &InboundAuth,
    app: &str,
    replays: &Replays,
    r: &Shown,
) -> Result<(), Denied> {
    if !auth.allow_from.is_empty() && !auth.allow_from.iter().any(|n| n.contains(&r.client)) {
        return Err(Denied::SourceAddress);
    }
    let token_ok = match (&auth.path_token, r.token) {
        (None, None) => true,
        (Some(want), Some(given)) => bool::from(want.expose().as_bytes().ct_eq(given.as_bytes())),
        _ => false,
    };
    if !token_ok {
        return Err(Denied::PathToken);
    }
    if let Some(basic) = &auth.basic {
        if !basic_matches(basic, r.headers) {
            return Err(Denied::BasicAuth);
        }
    }
    match &auth.verify {
        Some(v) => verify(v, app, replays, r),
        None => Ok(()),
    }
}

fn basic_matches(want: &Basic, headers: &HeaderMap) -> bool {
    let given = (headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()))
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .unwrap_or_default();
    let (user, password) = match given.iter().position(|b| *b == b':') {
        Some(i) => (&given[..i], &given[i + 1..]),
        None => (&given[..], &[][..]),
    };
    let user_ok = want.user.as_bytes().ct_eq(user);
    let password_ok = want.password.expose().as_bytes().ct_eq(password);
    bool::from(user_ok & password_ok)
}

fn verify(v: &Verify, app: &str, replays: &Replays, r: &Shown) -> Result<(), Denied> {
    let header = |name: &str| r.headers.get(name).and_then(|v| v.to_str().ok());
    match v {
        Verify::StandardWebhooks { secret, tolerance } => {
            let (Some(id), Some(ts), Some(sig)) = (
                header("webhook-id"),
                header("webhook-timestamp").and_then(|t| t.parse::<i64>().ok()),
                header("webhook-signature"),
            ) else {
                return Err(Denied::Signature);
            };
            if !secret.verify(id, ts, r.body, sig) {
                return Err(Denied::Signature);
            }
            let tolerance_ms = i64::try_from(tolerance.as_millis()).unwrap_or(i64::MAX);
            if ts.saturating_mul(1000).abs_diff(r.now_ms) > tolerance_ms.unsigned_abs() {
                return Err(Denied::StaleSignature);
            }
            match replays.first_sight(app, id, r.now_ms + 2 * tolerance_ms, r.now_ms) {
                true => Ok(()),
                false => Err(Denied::ReplayedSignature),
            }
        }
        Verify::Hmac {
            header: name,
            key,
            base64,
        } => {
            let given = header(name.as_str()).unwrap_or("");
            let given = given.strip_prefix("sha256=").unwrap_or(given).trim();
            let bytes = if *base64 {
                STANDARD.decode(given).ok()
            } else {
                hex(given)
            };
            let ok =
                bytes.is_some_and(|b| hmac_sha256_matches(key.expose().as_bytes(), r.body, &b));
            ok.then_some(()).ok_or(Denied::Signature)
        }
    }
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}
