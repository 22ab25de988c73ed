//! The recordings' HTTP client: hyper's own, because its connections can read into a buffer
//! of a fixed size. reqwest's grows with the pace of the body, to several hundred KiB a
//! connection, and many large fetches at once would hold all of it. Names resolve as for
//! every HTTP destination, to the addresses the link's reach permits.

use crate::kinds::{http::machine_roots, reach, Reach};
use bytes::Bytes;
use http_body_util::Empty;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::{
    client::legacy::{
        connect::{dns::Name, HttpConnector},
        Client,
    },
    rt::TokioExecutor,
};
use std::{
    future::Future,
    net::SocketAddr,
    pin::Pin,
    task::{Context, Poll},
};

/// Bytes a connection reads at a time, and all it buffers.
const READ_BUFFER: usize = 64 << 10;

/// An HTTP client for recording links.
pub(crate) type Fetcher = Client<HttpsConnector<HttpConnector<Resolver>>, Empty<Bytes>>;

/// A client for each reach.
#[derive(Debug, Clone)]
pub(crate) struct Fetchers {
    public: Fetcher,
    loopback: Fetcher,
    anywhere: Fetcher,
}

impl Fetchers {
    pub fn new() -> Fetchers {
        let tls = rustls::ClientConfig::builder()
            .with_root_certificates(machine_roots())
            .with_no_client_auth();
        let fetcher = |reach| fetcher(reach, tls.clone());
        Fetchers {
            public: fetcher(Reach::Public),
            loopback: fetcher(Reach::PublicAndLoopback),
            anywhere: fetcher(Reach::Anywhere),
        }
    }

    /// The client for `reach`.
    pub fn get(&self, reach: Reach) -> &Fetcher {
        match reach {
            Reach::Public => &self.public,
            Reach::PublicAndLoopback => &self.loopback,
            Reach::Anywhere => &self.anywhere,
        }
    }
}

fn fetcher(reach: Reach, tls: rustls::ClientConfig) -> Fetcher {
    let mut http = HttpConnector::new_with_resolver(Resolver(reach));
    http.enforce_http(false);
    let https = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new())
        .http1_read_buf_exact_size(READ_BUFFER)
        .build(https)
}

/// Resolves a link's host to the addresses its reach permits.
#[derive(Debug, Clone)]
pub(crate) struct Resolver(Reach);

type Resolving =
    Pin<Box<dyn Future<Output = Result<std::vec::IntoIter<SocketAddr>, BoxError>> + Send>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = BoxError;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Resolving {
        let reach = self.0;
        Box::pin(async move { Ok(reach::lookup(reach, name.as_str()).await?.into_iter()) })
    }
}
