//! ivrhook's HTTP side: the `multrpt` receiver, the `/v1` API, the dashboard, health and
//! metrics, and the configuration that shapes them.
//!
//! [`Server::bind`] opens the store, builds the delivery engine when any destination is
//! configured (an app's `callback_url`, a `[[destinations]]` entry), and prepares the router on
//! a listener the caller bound (tests bind `127.0.0.1:0`); [`Server::run`] serves and delivers
//! until the cancellation token fires, then answers what is in flight, lets attempts in flight
//! be recorded, and closes the store.
//!
//! - `config`: layered, validated configuration.
//! - `inbound`: the callback path (`POST /callback`); `auth`: each app's inbound checks;
//!   `body`: reading, decoding and (when refused) draining a report's body.
//! - `listener`: the accept loop and its limits; `early`: JSON on hyper's own refusals; `tls`:
//!   the listener's reloadable certificate.
//! - `access`: API tokens and their scopes; `signin` and `dashboard`: the dashboard's pages.
//! - `feed`: the report feed's waiters (long polls, consumers, the event stream).
//! - `api`: `/v1` (call registration, timelines, the feed, events to deliver, deliveries).
//! - `ops`: `/healthz`, `/metrics`, fallbacks.
//! - `error`: the error enums and their one mapping to HTTP.
//! - `metrics`: Prometheus metrics; `store_metrics`: the store's own (batches, WAL).
//! - `state`: what handlers share; the bounded write path.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
mod api;
mod auth;
mod body;
pub mod config;
mod counting;
mod dashboard;
mod early;
pub mod error;
mod feed;
mod inbound;
mod listener;
pub mod metrics;
mod ops;
mod paths;
mod queries;
mod refusals;
pub mod retention;
mod signin;
mod startup;
mod state;
mod store_metrics;
pub mod tls;

pub use inbound::CHECK_HEADER;
pub use startup::Startup;

use axum::{
    routing::{get, post},
    Router,
};
use config::{Config, ConfigError};
use ivrhook_engine::{analytics::Analytics, Clock, Engine};
use ivrhook_store::{Migrations, OpenOptions, StoreError};
use metrics::Metrics;
use state::AppState;
use std::{net::SocketAddr, sync::Arc};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;

/// How long a shutdown waits for requests in flight.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each variant's `#[error]` message says what it is
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("could not open the store")]
    Store(#[from] StoreError),
    #[error("the HTTP server failed")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Engine(#[from] ivrhook_engine::EngineError),
    #[error("{0}")]
    Tls(String),
}

/// A server ready to run: store open and migrated, router built, listener bound.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    state: Arc<AppState>,
    /// The certificate, when the listener speaks TLS, and the SIGHUPs that reload it (listened
    /// for from `bind` on, so a SIGHUP after the start-up line never ends the process).
    tls: Option<(Arc<tls::Certificate>, tokio::signal::unix::Signal)>,
}

/// A delivering node's tasks: the claim loop (returned, to wait for at shutdown), operator
/// events and the overdue sweep.
fn deliver_tasks(
    state: &AppState,
    engine: Engine,
    shutdown: &CancellationToken,
) -> tokio::task::JoinHandle<()> {
    for d in (state.config.destinations.iter()).filter(|d| d.alerts.is_some()) {
        tracing::info!(
            destination = d.name,
            "receives operator events ([alerts]), no reports"
        );
    }
    let (alerts, stop) = (engine.clone(), shutdown.clone());
    tokio::spawn(async move { alerts.run_alerts(stop).await });
    let (sweeper, stop) = (engine.clone(), shutdown.clone());
    tokio::spawn(async move { sweeper.sweep_overdue(stop).await });
    let stop = shutdown.clone();
    tokio::spawn(async move { engine.run(stop).await })
}

