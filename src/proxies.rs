//! The client's address behind a reverse proxy: taken from `X-Forwarded-For` only when the
//! connection comes from a proxy the operator trusts (`PORTAL_TRUSTED_PROXIES`); anyone else
//! could write any address there.

use std::{
    net::{IpAddr, SocketAddr},
    str::FromStr,
    sync::Arc,
};

use anyhow::Context;
use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::Response,
};

/// The addresses and CIDR ranges of the trusted proxies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Range>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Range {
    network: IpAddr,
    prefix: u8,
}

impl Range {
    fn contains(self, address: IpAddr) -> bool {
        let (network, address, width) = match (self.network, canonical(address)) {
            (IpAddr::V4(network), IpAddr::V4(address)) => (
                u128::from(network.to_bits()),
                u128::from(address.to_bits()),
                32,
            ),
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                (network.to_bits(), address.to_bits(), 128)
            }
            _ => return false,
        };
        let shift = width - u32::from(self.prefix);
        shift >= 128 || (network >> shift) == (address >> shift)
    }
}

impl FromStr for Range {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<Self> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network = canonical(address.parse().context("not an IP address")?);
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= width)
                .context("not a prefix length")?,
            None => width,
        };
        Ok(Self { network, prefix })
    }
}

/// IPv4 addresses seen through an IPv6 socket compare as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

impl TrustedProxies {
    /// A comma-separated list of addresses and CIDR ranges (`10.0.0.0/8, ::1`).
    pub fn parse(list: &str) -> anyhow::Result<Self> {
        list.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| item.parse().with_context(|| format!("{item:?}")))
            .collect::<anyhow::Result<_>>()
            .map(Self)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(address))
    }

    /// The client of a connection from `peer` that says `forwarded_for`: walking the list
    /// from the nearest hop, the first address that is not a trusted proxy.
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let Some(forwarded_for) = forwarded_for else {
            return peer;
        };
        let mut client = peer;
        for hop in forwarded_for.rsplit(',') {
            let Ok(address) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = canonical(address);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// Replaces the connection's address by the client's, where a trusted proxy forwarded it.
pub async fn client_address(
    State(trusted): State<Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .copied()
    {
        let forwarded_for = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        let forwarded_for = Some(forwarded_for.as_str()).filter(|list| !list.is_empty());
        let client = trusted.client(peer.ip(), forwarded_for);
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(client, peer.port())));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn the_client_is_the_first_hop_that_is_not_a_trusted_proxy() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.0.2.1").unwrap_or_default();
        let cases = [
            ("10.1.2.3", Some("203.0.113.9"), "203.0.113.9"),
            (
                "10.1.2.3",
                Some("198.51.100.1, 203.0.113.9, 10.0.0.7"),
                "203.0.113.9",
            ),
            ("192.0.2.1", Some("garbage, 203.0.113.9"), "203.0.113.9"),
            ("10.1.2.3", None, "10.1.2.3"),
            ("10.1.2.3", Some("10.0.0.8, 10.0.0.7"), "10.0.0.8"),
            // Anyone else's header is ignored.
            ("198.51.100.7", Some("203.0.113.9"), "198.51.100.7"),
            ("::ffff:10.1.2.3", Some("203.0.113.9"), "203.0.113.9"),
        ];
        for (peer, forwarded_for, client) in cases {
            assert_eq!(
                trusted.client(ip(peer), forwarded_for),
                ip(client),
                "{peer} {forwarded_for:?}"
            );
        }
    }

    #[test]
    fn lists_are_addresses_and_ranges() {
        assert!(TrustedProxies::parse("10.0.0.0/8,::1,fd00::/8").is_ok());
        assert_eq!(
            TrustedProxies::parse("").ok(),
            Some(TrustedProxies::default())
        );
        for bad in ["10.0.0.0/33", "proxy.internal", "10.0.0.0/x"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
        let everything = TrustedProxies::parse("0.0.0.0/0").unwrap_or_default();
        assert!(everything.trusts(ip("203.0.113.9")));
    }
}
