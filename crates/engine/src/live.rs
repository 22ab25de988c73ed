//! What this node's engine knows about a destination now: for the API's destinations, and to
//! say why a pending delivery is not being sent.

use crate::{breaker::BreakerState, Engine};

/// A destination's state on this node, for the API and the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    /// Whether this node runs the delivery engine (else the rest is not this node's to know).
    pub delivering: bool,
    /// Its circuit breaker.
    pub breaker: BreakerState,
    /// When the breaker lets the next probe through, while it holds deliveries.
    pub reopens_at_ms: Option<i64>,
    /// Requests running now.
    pub active: u32,
    /// Its `max_in_flight`.
    pub max_in_flight: u32,
    /// Its `ordered`.
    pub ordered: bool,
    /// Pending deliveries, as last counted plus this node's changes since.
    pub backlog: i64,
    /// Since when it is paused (milliseconds), as this node last read it.
    pub paused_since_ms: Option<i64>,
}

impl Engine {
    /// `destination` as this node sees it now; `None` when it is not configured here.
    pub fn live(&self, destination: &str) -> Option<Live> {
        let i = *self.inner.by_name.get(destination)?;
        let dest = &self.inner.destinations[i];
        let now = self.inner.clock.now_ms();
        let st = dest.state();
        let (breaker, reopens_at_ms) = st.breaker(now);
        Some(Live {
            delivering: self.delivering(),
            breaker,
            reopens_at_ms: reopens_at_ms.filter(|_| breaker != BreakerState::Closed),
            active: st.active(),
            max_in_flight: dest.settings.max_in_flight,
            ordered: dest.settings.ordered,
            backlog: dest.backlog.pending(),
            paused_since_ms: st.paused(),
        })
    }

    /// Whether this node is sending (or recording) the delivery now.
    pub fn sending(&self, destination: &str, delivery_id: i64) -> bool {
        (self.inner.by_name.get(destination))
            .is_some_and(|&i| self.inner.destinations[i].state().holds(delivery_id))
    }
}
