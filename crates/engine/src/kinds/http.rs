//! What the HTTP kinds share: the client, a bounded read of the answer, and a request that
//! got no answer described by its causes.

use super::reach::{refusal, Guarded, Reach};
use crate::{
    classify::{classify_failure, Failure, Verdict},
    transport::Outcome,
};

/// Bytes of an answer read to classify it; the rest is not read.
const MAX_ANSWER: usize = 64 * 1024;
/// Bytes of an answer kept with the attempt.
const EXCERPT: usize = 512;

/// The clients HTTP destinations share, one for each `Reach`: redirects are never followed (a
/// redirect is the destination's answer, not a place to send a report on to), and names
/// resolve only to the addresses the reach permits.
#[derive(Debug, Clone)]
pub struct Clients {
    public: reqwest::Client,
    loopback: reqwest::Client,
    anywhere: reqwest::Client,
}

impl Clients {
    /// The three clients, one per reach.
    pub fn new() -> Result<Clients, reqwest::Error> {
        use_ring_for_tls();
        Ok(Clients {
            public: client(Reach::Public)?,
            loopback: client(Reach::PublicAndLoopback)?,
            anywhere: client(Reach::Anywhere)?,
        })
    }

    /// The client for `reach`.
    pub fn get(&self, reach: Reach) -> &reqwest::Client {
        match reach {
            Reach::Public => &self.public,
            Reach::PublicAndLoopback => &self.loopback,
            Reach::Anywhere => &self.anywhere,
        }
    }
}

/// Makes ring rustls's crypto provider for the process, if none is yet. reqwest is built
/// without a provider of its own (ring is the one every TLS client here uses, and the only
/// crypto library in the binary), and it panics building a client before one is set.
pub fn use_ring_for_tls() {
    // An error means a provider is already set, which is all this asks.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The machine's root certificates (none when it has none: every TLS connection then fails,
/// saying the certificate's issuer is unknown).
pub(crate) fn machine_roots() -> rustls::RootCertStore {
    let mut store = rustls::RootCertStore::empty();
    store.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    store
}

fn client(reach: Reach) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("ivrhook/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(64)
        .dns_resolver(std::sync::Arc::new(Guarded(reach)))
        .build()
}

/// Why `url` will be refused from `reach`, when the URL alone shows it: an address literal
/// or `localhost` out of reach. A name is checked as it resolves.
pub(crate) fn url_refused(url: &reqwest::Url, reach: Reach) -> Option<String> {
    if url.host_str() == Some("localhost") {
        let ip = std::net::Ipv4Addr::LOCALHOST.into();
        return reach
            .refuses(ip)
            .map(|kind| super::reach::refusal("localhost", ip, kind));
    }
    literal_refused(url, reach)
}

/// Why `url`'s host, an address literal, is out of `reach` (a name is checked as it resolves).
pub(crate) fn literal_refused(url: &reqwest::Url, reach: Reach) -> Option<String> {
    let host = url.host_str()?;
    let ip: std::net::IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    let kind = reach.refuses(ip)?;
    Some(refusal(host, ip, kind))
}

/// An answer's status, `Retry-After` and first bytes.
pub(crate) struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

impl Answer {
    /// The attempt's outcome: the verdict, what to keep of the answer, and whether the
    /// destination looks down.
    pub fn outcome(&self, verdict: Verdict, code: Option<String>, down: bool) -> Outcome {
        let error = match &verdict {
            Verdict::Retry { reason, .. } | Verdict::Dead { reason } => Some(reason.clone()),
            _ => None,
        };
        Outcome {
            verdict,
            http_status: Some(self.status),
            code,
            excerpt: self.excerpt(),
            error,
            down,
        }
    }

    fn excerpt(&self) -> Option<String> {
        (!self.body.is_empty()).then(|| {
            String::from_utf8_lossy(&self.body[..self.body.len().min(EXCERPT)]).into_owned()
        })
    }
}

/// Sends the request and reads a bounded answer; a request that got none is its `Outcome`.
pub(crate) async fn exchange(request: reqwest::RequestBuilder) -> Result<Answer, Outcome> {
    let mut response = request.send().await.map_err(|e| failure(&e))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| failure(&e))? {
        let room = MAX_ANSWER - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_ANSWER {
            break;
        }
    }
    Ok(Answer {
        status,
        retry_after,
        body,
    })
}

/// A request that got no answer: always worth another try, and a sign the URL is down.
pub(crate) fn failure(e: &reqwest::Error) -> Outcome {
    let kind = if e.is_timeout() {
        Failure::Timeout
    } else if e.is_connect() {
        Failure::Connect
    } else {
        Failure::Other
    };
    // reqwest names the URL; its query string may carry a key, so it is shown without it.
    let detail = match e.url() {
        Some(url) => e
            .to_string()
            .replace(url.as_str(), &super::shown(url.as_str())),
        None => e.to_string(),
    };
    unanswered(kind, detail, std::error::Error::source(e))
}

/// A request that got no answer, `detail` and each of its causes said once.
pub(crate) fn unanswered(
    kind: Failure,
    mut detail: String,
    mut source: Option<&(dyn std::error::Error + 'static)>,
) -> Outcome {
    while let Some(s) = source {
        // Some errors already print their cause; say each cause once.
        let text = s.to_string();
        if !detail.contains(&text) {
            detail.push_str(": ");
            detail.push_str(&text);
        }
        source = s.source();
    }
    match classify_failure(kind, &detail) {
        Verdict::Retry { reason, .. } => Outcome::unreachable(reason),
        other => Outcome::of(other),
    }
}
