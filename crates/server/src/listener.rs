//! The accept loop: every connection served by hyper (HTTP/1.1, and HTTP/2 for a client that
//! opens with it) within the limits a server on the open internet needs. A connection that
//! has not sent a whole request head within `inbound.header_timeout` is closed, and so is a
//! keep-alive connection idle that long (hyper starts the same timer while it waits for the
//! next request). Past `max_connections` open connections a new one is closed at once rather
//! than queued, so a flood cannot hold the ones that work.

use crate::metrics::Metrics;
use axum::{extract::ConnectInfo, Router};
use hyper::{body::Incoming, service::service_fn, Request};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
};
use std::{sync::Arc, time::Duration};
use tokio::{net::TcpListener, sync::Semaphore};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

/// Serves until `shutdown`, then stops accepting and returns once every connection has
/// finished its request in flight (the caller bounds that wait).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: let some connections end.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            metrics.connection_refused();
            drop(stream);
            continue;
        };
        let app = app.clone();
        let service = service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req)
        });
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let conn = graceful.watch(conn.into_owned());
        let open = metrics.connection_opened();
        tokio::spawn(async move {
            let _ = conn.await;
            drop((permit, open));
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
