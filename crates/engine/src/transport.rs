//! What every destination kind implements: send one delivery, say what became of it. The rest
//! of the engine (claims, leases, schedules, breakers, records) never asks which kind it holds.

use crate::{classify::Verdict, outgoing::Outgoing};
use async_trait::async_trait;
use std::time::Duration;

/// Sends deliveries to one destination.
#[async_trait]
pub trait Transport: Send + Sync + std::fmt::Debug {
    /// Sends one delivery, taking at most about `timeout`; every failure is an [`Outcome`],
    /// never a panic or an error.
    async fn send(&self, delivery: &Outgoing, timeout: Duration) -> Outcome;
}

/// What one attempt found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// What it means for the delivery.
    pub verdict: Verdict,
    /// The HTTP status, for kinds that speak HTTP.
    pub http_status: Option<u16>,
    /// The contract's code in the answer, for the callback kind.
    pub code: Option<String>,
    /// The start of the answer, kept with the attempt.
    pub excerpt: Option<String>,
    /// What went wrong, in words.
    pub error: Option<String>,
    /// The destination looks down (no answer, a server error): counts towards its circuit
    /// breaker. An answer that refuses one delivery (a bad input, a full queue) does not.
    pub down: bool,
}

impl Outcome {
    /// An attempt that delivered, with a warning when the answer was not quite right.
    pub fn delivered(warning: Option<String>) -> Outcome {
        Outcome::of(Verdict::Delivered { warning })
    }

    /// A failure worth another try, from a destination that looks down.
    pub fn unreachable(reason: String) -> Outcome {
        Outcome {
            error: Some(reason.clone()),
            down: true,
            ..Outcome::of(Verdict::Retry {
                reason,
                retry_after: None,
            })
        }
    }

    /// A failure that will not go away by itself.
    pub fn dead(reason: String) -> Outcome {
        Outcome {
            error: Some(reason.clone()),
            ..Outcome::of(Verdict::Dead { reason })
        }
    }

    /// An outcome that is its verdict alone.
    pub fn of(verdict: Verdict) -> Outcome {
        Outcome {
            verdict,
            http_status: None,
            code: None,
            excerpt: None,
            error: None,
            down: false,
        }
    }
}
