//! The callback path: what the voice platform POSTs `multrpt` reports to.
//!
//! Decode → app check → the app's inbound checks (`auth`) → its `rate_limit` → known-call
//! check → admission → routing → durable insert, in the order
//! the spec settles (bad input first, then `108101`, then `108105`; `108102` when the write
//! path or a destination the report goes to is full), and `000000` only after the commit of
//! the report with its forward deliveries. A request marked `Ivrhook-Check: 1` (what `ivrhook
//! check` sends) goes through every check and gets the answer a report would, but is neither
//! stored nor forwarded: a contract check leaves nothing in the feed or the business's systems.

use crate::{
    auth::{self, client_address, Denied, Shown},
    body,
    error::{answer, Refusal},
    state::AppState,
};
use axum::{
    body::{Body, Bytes},
    extract::{ConnectInfo, Path, State},
    http::{header::CONNECTION, HeaderMap, HeaderValue},
    response::Response,
};
use ivrhook_protocol::{decode, Decoded, Report, ResponseCode, UtcOffset};
use ivrhook_store::{outbox::ReceivedReport, Inserted, NewReport};
use sha2::{Digest, Sha256};
use std::{net::SocketAddr, sync::Arc, time::Instant};

/// Marks a request of `ivrhook check`.
pub const CHECK_HEADER: &str = "ivrhook-check";

/// `POST {inbound.path}`.
pub async fn receive(
    State(st): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        &st,
        Request {
            peer,
            token: None,
            headers: &headers,
        },
        body,
    )
    .await
}

/// `POST {inbound.path}/{token}`: for an app with `path_token`.
pub async fn receive_at_token(
    State(st): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let token = Some(token.as_str());
    respond(
        &st,
        Request {
            peer,
            token,
            headers: &headers,
        },
        body,
    )
    .await
}

/// What the request is, but its body.
struct Request<'a> {
    peer: SocketAddr,
    token: Option<&'a str>,
    headers: &'a HeaderMap,
}

async fn respond(st: &AppState, req: Request<'_>, body: Body) -> Response {
    let started = Instant::now();
    let (handled, close) = match body::read(&st.config.inbound, req.headers, body).await {
        Ok(raw) => (handle(st, &req, raw).await, false),
        Err(refused) => (Err((refused.refusal, None)), refused.close),
    };
    let mut response = match handled {
        Ok(msg) => {
            st.metrics
                .answered(ResponseCode::Success, started.elapsed());
            answer(ResponseCode::Success, msg)
        }
        Err((refusal, app)) => {
            note(st, &req, &refusal, app.as_deref());
            let now_ms = chrono::Utc::now().timestamp_millis();
            let app = configured(st, app.as_deref());
            (st.metrics.engine.tally()).received(now_ms, app, refusal.code().as_str());
            st.metrics.answered(refusal.code(), started.elapsed());
            refusal.answer()
        }
    };
    if close {
        // The rest of the body was not read: the connection cannot carry another request.
        (response.headers_mut()).insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A refusal in the log (the first of each app and code, then counted) and, for one that was
/// not authenticated, in the metrics by app and check.
fn note(st: &AppState, req: &Request, refusal: &Refusal, app: Option<&str>) {
    let reason = refusal.to_string();
    match refusal {
        Refusal::Store(e) => tracing::error!(error = ?e, peer = %req.peer, "report not stored"),
        Refusal::Unauthenticated(denied) => {
            let app = configured(st, app);
            st.metrics.unauthenticated(app, denied.as_str());
            let why = format!("{reason}: {}", denied.as_str());
            st.refusals.refused(Some(app), refusal.code(), &why);
        }
        other => st.refusals.refused(app, other.code(), &reason),
    }
}

/// A configured app's id, or `-`: the body's text must not make labels or counts.
fn configured<'a>(st: &AppState, app: Option<&'a str>) -> &'a str {
    let named = app.unwrap_or("-");
    match st.apps.keys().any(|a| a.as_str() == named) {
        true => named,
        false => "-",
    }
}

/// The answer's text, or the refusal with the app the body named (for the log).
async fn handle(
    st: &AppState,
    req: &Request<'_>,
    raw: Bytes,
) -> Result<&'static str, (Refusal, Option<String>)> {
    let (headers, peer) = (req.headers, req.peer);
    let decoded = decode(&raw, &st.config.inbound.decode)
        .map_err(|e| (Refusal::BadInput(e.to_string()), named_app(&raw)))?;
    // The app is named only for a refusal, so an accepted report allocates nothing for it.
    let refused = |r, d: &Decoded| (r, Some(d.report.app_id.to_string()));
    let checked = check_app(st, &decoded.report).and_then(|require_known| {
        authenticate(st, req, &decoded.report, &raw)?;
        within_rate(st, &decoded.report)?;
        Ok(require_known)
    });
    let require_known = checked.map_err(|r| refused(r, &decoded))?;
    if require_known {
        check_call(st, &decoded.report)
            .await
            .map_err(|r| refused(r, &decoded))?;
    }
    if headers.get(CHECK_HEADER).is_some_and(|v| v == "1") {
        return Ok("accepted (an ivrhook check request: not stored)");
    }
    let Some(_slot) = st.admit() else {
        let waiting = usize::try_from(st.metrics.backlog.get()).unwrap_or(0);
        return Err(refused(Refusal::QueueFull(waiting), &decoded));
    };
    let routed = match &st.engine {
        Some(engine) => Some(
            (engine.route(&decoded.report))
                .map_err(|full| refused(Refusal::Backlog(full), &decoded))?,
        ),
        None => None,
    };
    // A store failure is logged as an error of its own, not as a refusal.
    store(st, decoded, routed, raw.to_vec(), peer)
        .await
        .map_err(|r| (r, None))
}

