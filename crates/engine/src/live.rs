//! What this node's engine knows about a destination now, for the API to say why a pending
//! delivery is not being sent.

use crate::{breaker::BreakerState, Engine};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    /// Whether this node runs the delivery engine (else the rest is not this node's to know).
    pub delivering: bool,
    pub breaker: BreakerState,
    /// When the breaker lets the next probe through, while it holds deliveries.
    pub reopens_at_ms: Option<i64>,
    pub active: u32,
    pub max_in_flight: u32,
    pub ordered: bool,
    /// The delivery asked about is being sent (or recorded) by this node.
    pub sending: bool,
}

impl Engine {
    /// `destination` as this node sees it now, asked about `delivery_id`; `None` when the
    /// destination is not configured here.
    pub fn live(&self, destination: &str, delivery_id: i64) -> Option<Live> {
        let i = *self.inner.by_name.get(destination)?;
        let dest = &self.inner.destinations[i];
        let now = self.inner.clock.now_ms();
        let st = dest.state();
        let (breaker, reopens_at_ms) = st.breaker(now);
        let (active, sending) = st.load(delivery_id);
        Some(Live {
            delivering: self.delivering(),
            breaker,
            reopens_at_ms: reopens_at_ms.filter(|_| breaker != BreakerState::Closed),
            active,
            max_in_flight: dest.settings.max_in_flight,
            ordered: dest.settings.ordered,
            sending,
        })
    }
}
