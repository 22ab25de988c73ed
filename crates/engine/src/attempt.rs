//! One delivery attempt: POST the event, read a bounded answer, classify it, free the
//! request's slot, record it.

use crate::{
    classify::{classify_code, classify_failure, read_code, Failure, Verdict},
    destination::{Destination, DestinationSettings},
    schedule, Inner,
};
use ivrhook_store::outbox::{AttemptRecord, Claimed, Lane, Recorded, Settle};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use std::sync::Arc;

/// Bytes of an answer read to classify it; the rest is not read.
const MAX_ANSWER: usize = 64 * 1024;
/// Bytes of an answer kept with the attempt.
const EXCERPT: usize = 512;

struct Answer {
    verdict: Verdict,
    http_status: Option<u16>,
    code: Option<String>,
    excerpt: Option<String>,
    error: Option<String>,
}

pub(crate) async fn run(
    inner: Arc<Inner>,
    dest: Arc<Destination>,
    claimed: Claimed,
    lease_until_ms: i64,
) {
    let settings = &dest.settings;
    let started_ms = inner.clock.now_ms();
    let started = tokio::time::Instant::now();
    let answer = send(&inner.client, settings, &claimed).await;
    let duration_ms = started.elapsed().as_millis() as i64;
    let now_ms = started_ms + duration_ms;
    let settle = schedule::settle(
        &answer.verdict,
        claimed.attempts + 1,
        claimed.unknown_call_answers,
        &settings.schedule,
        inner.draw(),
        now_ms,
    );
    let warning = match &answer.verdict {
        Verdict::Delivered { warning } => warning.clone(),
        _ => None,
    };
    let outcome = match &settle {
        Settle::Delivered => "delivered",
        Settle::Retry { .. } => "retry",
        Settle::Dead { .. } => "dead",
    };
    // The breaker is for a URL that is down: no answer, or an HTTP error without a contract
    // code. A business that answers 108102 or 108104 is up; each delivery backs off on its own.
    let unhealthy = matches!(answer.verdict, Verdict::Retry { .. }) && answer.code.is_none();
    let record = AttemptRecord {
        delivery_id: claimed.delivery_id,
        owner: inner.owner.clone(),
        started_at_ms: started_ms,
        duration_ms,
        http_status: answer.http_status,
        code: answer.code,
        body_excerpt: answer.excerpt,
        error: answer.error.or_else(|| match &answer.verdict {
            Verdict::Retry { reason, .. } | Verdict::Dead { reason } => Some(reason.clone()),
            _ => None,
        }),
        warning,
        settle: settle.clone(),
    };
    // The request's slot is free once the answer is in: the slot bounds requests to the
    // business, and the lease keeps other claims off the delivery until it is recorded (the
    // PostgreSQL store records in groups, so recording may wait for a group to commit).
    {
        let mut st = dest.state.lock().unwrap_or_else(|p| p.into_inner());
        st.active -= 1;
        if unhealthy {
            st.breaker.on_failure(now_ms);
        } else {
            st.breaker.on_success();
        }
        inner.metrics.breaker(
            settings.app_id.as_str(),
            settings.url.as_str(),
            st.breaker.state(now_ms),
        );
    }
    inner.wake.notify_one();

    let recorded = inner.store.record_attempt(record).await;
    if let Err(e) = &recorded {
        tracing::error!(error = ?e, delivery = claimed.delivery_id,
            "could not record an attempt; the delivery is tried again when its lease expires");
    }
    inner.metrics.attempt(settings.app_id.as_str(), outcome);
    if settle == Settle::Delivered {
        inner
            .metrics
            .delivered_after(now_ms - claimed.created_at_ms);
    }
    tracing::debug!(delivery = claimed.delivery_id, app = %settings.app_id, outcome, "attempt finished");

    let mut st = dest.state.lock().unwrap_or_else(|p| p.into_inner());
    st.in_flight.remove(&claimed.delivery_id);
    match (&settle, recorded) {
        // Not recorded: the lease keeps others off it until it expires, then it is due again
        // in whichever lane it is in.
        (_, Err(_)) => {
            st.due_at(Lane::First, lease_until_ms);
            st.due_at(Lane::Retry, lease_until_ms);
        }
        (Settle::Retry { at_ms, .. }, Ok(_)) => st.due_at(Lane::Retry, *at_ms),
        // A finished delivery may unblock the next one of its call: the store says which
        // lane it is in and when it is due. (Making both lanes due after every delivery cost
        // a claim round after nearly every group of records, most of them finding nothing.)
        (
            _,
            Ok(Recorded {
                next_of_call: Some((lane, due_ms)),
            }),
        ) if settings.ordered => st.due_at(lane, due_ms),
        _ => {}
    }
    drop(st);
    inner.wake.notify_one();
}

async fn send(
    client: &reqwest::Client,
    settings: &DestinationSettings,
    claimed: &Claimed,
) -> Answer {
    let mut request = client
        .post(settings.url.clone())
        .timeout(settings.timeout)
        .header(CONTENT_TYPE, "application/json")
        .body(claimed.body.clone());
    if let Some(secret) = &settings.secret {
        // Standard Webhooks: the id is stable across retries, the timestamp is real time.
        let id = format!("evt_{}", claimed.event_id);
        let timestamp = chrono::Utc::now().timestamp();
        let signature = secret.sign(&id, timestamp, &claimed.body);
        request = request
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature);
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => return failure(&e),
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match read_bounded(response).await {
        Ok(b) => b,
        Err(e) => return failure(&e),
    };
    let code = read_code(&body);
    let verdict = classify_code(status, retry_after.as_deref(), code.as_deref());
    let excerpt = (!body.is_empty())
        .then(|| String::from_utf8_lossy(&body[..body.len().min(EXCERPT)]).into_owned());
    Answer {
        verdict,
        http_status: Some(status),
        code,
        excerpt,
        error: None,
    }
}

async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_ANSWER - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_ANSWER {
            break;
        }
    }
    Ok(body)
}

fn failure(e: &reqwest::Error) -> Answer {
    let kind = if e.is_timeout() {
        Failure::Timeout
    } else if e.is_connect() {
        Failure::Connect
    } else {
        Failure::Other
    };
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        // Some errors already print their cause; say each cause once.
        let text = s.to_string();
        if !detail.contains(&text) {
            detail.push_str(": ");
            detail.push_str(&text);
        }
        source = s.source();
    }
    let verdict = classify_failure(kind, &detail);
    let error = match &verdict {
        Verdict::Retry { reason, .. } => Some(reason.clone()),
        _ => None,
    };
    Answer {
        verdict,
        http_status: None,
        code: None,
        excerpt: None,
        error,
    }
}
