//! The accept loop: every connection served by hyper (HTTP/1.1, and HTTP/2 for a client that
//! opens with it) within the limits a server on the open internet needs. A connection that
//! has not sent a whole request head within `inbound.header_timeout` is closed, and so is a
//! keep-alive connection idle that long (hyper starts the same timer while it waits for the
//! next request). Past `max_connections` open connections a new one is closed at once rather
//! than queued, so a flood cannot hold the ones that work.

use crate::{early::Early, metrics::Metrics};
use axum::{extract::ConnectInfo, Router};
use hyper::{body::Incoming, service::service_fn, Request};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{
        conn::auto,
        graceful::{GracefulShutdown, Watcher},
    },
};
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tokio::{net::TcpListener, sync::Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

/// Serves until `shutdown`, then stops accepting and returns once every connection has
/// finished its request in flight (the caller bounds that wait). With `tls`, each connection
/// first completes its handshake, within the header timeout.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    metrics: Arc<Metrics>,
    tls: Option<TlsAcceptor>,
    shutdown: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let builder = Arc::new(builder);
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
        let open = metrics.connection_opened();
        let (builder, watcher, app, tls) = (
            Arc::clone(&builder),
            graceful.watcher(),
            app.clone(),
            tls.clone(),
        );
        let metrics = Arc::clone(&metrics);
        tokio::spawn(async move {
            match tls {
                None => {
                    let io = TokioIo::new(Early::new(stream, metrics));
                    one(&builder, watcher, io, app, peer).await;
                }
                Some(tls) => {
                    let handshake = tokio::time::timeout(limits.header_timeout, tls.accept(stream));
                    if let Ok(Ok(stream)) = handshake.await {
                        let io = TokioIo::new(Early::new(stream, metrics));
                        one(&builder, watcher, io, app, peer).await;
                    }
                }
            }
            drop((permit, open));
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// One connection, served until it closes.
async fn one<I>(
    builder: &auto::Builder<TokioExecutor>,
    watcher: Watcher,
    io: TokioIo<I>,
    app: Router,
    peer: SocketAddr,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(req)
    });
    let conn = builder.serve_connection_with_upgrades(io, service);
    let _ = watcher.watch(conn.into_owned()).await;
}
