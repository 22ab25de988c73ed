//! A destination: where deliveries go (an app's callback URL, or a place received reports are
//! forwarded to), its settings, and what the engine keeps about it while it runs.

use crate::{
    backlog::Backlog,
    kinds::Kind,
    metrics::{DestinationMetrics, EngineMetrics},
    route::Route,
    schedule::RetrySchedule,
    state::DestinationState,
    transport::Transport,
};
use ivrhook_protocol::AppId;
use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

/// The destination an app's callback URL is: `app:<appId>`. The colon keeps it apart from
/// every forward destination's name (`[a-z0-9_-]+`).
pub fn callback_name(app: &AppId) -> String {
    format!("app:{app}")
}

/// A destination's settings, validated at the edge (the config file).
#[derive(Debug, Clone)]
pub struct DestinationSettings {
    /// Unique; labels its metrics and keys its deliveries.
    pub name: String,
    /// What it is and where it goes.
    pub kind: Kind,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Requests to it running at once, at most.
    pub max_in_flight: u32,
    /// When to try again.
    pub schedule: RetrySchedule,
    /// A call's later delivery waits until the earlier one is delivered or dead.
    pub ordered: bool,
    /// For a forward destination, which received reports it gets; `None` for an app's
    /// callback (it gets the events submitted for the app).
    pub route: Option<Route>,
    /// Pending deliveries past which the receiver refuses reports bound here (`108102`).
    pub max_backlog: u64,
    /// Which addresses an HTTP kind may connect to.
    pub reach: crate::kinds::Reach,
    /// `Some` for an alert destination (`[alerts] destinations`): the operator event types
    /// it receives. It receives no reports.
    pub alerts: Option<crate::alerts::TypeFilter>,
}

impl DestinationSettings {
    /// Defaults for everything but the name and kind: 5 s timeout, 16 in flight, the default
    /// schedule, ordered per call, a backlog of a million.
    pub fn new(name: String, kind: Kind) -> Self {
        DestinationSettings {
            name,
            kind,
            timeout: Duration::from_secs(5),
            max_in_flight: 16,
            schedule: RetrySchedule::default(),
            ordered: true,
            route: None,
            max_backlog: 1_000_000,
            reach: crate::kinds::Reach::PublicAndLoopback,
            alerts: None,
        }
    }

    /// An app's callback URL, with the defaults.
    pub fn callback(app: &AppId, url: reqwest::Url) -> Self {
        let spec = crate::kinds::callback::Spec { url, secret: None };
        DestinationSettings::new(callback_name(app), Kind::Callback(spec))
    }
}

#[derive(Debug)]
pub(crate) struct Destination {
    pub settings: DestinationSettings,
    pub transport: Arc<dyn Transport>,
    pub backlog: Backlog,
    pub metrics: DestinationMetrics,
    state: Mutex<DestinationState>,
}

impl Destination {
    pub fn new(
        settings: DestinationSettings,
        clients: &crate::kinds::http::Clients,
        metrics: &EngineMetrics,
        store: &Arc<dyn ivrhook_store::Store>,
    ) -> Self {
        let kind = settings.kind.clone();
        Destination {
            transport: kind.transport(clients, settings.reach, store, metrics),
            metrics: metrics.destination(&settings.name),
            settings,
            backlog: Backlog::default(),
            state: Mutex::new(DestinationState::default()),
        }
    }

    /// The run-time state, for one short change (never held across an await).
    pub fn state(&self) -> MutexGuard<'_, DestinationState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn name(&self) -> &str {
        &self.settings.name
    }
}
