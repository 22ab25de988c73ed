//! Work announced by other nodes sharing the database (PostgreSQL's NOTIFY): a new delivery
//! for a destination makes its first-attempt lane due now; an empty announcement (a retry by another
//! node's API, or a reconnect after which announcements may have been missed) re-reads every
//! due time. Without this, other nodes' work would wait for the polling backstop.

use crate::{dispatch, Inner};
use ivrhook_store::outbox::Lane;
use std::sync::Arc;
use tokio::sync::broadcast::{error::RecvError, Receiver};
use tokio_util::sync::CancellationToken;

pub(crate) async fn follow(inner: Arc<Inner>, mut rx: Receiver<String>, stop: CancellationToken) {
    loop {
        let announced = tokio::select! {
            r = rx.recv() => r,
            () = stop.cancelled() => return,
        };
        inner.metrics.remote_wakeup();
        match announced {
            Ok(name) if !name.is_empty() => {
                let Some(i) = inner.by_name.get(&name) else {
                    continue; // a destination this node does not deliver to
                };
                let now = inner.clock.now_ms();
                inner.destinations[*i].state().due_at(Lane::First, now);
                inner.wake.notify_one();
            }
            // Missed announcements (too many to buffer) are handled like an empty one.
            Ok(_) | Err(RecvError::Lagged(_)) => {
                dispatch::refresh(&inner).await;
                inner.wake.notify_one();
            }
            Err(RecvError::Closed) => return,
        }
    }
}
