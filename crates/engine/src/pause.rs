//! Pausing a destination: nothing is sent to it until it is resumed; its deliveries wait as
//! pending (up to its `max_backlog`). The pause is stored, so it outlives restarts and holds
//! on every node: each node reads the paused destinations before it starts (`load_paused`,
//! from `Server::bind`) and at every refresh (at once when another node announces a change,
//! within the backstop otherwise). Resuming makes both lanes due now, so the claim loop
//! drains them in order.

use crate::{Engine, Inner};
use ivrhook_store::{outbox::Lane, StoreError};

/// What a pause or resume found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paused {
    /// It was paused now, or had been since then (milliseconds).
    Since(i64),
    /// It is not paused (any more).
    No,
}

impl Engine {
    /// Pauses `name` on every node: stored first, then this node stops sending to it.
    /// `None` when no such destination is configured here.
    pub async fn pause(&self, name: &str) -> Result<Option<Paused>, StoreError> {
        let Some(&i) = self.inner.by_name.get(name) else {
            return Ok(None);
        };
        let now = self.inner.clock.now_ms();
        let changed = self.inner.store.set_paused(name, Some(now)).await?;
        let dest = &self.inner.destinations[i];
        if changed {
            dest.state().set_paused(Some(now));
            self.inner.alerter.paused(dest, true);
            return Ok(Some(Paused::Since(now)));
        }
        load(&self.inner).await;
        Ok(Some(
            dest.state().paused().map_or(Paused::No, Paused::Since),
        ))
    }

    /// Reads which destinations are paused: before the engine runs, so that nothing is sent
    /// to one from the start (the claim loop re-reads them at every refresh).
    pub async fn load_paused(&self) {
        load(&self.inner).await;
    }

    /// Resumes `name` on every node; its pending deliveries go now, in order.
    pub async fn resume(&self, name: &str) -> Result<Option<Paused>, StoreError> {
        let Some(&i) = self.inner.by_name.get(name) else {
            return Ok(None);
        };
        let changed = self.inner.store.set_paused(name, None).await?;
        let dest = &self.inner.destinations[i];
        let was = dest.state().paused().is_some();
        resumed(&self.inner, i);
        if changed || was {
            self.inner.alerter.paused(dest, false);
        }
        Ok(Some(Paused::No))
    }
}

/// Takes the store's paused destinations; one resumed elsewhere gets its lanes made due.
pub(crate) async fn load(inner: &Inner) {
    let paused = match inner.store.paused().await {
        Ok(p) => p,
        Err(e) => return tracing::warn!(error = ?e, "could not read paused destinations"),
    };
    for (i, dest) in inner.destinations.iter().enumerate() {
        let since = paused.iter().find(|(n, _)| n == dest.name()).map(|p| p.1);
        let was = dest.state().paused();
        match (was, since) {
            (Some(_), None) => resumed(inner, i),
            _ => dest.state().set_paused(since),
        }
    }
}

fn resumed(inner: &Inner, i: usize) {
    let now = inner.clock.now_ms();
    let mut st = inner.destinations[i].state();
    st.set_paused(None);
    st.due_at(Lane::First, now);
    st.due_at(Lane::Retry, now);
    drop(st);
    inner.wake.notify_one();
}