impl Server {
    /// Checks `config` against the listener's address, opens and migrates the store, and
    /// builds the routers; nothing is served until [`run`](Self::run).
    pub async fn bind(config: Config, listener: TcpListener) -> Result<Server, ServerError> {
        config.check_servable_at(listener.local_addr()?)?;
        let tls = match &config.tls {
            Some(files) => {
                let cert = tls::Certificate::load(files).map_err(ServerError::Tls)?;
                let hangups =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
                Some((Arc::new(cert), hangups))
            }
            None => None,
        };
        let metrics = Arc::new(Metrics::new());
        let events: Arc<dyn ivrhook_store::StoreEvents> = metrics.store.clone();
        let migrations = if config.migrate_on_start {
            Migrations::Apply
        } else {
            Migrations::Require
        };
        let options = OpenOptions {
            migrations,
            pool_size: config.database_pool_size,
            max_wal: config.sqlite.max_wal,
        };
        let store = ivrhook_store::open(&config.database, Some(events), options).await?;
        let apps = config
            .apps
            .iter()
            .map(|a| (a.id.clone(), a.require_known_calls))
            .collect();
        let auth = (config.apps.iter())
            .filter(|a| !a.auth.is_open())
            .map(|a| (a.id.clone(), a.auth.clone()))
            .collect();
        let rates = (config.apps.iter())
            .filter_map(|a| Some((a.id.clone(), a.rate_limit?)))
            .map(|(id, r)| (id, (governor::RateLimiter::direct(r.quota), r)))
            .collect();
        let destinations = config.all_destinations();
        let engine = if destinations.is_empty() {
            None
        } else {
            let engine = Engine::new(
                Arc::clone(&store),
                destinations,
                &config.alerts,
                Clock::new(),
                metrics.engine.clone(),
            )?;
            engine.load_paused().await;
            Some(engine)
        };
        let metrics_feed = metrics.feed_waiting.clone();
        let config_refusals_every = config.log.refusals_every;
        let access = access::Access::new(&config);
        let analytics = (config.analytics.enabled).then(|| {
            let offset = config.inbound.decode.offset.fixed().local_minus_utc() / 60;
            let max_prompts = config.analytics.max_prompts;
            Arc::new(Analytics::new(max_prompts, i64::from(offset)))
        });
        let state = Arc::new(AppState {
            engine,
            analytics,
            accept_any_app: config.accepts_any_app(),
            config,
            store,
            metrics,
            apps,
            feed: feed::Feed::new(metrics_feed),
            stopping: CancellationToken::new(),
            refusals: refusals::RefusalLog::new(config_refusals_every),
            access,
            sessions: signin::Sessions::default(),
            auth,
            rates,
            replays: auth::Replays::default(),
        });
        Ok(Server {
            listener,
            state,
            tls,
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// What the start-up line says: where reports go, where data lives, which apps are served.
    pub fn startup(&self) -> Startup {
        let listen = self
            .local_addr()
            .map_or_else(|_| "?".into(), |a| a.to_string());
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let st = &self.state;
        let apps = if st.accept_any_app {
            "no [[apps]] configured: accepting any appId (loopback only)".to_owned()
        } else {
            format!("{} app(s) configured", st.apps.len())
        };
        let delivering = st.config.roles.deliver && st.engine.is_some();
        let roles = match (st.config.roles.receive, delivering) {
            (true, true) => format!("reports: POST {}; delivering", st.config.inbound.path),
            (true, false) => format!("reports: POST {}", st.config.inbound.path),
            (false, true) => "not receiving; delivering".to_owned(),
            (false, false) => "not receiving; no destination to deliver to".to_owned(),
        };
        let roles = match st.config.destinations.len() {
            0 => roles,
            n => format!("{roles}; forwarding to {n} destination(s)"),
        };
        Startup {
            url: format!("{scheme}://{listen}"),
            listen,
            data: st.store.location().to_string(),
            roles,
            apps,
        }
    }

    /// Serves until `shutdown`, then answers and commits what is in flight.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ServerError> {
        let state = Arc::clone(&self.state);
        let addr = self.local_addr().map(|a| a.to_string()).unwrap_or_default();
        tracing::info!(listen = %addr, data = %state.store.location(), apps = state.apps.len(),
            destinations = state.config.destinations.len(), receive = state.config.roles.receive,
            deliver = state.config.roles.deliver, version = env!("CARGO_PKG_VERSION"), "started");
        if state.config.api_open {
            tracing::warn!(listen = %addr, "api_open = true: the API and the dashboard at {addr} \
                take every request without a token; whatever is in front of ivrhook must check who comes in");
        }
        for warning in state.config.warnings() {
            tracing::warn!("{warning}");
        }
        let deliver = state.config.roles.deliver;
        let stopping = state.stopping.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            stop.cancelled().await;
            stopping.cancel();
        });
        let engine = (state.engine.clone())
            .filter(|_| deliver)
            .map(|engine| deliver_tasks(&state, engine, &shutdown));
        if let Some(engine) = state.engine.clone() {
            let stop = shutdown.clone();
            tokio::spawn(async move { engine.watch_backlogs(stop).await });
        }
        let summaries = tokio::spawn(summarise_refusals(Arc::clone(&state), shutdown.clone()));
        let counting = tokio::spawn(counting::run(Arc::clone(&state), shutdown.clone()));
        if deliver {
            tokio::spawn(retention::run(Arc::clone(&state), shutdown.clone()));
        }
        let app = router(Arc::clone(&state));
        let limits = listener::Limits {
            header_timeout: state.config.inbound.header_timeout,
            max_connections: state.config.max_connections,
        };
        let acceptor = match self.tls {
            Some((cert, hangups)) => {
                let config = cert.server_config().map_err(ServerError::Tls)?;
                tokio::spawn(reload_on_hangup(cert, hangups, shutdown.clone()));
                Some(tokio_rustls::TlsAcceptor::from(config))
            }
            None => None,
        };
        let metrics = Arc::clone(&state.metrics);
        let served = listener::serve(
            self.listener,
            app,
            limits,
            metrics,
            acceptor,
            shutdown.clone(),
        );
        // A client that never finishes its request must not hold the process forever: after
        // the grace period the remaining requests are abandoned unanswered (never acknowledged).
        let grace = async {
            shutdown.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
            tracing::warn!("requests still open {SHUTDOWN_GRACE:?} after shutdown began; closing");
        };
        tokio::select! {
            () = served => {},
            () = grace => {},
        };
        // Every request still in flight has been answered, and every attempt in flight has been
        // recorded; finish what the writer holds.
        if let Some(engine) = engine {
            let _ = engine.await;
        }
        let _ = summaries.await;
        let _ = counting.await;
        // After the last report, attempt and answer: nothing counted is left behind.
        counting::flush(&state).await;
        state.store.close().await;
        tracing::info!("stopped: every accepted report is stored and every attempt recorded");
        Ok(())
    }
}

