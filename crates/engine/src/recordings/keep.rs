//! The recordings destination's transport: a delivery is a report whose recording is
//! fetched into the store, then recorded as kept. A recording already kept for the same app,
//! call and link is not fetched again (a call's deliveries here go in order, so a second
//! report of the call finds the first one's recording kept).

use super::{client::Fetchers, fetch::Fetch, Spec};
use crate::{outgoing::Outgoing, transport::Outcome, Transport};
use async_trait::async_trait;
use ivrhook_protocol::{DecodeOptions, Hangup};
use ivrhook_store::{
    outbox::{Payload, ReceivedReport},
    recordings::KeptRecording,
    Store,
};
use std::{sync::Arc, time::Duration};

/// Fetches and keeps recordings.
#[derive(Debug)]
pub(crate) struct Keeper {
    spec: Arc<Spec>,
    fetchers: Fetchers,
    store: Arc<dyn Store>,
    metrics: super::RecordingMetrics,
}

impl Keeper {
    pub fn new(spec: Arc<Spec>, store: Arc<dyn Store>, metrics: super::RecordingMetrics) -> Self {
        Keeper {
            spec,
            fetchers: Fetchers::new(),
            store,
            metrics,
        }
    }
}

#[async_trait]
impl Transport for Keeper {
    async fn send(&self, delivery: &Outgoing, timeout: Duration) -> Outcome {
        let Payload::Report(report) = &delivery.claimed().payload else {
            return Outcome::dead("not a received report: nothing to fetch".into());
        };
        let Some(link) = link(delivery) else {
            return Outcome::dead("the report has no recording link (hungup.fileName)".into());
        };
        let (app, call) = (report.app_id.as_str(), delivery.claimed().call_id.as_str());
        match self.store.kept_recording(app, call, &link).await {
            Ok(Some(kept)) => self.announced("kept already", &kept).await,
            Ok(None) => self.keep(report, call, link, timeout).await,
            Err(e) => Outcome::unreachable(format!("the store failed: {e}")),
        }
    }
}

impl Keeper {
    /// Fetches the recording at `link` into the store, then records it kept.
    async fn keep(
        &self,
        report: &ReceivedReport,
        call: &str,
        link: String,
        timeout: Duration,
    ) -> Outcome {
        let app = report.app_id.as_str();
        let Ok(url) = reqwest::Url::parse(&link) else {
            return Outcome::dead(format!("hungup.fileName {link:?} is not a URL"));
        };
        let reach = self.spec.reach(app);
        let key = super::key::object_key(app, call, &link, report.received_at_ms);
        let fetch = Fetch {
            client: self.fetchers.get(reach),
            reach,
            max_bytes: self.spec.max_bytes,
            vault: &self.spec.vault,
            key: &key,
            timeout,
        };
        let started = std::time::Instant::now();
        let stored = match fetch.run(url).await {
            Ok(stored) => stored,
            Err(outcome) => return outcome,
        };
        let kept = KeptRecording {
            app_id: app.to_owned(),
            call_id: call.to_owned(),
            link,
            report_id: report.id,
            key,
            size: stored.size as i64,
            sha256: stored.sha256,
            content_type: stored.content_type,
            kept_at_ms: chrono::Utc::now().timestamp_millis(),
        };
        // A failure here leaves the object without its row: the fetch runs again, to the
        // same key.
        match self.store.keep_recording(&kept).await {
            Ok(()) => {
                let size = u64::try_from(kept.size).unwrap_or(0);
                self.metrics.kept(size, started.elapsed());
                self.announced("kept", &kept).await
            }
            Err(e) => Outcome::unreachable(format!("the store failed: {e}")),
        }
    }

    /// The fetch is done once its `recording.kept` messages are stored; until then it is
    /// tried again (and finds the recording kept).
    async fn announced(&self, what: &str, kept: &KeptRecording) -> Outcome {
        let (to, shown) = (&self.spec.announce, self.spec.vault.shown());
        let now_ms = chrono::Utc::now().timestamp_millis();
        match super::announce::announce(self.store.as_ref(), to, kept, shown, now_ms).await {
            Ok(()) => kept_outcome(what, kept),
            Err(e) => Outcome::unreachable(format!("storing recording.kept failed: {e}")),
        }
    }
}

/// The report's recording link, from the receiver's decoding or the stored bytes.
pub(crate) fn link(delivery: &Outgoing) -> Option<String> {
    let of = |d: &ivrhook_protocol::Decoded| match &d.report.hangup {
        Some(Hangup::Notice(n)) => n.recording_url.clone().filter(|u| !u.is_empty()),
        _ => None,
    };
    if let Some(d) = &delivery.shared().decoded {
        return of(d);
    }
    let Payload::Report(r) = &delivery.claimed().payload else {
        return None;
    };
    let options = DecodeOptions::as_received(r.utc_offset.as_deref());
    of(&ivrhook_protocol::decode(&r.raw, &options).ok()?)
}

fn kept_outcome(what: &str, kept: &KeptRecording) -> Outcome {
    Outcome {
        excerpt: Some(format!(
            "{what}: {} ({} bytes, sha256 {}, {})",
            kept.key, kept.size, kept.sha256, kept.content_type
        )),
        ..Outcome::delivered(None)
    }
}
