//! Sending deliveries again, from the API and the dashboard alike: one now, or a
//! destination's dead and pending ones in a range of creation times.

use crate::{error::ApiError, state::AppState};
use ivrhook_store::outbox::{DeliveryRow, DeliveryState, Lane};

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

/// A range's bounds: from the first delivery, up to now, when not given.
pub(crate) fn bounds(now: i64, from: Option<i64>, to: Option<i64>) -> Result<(i64, i64), ApiError> {
    let (from, to) = (from.unwrap_or(0), to.unwrap_or(now + 1));
    if from >= to {
        return Err(ApiError::invalid("to", "must be later than from"));
    }
    Ok((from, to))
}

/// The destination's dead and pending deliveries created in `[from, to)` go now.
pub(crate) async fn retry_between(
    st: &AppState,
    name: &str,
    from: i64,
    to: i64,
) -> Result<u64, ApiError> {
    let Some(engine) = &st.engine else {
        return Ok(0);
    };
    let now = engine.clock().now_ms();
    let retried = st.store.retry_range(name, from, to, now).await?;
    if retried > 0 {
        engine.notify(name, Lane::First, now);
        engine.notify(name, Lane::Retry, now);
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
