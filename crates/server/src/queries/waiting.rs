//! Why a pending delivery is not being sent now: `waiting` on each pending delivery the API
//! shows, from this node's engine (breaker, slots, what it is sending) and the store (an
//! earlier delivery of the same call). Checked in the order that decides: the first that
//! holds is the reason.

use super::views::{delivery_json, time};
use crate::{error::ApiError, state::AppState};
use ivrhook_engine::{breaker::BreakerState, Live};
use ivrhook_store::outbox::{DeliveryRow, DeliveryState};
use serde_json::{json, Value};

/// Each delivery as the API shows it, with `waiting` on the pending ones.
pub(crate) async fn deliveries_json(
    st: &AppState,
    rows: &[DeliveryRow],
) -> Result<Vec<Value>, ApiError> {
    let mut shown = Vec::with_capacity(rows.len());
    for d in rows {
        shown.push(explained(st, d).await?);
    }
    Ok(shown)
}

pub(crate) async fn explained(st: &AppState, d: &DeliveryRow) -> Result<Value, ApiError> {
    let mut shown = delivery_json(d);
    if d.state == DeliveryState::Pending {
        shown["waiting"] = waiting(st, d).await?;
    }
    Ok(shown)
}

fn because(reason: &str, detail: String) -> Value {
    json!({"reason": reason, "detail": detail})
}

async fn waiting(st: &AppState, d: &DeliveryRow) -> Result<Value, ApiError> {
    let dest = &d.destination;
    let Some((engine, live)) = (st.engine.as_ref()).and_then(|e| Some((e, e.live(dest)?))) else {
        let detail = format!("{dest} is not configured; the delivery stays pending until it is");
        return Ok(because("destination_not_configured", detail));
    };
    if engine.sending(dest, d.id) {
        return Ok(because("sending", format!("being sent to {dest} now")));
    }
    if let Some(since) = live.paused_since_ms {
        let when = time(since);
        let detail = format!(
            "{dest} is paused (since {}): nothing is sent to it until it is resumed",
            when.as_str().unwrap_or("?")
        );
        return Ok(because("paused", detail));
    }
    if let Some(held) = breaker(&live, dest) {
        return Ok(held);
    }
    if live.ordered {
        if let Some(id) = st.store.earlier_pending(dest, &d.call_id, d.id).await? {
            let detail = format!(
                "waits for delivery {id}, an earlier one of call {} to {dest} (ordered = true)",
                d.call_id
            );
            let mut shown = because("earlier_delivery_of_call", detail);
            shown["deliveryId"] = json!(id);
            return Ok(shown);
        }
    }
    let now = chrono::Utc::now().timestamp_millis();
    if d.next_attempt_at_ms > now {
        let mut shown = because(
            "scheduled",
            format!("the next attempt is due then ({dest})"),
        );
        shown["at"] = time(d.next_attempt_at_ms);
        return Ok(shown);
    }
    Ok(match (live.delivering, live.active >= live.max_in_flight) {
        (false, _) => because(
            "due",
            "due; this node does not deliver (roles), a delivering node sends it".into(),
        ),
        (true, true) => because(
            "waiting_for_slot",
            format!(
                "all {} request slots to {dest} are busy (max_in_flight)",
                live.max_in_flight
            ),
        ),
        (true, false) => because("due", format!("due; sent to {dest} at the next claim")),
    })
}

/// The breaker's hold on the destination, when this node delivers and it holds.
fn breaker(live: &Live, dest: &str) -> Option<Value> {
    if !live.delivering || live.breaker == BreakerState::Closed {
        return None;
    }
    let mut shown = match live.breaker {
        BreakerState::Open => because(
            "breaker_open",
            format!("{dest} failed repeatedly; its circuit breaker holds deliveries until then"),
        ),
        _ => because(
            "breaker_probing",
            format!("{dest} failed repeatedly; one probe request decides whether it is back"),
        ),
    };
    if let Some(at) = live.reopens_at_ms {
        shown["until"] = time(at);
    }
    Some(shown)
}
