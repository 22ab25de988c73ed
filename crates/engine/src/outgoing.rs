//! A delivery on its way out: the claimed row, and what its body is made from. A report sent
//! to several destinations as it is written is decoded once (the receiver already did) and its
//! decoded form rendered once, shared by all of them.

use bytes::Bytes;
use ivrhook_protocol::Decoded;
use ivrhook_store::outbox::Claimed;
use std::sync::{Arc, OnceLock};

/// A claimed delivery on its way, with what it shares with the other deliveries of its report.
#[derive(Debug, Clone)]
pub struct Outgoing {
    claimed: Claimed,
    shared: Arc<Shared>,
}

/// What the deliveries of one report share.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// The report as the receiver decoded it, when it is sent from the receiver.
    pub decoded: Option<Decoded>,
    /// Its decoded form, rendered by the first destination that needs it.
    pub rendered: OnceLock<Bytes>,
}

impl Outgoing {
    /// A claimed delivery, nothing shared.
    pub fn new(claimed: Claimed) -> Self {
        Outgoing {
            claimed,
            shared: Arc::default(),
        }
    }

    pub(crate) fn sharing(claimed: Claimed, shared: Arc<Shared>) -> Self {
        Outgoing { claimed, shared }
    }

    /// The delivery as claimed.
    pub fn claimed(&self) -> &Claimed {
        &self.claimed
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }
}
