//! One delivery attempt: send it through its destination's transport, settle the outcome on
//! the schedule, free the request's slot, record it.

use crate::alerts::event::DeadDelivery;
use crate::{
    breaker::BreakerState, classify::Verdict, destination::Destination, outgoing::Outgoing,
    schedule, state::DestinationState, transport::Outcome, Inner,
};
use ivrhook_store::outbox::{AttemptRecord, Claimed, Lane, Payload, Recorded, Settle};
use std::sync::Arc;

pub(crate) async fn run(
    inner: Arc<Inner>,
    dest: Arc<Destination>,
    outgoing: Outgoing,
    lease_until_ms: i64,
) {
    let settings = &dest.settings;
    let started_ms = inner.clock.now_ms();
    let started = tokio::time::Instant::now();
    let outcome = dest.transport.send(&outgoing, settings.timeout).await;
    let claimed = outgoing.claimed();
    let duration_ms = started.elapsed().as_millis() as i64;
    let now_ms = started_ms + duration_ms;
    let settle = schedule::settle(
        &outcome.verdict,
        claimed.attempts + 1,
        claimed.unknown_call_answers,
        &settings.schedule,
        inner.draw(),
        now_ms,
    );
    answered_at(&inner, &dest, now_ms, &outcome);
    let answer = answered(&outcome);
    if let Settle::Dead { reason } = &settle {
        tracing::warn!(destination = dest.name(), call = %claimed.call_id,
            delivery = claimed.delivery_id, attempts = claimed.attempts + 1, reason = %reason,
            "delivery dead: it is not tried again unless retried");
        match dest.name() == crate::recordings::RECORDINGS {
            true => {
                let failed = recording_failed(&outgoing, reason);
                inner.alerter.recording_failed(&dest, failed);
            }
            false => inner
                .alerter
                .dead(&dest, dead(dest.name(), claimed, &answer, reason), now_ms),
        }
    }

    let record = record(&inner, claimed, started_ms, duration_ms, outcome, &settle);
    let recorded = inner.store.record_attempt(record).await;
    if let Err(e) = &recorded {
        tracing::error!(error = ?e, delivery = claimed.delivery_id,
            "could not record an attempt; the delivery is tried again when its lease expires");
    }
    let app = match &claimed.payload {
        Payload::Report(report) => report.app_id.as_str(),
        Payload::Event { .. } => dest.name().strip_prefix("app:").unwrap_or(""),
    };
    (dest.metrics).attempt(&settle, now_ms, &answer, app, dest.name());
    let finished = !matches!(settle, Settle::Retry { .. });
    if recorded.is_ok() && finished {
        dest.backlog.change(-1);
    }
    if settle == Settle::Delivered {
        dest.metrics.delivered_after(now_ms - claimed.created_at_ms);
    }
    tracing::debug!(
        delivery = claimed.delivery_id,
        destination = dest.name(),
        finished,
        "attempt finished"
    );
    let mut st = dest.state();
    st.recorded(claimed.delivery_id);
    next_due(&mut st, &settle, recorded, lease_until_ms, settings.ordered);
    drop(st);
    inner.wake.notify_one();
}

/// The request's slot is free once the answer is in: the slot bounds requests to the
/// destination, and the lease keeps other claims off the delivery until it is recorded (the
/// PostgreSQL store records in groups, so recording may wait for a group to commit). The
/// answer moves the breaker; a breaker that opens or closes is logged and announced.
fn answered_at(inner: &Inner, dest: &Destination, now_ms: i64, outcome: &Outcome) {
    let (before, breaker, until, error_rate) = {
        let mut st = dest.state();
        let before = st.breaker(now_ms).0;
        let after = st.answered(now_ms, outcome.down);
        (before, after, st.breaker(now_ms).1, st.error_rate())
    };
    dest.metrics.breaker(breaker);
    inner.wake.notify_one();
    if before != breaker {
        log_breaker(dest.name(), before, breaker, until, outcome);
        let failing = breaker == BreakerState::Open;
        if failing || breaker == BreakerState::Closed {
            let error = failing.then(|| why(outcome).to_owned());
            (inner.alerter).health(dest, failing, error_rate, error, now_ms);
        }
    }
}

