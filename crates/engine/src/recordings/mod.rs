//! Call recordings kept: a hung-up report's `hungup.fileName` fetched from the platform and
//! stored in the recordings store (a directory or S3-compatible storage). Each fetch is a
//! delivery to the destination [`RECORDINGS`], written with its report, so it survives
//! crashes, is retried on the destination's schedule and runs once on one node, like every
//! other delivery; its object store is where it "delivers" to.
//!
//! - `location`, `vault`, `key`: where recordings are kept, the store, the keys in it;
//!   `fetch`: one link streamed into it (with its own `client`), through an `upload`,
//!   `answer`: what the link answered;
//!   `keep`: the destination's transport; `announce`: the `recording.kept` message;
//!   `metrics`: its own series.

mod announce;
mod answer;
mod client;
mod fetch;
mod keep;
mod key;
mod location;
mod metrics;
mod upload;
mod vault;

use crate::{kinds::Reach, route::Filter, route::Route, DestinationSettings};
pub use announce::{Announce, KEPT_EVENT};
use ivrhook_protocol::AppId;
pub(crate) use keep::{link, Keeper};
pub use location::{Location, S3Location};
pub(crate) use metrics::RecordingMetrics;
use std::{collections::HashMap, sync::Arc};
pub use vault::{Vault, VaultError};

/// The destination recording fetches are deliveries to. The colon keeps it apart from every
/// forward destination's name, as an app's callback's (`app:<appId>`).
pub const RECORDINGS: &str = "ivrhook:recordings";

/// The recordings destination's settings beyond every destination's.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Where recordings are kept.
    pub vault: Vault,
    /// A recording larger than this is refused (`failed`), and nothing of it is kept.
    pub max_bytes: u64,
    /// The apps whose recordings are kept (`recordings = true`), each with where its links
    /// may point (`allow_private`).
    pub apps: HashMap<AppId, Reach>,
    /// The destinations that receive `recording.kept`.
    pub announce: Vec<Announce>,
}

impl Spec {
    /// The destination: every report of these apps with a recording link goes to it. Its
    /// backlog never refuses a report (a recording is worth less than its report).
    pub fn destination(self) -> DestinationSettings {
        let route = Route {
            apps: Some(self.apps.keys().cloned().collect()),
            filter: Filter {
                has_recording: Some(true),
                ..Filter::default()
            },
        };
        let mut d = DestinationSettings::new(
            RECORDINGS.to_owned(),
            crate::kinds::Kind::Recordings(Arc::new(self)),
        );
        d.route = Some(route);
        d.max_backlog = u64::MAX;
        d
    }

    /// What `GET /v1/destinations` shows.
    pub fn describe(&self) -> serde_json::Value {
        let mut apps: Vec<&str> = self.apps.keys().map(AppId::as_str).collect();
        apps.sort_unstable();
        let told: Vec<&str> = self
            .announce
            .iter()
            .map(|a| a.destination.as_str())
            .collect();
        serde_json::json!({
            "kind": "recordings", "store": self.vault.shown(), "maxBytes": self.max_bytes,
            "apps": apps, "keptAnnouncedTo": told,
        })
    }

    fn reach(&self, app: &str) -> Reach {
        let app = AppId::try_from(app).ok();
        (app.and_then(|a| self.apps.get(&a).copied())).unwrap_or(Reach::Public)
    }
}
