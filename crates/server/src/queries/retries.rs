//! Sending deliveries again, from the API and the dashboard alike: one now, or a
//! destination's dead and pending ones in a range of creation times.

use crate::{error::ApiError, state::AppState};
use ivrhook_store::outbox::{DeliveryRow, DeliveryState, Lane, RetryRange, RetryStates};

/// A dead or pending delivery goes now; the engine is woken for it.
pub(crate) async fn retry_now(st: &AppState, id: i64) -> Result<DeliveryRow, ApiError> {
    let now = now_ms(st);
    match st.store.retry_delivery(id, now).await? {
        Some(d) => {
            announce(st, &d);
            Ok(d)
        }
        None => match st.store.delivery(id).await? {
            Some((d, _)) => Err(ApiError::Conflict(format!(
                "delivery {id} is {} already",
                d.state
            ))),
            None => Err(ApiError::NotFound(format!("no delivery {id}"))),
        },
    }
}

/// The destination's deliveries in `states` created in `[from, to)`; from the first
/// delivery, up to now, when not given.
pub(crate) fn range(
    st: &AppState,
    destination: &str,
    (from, to): (Option<i64>, Option<i64>),
    states: RetryStates,
) -> Result<RetryRange, ApiError> {
    let (from_ms, to_ms) = (from.unwrap_or(0), to.unwrap_or(now_ms(st) + 1));
    if from_ms >= to_ms {
        return Err(ApiError::invalid("to", "must be later than from"));
    }
    Ok(RetryRange {
        destination: destination.to_owned(),
        from_ms,
        to_ms,
        states,
    })
}

/// The deliveries in `range` go now.
pub(crate) async fn retry_between(st: &AppState, range: &RetryRange) -> Result<u64, ApiError> {
    let Some(engine) = &st.engine else {
        return Ok(0);
    };
    let now = engine.clock().now_ms();
    let retried = st.store.retry_range(range, now).await?;
    if retried > 0 {
        engine.notify(&range.destination, Lane::First, now);
        engine.notify(&range.destination, Lane::Retry, now);
    }
    Ok(retried)
}

/// Wakes the engine for a delivery that was just made due again.
pub(crate) fn announce(st: &AppState, d: &DeliveryRow) {
    if let Some(engine) = &st.engine {
        if d.state == DeliveryState::Pending {
            engine.notify(&d.destination, Lane::First, d.next_attempt_at_ms);
            engine.notify(&d.destination, Lane::Retry, d.next_attempt_at_ms);
        }
    }
}

/// Now, by the engine's clock when there is one.
pub(crate) fn now_ms(st: &AppState) -> i64 {
    st.engine.as_ref().map_or_else(
        || chrono::Utc::now().timestamp_millis(),
        |e| e.clock().now_ms(),
    )
}
