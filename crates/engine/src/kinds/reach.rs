//! Where the HTTP kinds may connect. A callback or webhook URL is the configuration's, but
//! the address its name resolves to is whoever runs the DNS: checking the addresses as the
//! connection is made (in the client's resolver) is what DNS rebinding cannot get around.
//! An address literal in the URL never reaches the resolver and is checked before sending.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};

/// Which addresses an HTTP destination may connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reach {
    /// Public addresses only: the default on a server others can reach.
    Public,
    /// Public and loopback: a server listening on loopback only (development).
    PublicAndLoopback,
    /// `allow_private = true`.
    Anywhere,
}

impl Reach {
    /// Why `ip` is out of reach, or `None` when it may be connected to.
    pub fn refuses(self, ip: IpAddr) -> Option<&'static str> {
        let kind = kind(ip.to_canonical())?;
        match (self, kind) {
            (Reach::Anywhere, _) | (Reach::PublicAndLoopback, "loopback") => None,
            (_, kind) => Some(kind),
        }
    }
}

/// What kind of non-public address `ip` is; `None` for a public one.
fn kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() || (a == 100 && (64..128).contains(&b)) {
                Some("private")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast() || a == 0 {
                Some("non-unicast")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if first & 0xfe00 == 0xfc00 {
                Some("unique-local")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if v6.is_unspecified() || v6.is_multicast() {
                Some("non-unicast")
            } else {
                None
            }
        }
    }
}

/// The sentence an attempt keeps when `host` is out of reach.
pub(crate) fn refusal(host: &str, ip: IpAddr, kind: &str) -> String {
    let what = match host.trim_start_matches('[').trim_end_matches(']') == ip.to_string() {
        true => format!("{ip} is a {kind} address"),
        false => format!("{host} is {ip}, a {kind} address"),
    };
    format!("{what}: not sent {HINT}")
}

/// How every refusal ends, so that one can be told from other failures.
pub(crate) const HINT: &str = "(set allow_private = true on the app or destination to send there)";

/// Resolves names, keeping only the addresses `Reach` permits.
#[derive(Debug)]
pub(crate) struct Guarded(pub Reach);

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let reach = self.0;
        Box::pin(async move {
            let allowed = lookup(reach, name.as_str()).await?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// `host`'s addresses that `reach` permits; an error naming the first when it permits none.
pub(crate) async fn lookup(
    reach: Reach,
    host: &str,
) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
    let all: Vec<SocketAddr> = tokio::net::lookup_host((host, 0)).await?.collect();
    let allowed: Vec<SocketAddr> = (all.iter())
        .filter(|a| reach.refuses(a.ip()).is_none())
        .copied()
        .collect();
    match (allowed.is_empty(), all.first()) {
        (false, _) => Ok(allowed),
        (true, Some(a)) => {
            let kind = reach.refuses(a.ip()).unwrap_or("refused");
            Err(refusal(host, a.ip(), kind).into())
        }
        (true, None) => Err(format!("{host} has no address").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reach_refuses_what_it_should() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for private in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "fd00::1",
            "fe80::1",
            "0.0.0.0",
            "::ffff:10.0.0.1",
        ] {
            assert!(Reach::Public.refuses(ip(private)).is_some(), "{private}");
            assert!(
                Reach::PublicAndLoopback.refuses(ip(private)).is_some(),
                "{private}"
            );
            assert!(Reach::Anywhere.refuses(ip(private)).is_none(), "{private}");
        }
        for loopback in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(Reach::Public.refuses(ip(loopback)), Some("loopback"));
            assert!(Reach::PublicAndLoopback.refuses(ip(loopback)).is_none());
        }
        for public in ["203.0.113.7", "8.8.8.8", "2001:4860::8888"] {
            assert!(Reach::Public.refuses(ip(public)).is_none(), "{public}");
        }
    }
}
