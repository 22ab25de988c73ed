//! Who the client is: the peer, unless the peer is a trusted proxy; then the nearest address
//! in `Forwarded` (or else `X-Forwarded-For`) that is not a trusted proxy itself. Proxies
//! append, so the addresses on the right were written by proxies this server trusts and the
//! first untrusted one from the right is the client as far as anyone trusted saw it.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

pub(crate) fn client_address(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    let peer = peer.ip().to_canonical();
    if !is_trusted(&peer) {
        return peer;
    }
    let chain = forwarded(headers)
        .or_else(|| x_forwarded_for(headers))
        .unwrap_or_default();
    chain
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(chain.first())
        .copied()
        .unwrap_or(peer)
}

/// Every header line's comma-separated values, in order.
fn values<'a>(headers: &'a HeaderMap, name: &str) -> impl Iterator<Item = &'a str> {
    (headers.get_all(name).iter())
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
}

fn x_forwarded_for(headers: &HeaderMap) -> Option<Vec<IpAddr>> {
    let all: Vec<IpAddr> = values(headers, "x-forwarded-for")
        .filter_map(|v| v.parse().ok())
        .collect();
    (!all.is_empty()).then_some(all)
}

/// RFC 7239 `for=` parameters: `for=192.0.2.60`, `for="[2001:db8::1]:4711"`, `for=_hidden`
/// (not an address, skipped).
fn forwarded(headers: &HeaderMap) -> Option<Vec<IpAddr>> {
    let all: Vec<IpAddr> = values(headers, "forwarded")
        .filter_map(|element| {
            let pair = element.split(';').map(str::trim).find_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.eq_ignore_ascii_case("for").then_some(v)
            })?;
            let node = pair.trim_matches('"');
            let host = match node.strip_prefix('[') {
                Some(v6) => v6.split(']').next()?,
                None => node.split(':').next()?,
            };
            host.parse().ok()
        })
        .collect();
    (!all.is_empty()).then_some(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        let stranger: SocketAddr = "198.51.100.9:5000".parse().unwrap();
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        let xff = headers(&[("x-forwarded-for", "203.0.113.7, 10.0.0.3")]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(client_address(proxy, &xff, &trusted), ip("203.0.113.7"));
        assert_eq!(
            client_address(stranger, &xff, &trusted),
            ip("198.51.100.9"),
            "not trusted"
        );
        assert_eq!(
            client_address(proxy, &xff, &[]),
            ip("10.0.0.2"),
            "no one trusted"
        );
        // A client's own forged entry on the left does not hide it: the nearest untrusted wins.
        let forged = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7")]);
        assert_eq!(client_address(proxy, &forged, &trusted), ip("203.0.113.7"));
        let fwd = headers(&[(
            "forwarded",
            "for=\"[2001:db8::1]:4711\";proto=https, for=10.0.0.3",
        )]);
        assert_eq!(client_address(proxy, &fwd, &trusted), ip("2001:db8::1"));
        assert_eq!(
            client_address(proxy, &headers(&[]), &trusted),
            ip("10.0.0.2")
        );
    }
}