/// SIGHUP reads the certificate and key again; a bad pair keeps the old one, and says why.
async fn reload_on_hangup(
    cert: Arc<tls::Certificate>,
    mut hangups: tokio::signal::unix::Signal,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            Some(()) = hangups.recv() => match cert.reload() {
                Ok(()) => tracing::info!("TLS certificate reloaded"),
                Err(e) => tracing::error!(error = %e, "TLS certificate not reloaded: the old one stays"),
            },
            () = shutdown.cancelled() => return,
        }
    }
}

/// A summary of refused reports every `log_refusals_every`, and one at shutdown.
async fn summarise_refusals(state: Arc<AppState>, shutdown: CancellationToken) {
    // Each app and code's period ends `every` after its first refusal: looking four times a
    // period logs its summary at most a quarter period late.
    let look = state.refusals.every() / 4;
    loop {
        tokio::select! {
            () = tokio::time::sleep(look) => state.refusals.summarise(false),
            () = shutdown.cancelled() => return state.refusals.summarise(true),
        }
    }
}

fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new();
    if state.config.roles.receive {
        let path = &state.config.inbound.path;
        router = router.route(path, post(inbound::receive)).route(
            &format!("{}/{{token}}", path.trim_end_matches('/')),
            post(inbound::receive_at_token),
        );
    }
    router
        .route(paths::HEALTHZ, get(ops::healthz))
        .route(paths::METRICS, get(ops::metrics))
        .route(paths::OPENAPI, get(api::openapi_json))
        .route(paths::DOCS, get(api::docs))
        .merge(api::router(Arc::clone(&state)))
        .merge(dashboard::router(Arc::clone(&state)))
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(CatchPanicLayer::custom(ops::panic_answer))
        .with_state(state)
}