/// The `appId` of a body refused as bad input, if it names one.
fn named_app(raw: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(raw).ok()?;
    Some(value.get("appId")?.as_str()?.to_owned())
}

/// `108101` for an app this receiver does not serve; else whether the app requires its
/// calls registered.
fn check_app(st: &AppState, report: &Report) -> Result<bool, Refusal> {
    match st.apps.get(&report.app_id) {
        Some(require) => Ok(*require),
        None if st.accept_any_app => Ok(false),
        None => Err(Refusal::UnknownApp(format!(
            "appId: {} is not an app this receiver is configured for",
            report.app_id
        ))),
    }
}

/// The app's inbound checks (`auth`); an app with none takes requests at the plain path only.
fn authenticate(st: &AppState, req: &Request, report: &Report, raw: &[u8]) -> Result<(), Refusal> {
    let Some(rules) = st.auth.get(&report.app_id) else {
        return match req.token {
            None => Ok(()),
            Some(_) => Err(Refusal::Unauthenticated(Denied::PathToken)),
        };
    };
    let shown = Shown {
        client: client_address(req.peer, req.headers, &st.config.trusted_proxies),
        headers: req.headers,
        token: req.token,
        body: raw,
        now_ms: chrono::Utc::now().timestamp_millis(),
    };
    auth::check(rules, report.app_id.as_str(), &st.replays, &shown)
        .map_err(Refusal::Unauthenticated)
}

/// `108102` past the app's `rate_limit`, so that the platform slows down.
fn within_rate(st: &AppState, report: &Report) -> Result<(), Refusal> {
    match st.rates.get(&report.app_id) {
        Some((bucket, rate)) if bucket.check().is_err() => {
            Err(Refusal::RateLimited(report.app_id.to_string(), *rate))
        }
        _ => Ok(()),
    }
}

/// `108105` for an unregistered call of an app that requires registration.
async fn check_call(st: &AppState, report: &Report) -> Result<(), Refusal> {
    let known = st
        .store
        .is_call_known(&report.app_id, &report.call_id)
        .await
        .map_err(Refusal::Store)?;
    if known {
        return Ok(());
    }
    Err(Refusal::UnknownCall(format!(
        "callId: {} is not a registered call of app {}",
        report.call_id, report.app_id
    )))
}

/// Stores the report with its forwards (`routed`), and hands the forwards to the engine once
/// committed.
async fn store(
    st: &AppState,
    decoded: Decoded,
    routed: Option<ivrhook_engine::Routed>,
    raw: Vec<u8>,
    peer: SocketAddr,
) -> Result<&'static str, Refusal> {
    let app = decoded.report.app_id.to_string();
    let mut new = new_report(&decoded, raw, peer, st.config.inbound.decode.offset);
    new.forwards = routed
        .as_ref()
        .map_or_else(Vec::new, |r| r.forwards().to_vec());
    // What a forward sent from here carries, kept only when there is one.
    let kept = (!new.forwards.is_empty()).then(|| sendable(&new));
    let received_ms = new.received_at.timestamp_millis();
    match st.store.insert_report(new).await.map_err(Refusal::Store)? {
        Inserted::New { id, leased } => {
            if let Some(analytics) = &st.analytics {
                analytics.observe(&decoded.report, received_ms);
            }
            if let (Some(engine), Some(routed), Some((mut report, call))) =
                (&st.engine, routed, kept)
            {
                report.id = id;
                engine.forwarded(routed, &leased, report, decoded, &call);
            }
            st.feed.bump();
            let tally = st.metrics.engine.tally();
            tally.received(received_ms, &app, ResponseCode::Success.as_str());
            Ok("accepted")
        }
        Inserted::Duplicate { .. } => {
            st.metrics.duplicate();
            st.metrics.engine.tally().duplicate(received_ms, &app);
            Ok("accepted before: duplicate of a stored report")
        }
    }
}

/// The report as a forward delivery carries it (its id is set once it is stored), and its
/// call.
fn sendable(new: &NewReport) -> (ReceivedReport, String) {
    let report = ReceivedReport {
        id: 0,
        app_id: new.app_id.to_string(),
        event: new.event.clone(),
        status: new.status,
        received_at_ms: new.received_at.timestamp_millis(),
        raw: new.raw.clone(),
        utc_offset: Some(new.utc_offset.clone()),
        warnings: new.warnings.clone(),
    };
    (report, new.call_id.to_string())
}

/// The row to store: warnings serialised here, off the writer thread. The decoded form is
/// derived from `raw` and the offset when read (`api::views`).
fn new_report(decoded: &Decoded, raw: Vec<u8>, peer: SocketAddr, offset: UtcOffset) -> NewReport {
    let warnings = serde_json::to_string(&decoded.warnings).unwrap_or_else(|_| "[]".into());
    let report = &decoded.report;
    NewReport {
        content_hash: Sha256::digest(&decoded.canonical).into(),
        event: report.event.clone(),
        status: report.status.map(|s| s.as_int()),
        received_at: chrono::Utc::now(),
        peer: Some(peer.to_string()),
        raw,
        utc_offset: offset.to_string(),
        warnings,
        app_id: report.app_id.clone(),
        call_id: report.call_id.clone(),
        forwards: Vec::new(),
    }
}
