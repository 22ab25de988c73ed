//! Calls whose report never came: a registered call past its report's deadline with no report
//! is marked overdue and announced (`call.overdue`) exactly once across the nodes, and a report
//! that comes later is announced as resolved (`call.overdue.resolved`). Each sweep stores the
//! announcements first, with idempotency keys, and only then marks the calls settled: a node
//! killed in between leaves them to the next sweep (of any node), whose announcements are the
//! same keys, so each is stored once.

use crate::{alerts::event::Subject, Engine};
use ivrhook_protocol::{AppId, CallId};
use ivrhook_store::{
    deadlines::{CallDeadline, Settle},
    StoreError,
};
use std::{collections::BTreeSet, time::Duration};
use tokio_util::sync::CancellationToken;

/// How often each node sweeps.
pub const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// Calls settled per sweep at most; more wait for the next.
const PER_SWEEP: u32 = 500;

impl Engine {
    /// Sweeps for overdue calls every [`SWEEP_EVERY`] until `shutdown`, and keeps the
    /// `ivrhook_calls_overdue` gauge.
    pub async fn sweep_overdue(&self, shutdown: CancellationToken) {
        let mut apps = BTreeSet::new();
        loop {
            if let Err(e) = self.sweep().await {
                tracing::warn!(error = ?e, "could not sweep for overdue calls; will try again");
            }
            if let Err(e) = self.count_overdue(&mut apps).await {
                tracing::warn!(error = ?e, "could not count overdue calls");
            }
            tokio::select! {
                () = tokio::time::sleep(SWEEP_EVERY) => {}
                () = shutdown.cancelled() => return,
            }
        }
    }

    /// One sweep: announces, then settles, what is due.
    async fn sweep(&self) -> Result<(), StoreError> {
        let now = self.inner.clock.now_ms();
        let found = self.inner.store.unsettled(now, PER_SWEEP).await?;
        if found.is_empty() {
            return Ok(());
        }
        for (settle, call) in &found {
            if *settle != Settle::Reported {
                self.announce(call, *settle == Settle::Resolved, now)
                    .await?;
            }
        }
        let asked: Vec<(Settle, AppId, CallId)> = (found.iter())
            .map(|(s, d)| (*s, d.app_id.clone(), d.call_id.clone()))
            .collect();
        let marked = self.inner.store.settle(&asked, now).await?;
        let overdue = (found.iter())
            .filter(|(s, d)| {
                *s == Settle::Overdue && marked.contains(&(d.app_id.clone(), d.call_id.clone()))
            })
            .count();
        if overdue > 0 {
            tracing::warn!(
                calls = overdue,
                "registered calls overdue: their report did not come in time"
            );
        }
        Ok(())
    }

    /// Stores the call's announcement for every alert destination that takes it.
    async fn announce(
        &self,
        call: &CallDeadline,
        resolved: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        let subject = Subject::Overdue {
            app: call.app_id.to_string(),
            call: call.call_id.to_string(),
            registered_at_ms: call.registered_at_ms,
            due_at_ms: call.report_due_at_ms,
            reported_at_ms: call.reported_at_ms.filter(|_| resolved),
        };
        for mut event in crate::alerts::events(&self.inner, &subject, now, true) {
            event.first_attempt_at_ms = self.first_attempt_at(&event.destination, now);
            self.submit(event).await?;
        }
        Ok(())
    }

    /// Sets the gauge for every app with overdue calls, and to 0 for those that had some.
    async fn count_overdue(&self, apps: &mut BTreeSet<String>) -> Result<(), StoreError> {
        let counts = self.inner.store.overdue_counts().await?;
        let now: BTreeSet<String> = counts.iter().map(|(a, _)| a.to_string()).collect();
        for gone in apps.difference(&now) {
            self.inner.metrics.overdue(gone, 0);
        }
        for (app, n) in &counts {
            self.inner.metrics.overdue(app.as_str(), *n);
        }
        *apps = now;
        Ok(())
    }
}
