//! `recording.kept`: the message a kept recording sends to the destinations whose filter
//! takes it (`event = "recording.kept"`), so the business's systems learn where it is kept.
//! Each is an event stored with an idempotency key before the fetch counts as done, so a
//! fetch that runs again (a crash, a second report of the call) announces it once.

use super::key::hex;
use ivrhook_protocol::{AppId, CallId};
use ivrhook_store::{outbox::NewEvent, recordings::KeptRecording, Store};
use sha2::{Digest, Sha256};
use std::collections::HashSet;

/// The `event` a destination's filter names to receive kept recordings.
pub const KEPT_EVENT: &str = "recording.kept";

/// A destination that receives `recording.kept`, and of which apps (`None`: every app).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announce {
    /// The destination's name.
    pub destination: String,
    /// Its `apps`.
    pub apps: Option<HashSet<AppId>>,
}

/// Stores the `recording.kept` message of `kept` for each destination that takes it.
pub(crate) async fn announce(
    store: &dyn Store,
    to: &[Announce],
    kept: &KeptRecording,
    store_shown: &str,
    now_ms: i64,
) -> Result<(), ivrhook_store::StoreError> {
    let (Ok(app), Ok(call)) = (
        AppId::try_from(kept.app_id.as_str()),
        CallId::try_from(kept.call_id.as_str()),
    ) else {
        return Ok(());
    };
    let body = serde_json::to_vec(&message(kept, store_shown)).unwrap_or_default();
    let link = hex(&Sha256::digest(kept.link.as_bytes())[..8]);
    let takers = to
        .iter()
        .filter(|a| a.apps.as_ref().is_none_or(|apps| apps.contains(&app)));
    for a in takers {
        let event = NewEvent {
            app_id: app.clone(),
            call_id: call.clone(),
            destination: a.destination.clone(),
            idempotency_key: Some(format!("{KEPT_EVENT}:{}:{call}:{link}", a.destination)),
            body: body.clone(),
            created_at_ms: now_ms,
            first_attempt_at_ms: now_ms,
            lease: None,
        };
        store.submit_event(event).await?;
    }
    Ok(())
}

/// The message, as docs/forwarding.md describes it.
fn message(k: &KeptRecording, store_shown: &str) -> serde_json::Value {
    let call =
        percent_encoding::utf8_percent_encode(&k.call_id, percent_encoding::NON_ALPHANUMERIC);
    let kept_at = chrono::DateTime::from_timestamp_millis(k.kept_at_ms).unwrap_or_default();
    serde_json::json!({
        "schemaVersion": 1,
        "event": KEPT_EVENT,
        "appId": k.app_id,
        "callId": k.call_id,
        "reportId": k.report_id,
        "link": k.link,
        "store": store_shown,
        "key": k.key,
        "size": k.size,
        "sha256": k.sha256,
        "contentType": k.content_type,
        "keptAt": kept_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "url": format!("/v1/calls/{call}/recording"),
    })
}