/// A breaker that opens or closes is a destination going down or coming back: the operator
/// sees both without asking.
fn log_breaker(
    destination: &str,
    before: BreakerState,
    after: BreakerState,
    until: Option<i64>,
    outcome: &Outcome,
) {
    let why = why(outcome);
    let until = (until.and_then(chrono::DateTime::from_timestamp_millis))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    match (before, after) {
        (_, BreakerState::Closed) => tracing::info!(
            destination,
            "destination reachable again: circuit breaker closed"
        ),
        (BreakerState::HalfOpen, BreakerState::Open) => tracing::warn!(destination,
            until = %until, error = why, "destination still unreachable: the probe failed"),
        (_, BreakerState::Open) => tracing::warn!(destination, until = %until, error = why,
            "destination unreachable: circuit breaker open, its deliveries wait"),
        _ => {}
    }
}

/// What went wrong, as an operator reads it.
fn why(outcome: &Outcome) -> &str {
    (outcome.error.as_deref())
        .or(outcome.excerpt.as_deref())
        .unwrap_or("no answer")
}

/// A dead delivery as `delivery.dead` names it.
fn dead(destination: &str, claimed: &Claimed, answer: &str, reason: &str) -> DeadDelivery {
    // An event's delivery goes to its app's callback, `app:<appId>`.
    let app = match &claimed.payload {
        Payload::Report(r) => r.app_id.as_str(),
        Payload::Event { .. } => destination.strip_prefix("app:").unwrap_or_default(),
    };
    DeadDelivery {
        id: claimed.delivery_id,
        app: app.to_owned(),
        call: claimed.call_id.clone(),
        attempts: claimed.attempts + 1,
        last_answer: answer.to_owned(),
        reason: reason.to_owned(),
    }
}

/// A recording's fetch gone dead, as `recording.failed` tells it.
fn recording_failed(outgoing: &Outgoing, reason: &str) -> crate::alerts::event::Subject {
    let claimed = outgoing.claimed();
    let app = match &claimed.payload {
        Payload::Report(r) => r.app_id.clone(),
        Payload::Event { .. } => String::new(),
    };
    crate::alerts::event::Subject::RecordingFailed {
        app,
        call: claimed.call_id.clone(),
        link: crate::recordings::link(outgoing).unwrap_or_default(),
        reason: reason.to_owned(),
        attempts: claimed.attempts + 1,
        delivery: claimed.delivery_id,
    }
}

/// What answered an attempt, as the dashboard counts answers.
fn answered(outcome: &Outcome) -> String {
    match (&outcome.code, outcome.http_status, &outcome.verdict) {
        (Some(code), _, _) => code.clone(),
        (None, Some(status), _) => format!("HTTP {status}"),
        (None, None, Verdict::Delivered { .. }) => "acknowledged".to_owned(),
        (None, None, _) => "no answer".to_owned(),
    }
}

fn record(
    inner: &Inner,
    claimed: &Claimed,
    started_ms: i64,
    duration_ms: i64,
    outcome: Outcome,
    settle: &Settle,
) -> AttemptRecord {
    let warning = match &outcome.verdict {
        Verdict::Delivered { warning } => warning.clone(),
        _ => None,
    };
    AttemptRecord {
        delivery_id: claimed.delivery_id,
        owner: inner.owner.clone(),
        started_at_ms: started_ms,
        duration_ms,
        http_status: outcome.http_status,
        code: outcome.code,
        body_excerpt: outcome.excerpt,
        error: outcome.error.or_else(|| match &outcome.verdict {
            Verdict::Retry { reason, .. } | Verdict::Dead { reason } => Some(reason.clone()),
            _ => None,
        }),
        warning,
        settle: settle.clone(),
    }
}

/// What may be claimable after this attempt.
fn next_due(
    st: &mut DestinationState,
    settle: &Settle,
    recorded: Result<Recorded, ivrhook_store::StoreError>,
    lease_until_ms: i64,
    ordered: bool,
) {
    match (settle, recorded) {
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
        ) if ordered => st.due_at(lane, due_ms),
        _ => {}
    }
}
