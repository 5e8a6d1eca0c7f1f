//! Which network addresses a webhook may reach: only the public internet, so that an endpoint
//! cannot be pointed at the service's own network (a database, a cloud metadata service).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where an address lies, as far as webhooks care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// The public internet.
    Public,
    /// This host (127.0.0.0/8, ::1): allowed over `http://` for tests and local development
    /// when configured.
    Loopback,
    /// Private, shared, link-local (cloud metadata at 169.254.169.254 among them),
    /// unspecified, multicast, documentation or reserved: never.
    Internal,
}

/// Classifies `ip`; an IPv4 address mapped into IPv6 counts as the IPv4 address.
pub fn reach(ip: IpAddr) -> Reach {
    match ip {
        IpAddr::V4(v4) => reach_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => reach_v4(v4),
            None => reach_v6(v6),
        },
    }
}

fn reach_v4(ip: Ipv4Addr) -> Reach {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        return Reach::Loopback;
    }
    let internal = ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (carrier-grade NAT).
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments.
        || (a == 192 && b == 0 && c == 0)
        // Benchmarking.
        || (a == 198 && (18..20).contains(&b))
        // Reserved for future use.
        || a >= 240;
    if internal {
        Reach::Internal
    } else {
        Reach::Public
    }
}

fn reach_v6(ip: Ipv6Addr) -> Reach {
    if ip.is_loopback() {
        return Reach::Loopback;
    }
    let first = ip.segments()[0];
    let internal = ip.is_unspecified()
        || ip.is_multicast()
        // Unique local (fc00::/7), where cloud metadata also lives (fd00:ec2::254).
        || (first & 0xfe00) == 0xfc00
        // Link-local (fe80::/10) and the deprecated site-local (fec0::/10).
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        // Documentation.
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // IPv4-compatible and NAT64 forms could smuggle an internal IPv4 address.
        || ip.segments()[..6].iter().all(|segment| *segment == 0)
        || (first == 0x0064 && ip.segments()[1] == 0xff9b);
    if internal {
        Reach::Internal
    } else {
        Reach::Public
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_by_reach() {
        let cases = [
            ("93.184.215.14", Reach::Public),
            ("8.8.8.8", Reach::Public),
            ("2606:4700::1111", Reach::Public),
            ("127.0.0.1", Reach::Loopback),
            ("127.8.0.1", Reach::Loopback),
            ("::1", Reach::Loopback),
            ("::ffff:127.0.0.1", Reach::Loopback),
            ("10.1.2.3", Reach::Internal),
            ("172.16.0.1", Reach::Internal),
            ("172.31.255.255", Reach::Internal),
            ("192.168.1.1", Reach::Internal),
            ("169.254.169.254", Reach::Internal),
            ("100.64.0.1", Reach::Internal),
            ("0.0.0.0", Reach::Internal),
            ("255.255.255.255", Reach::Internal),
            ("224.0.0.1", Reach::Internal),
            ("192.0.2.1", Reach::Internal),
            ("198.18.0.1", Reach::Internal),
            ("::ffff:10.0.0.1", Reach::Internal),
            ("::", Reach::Internal),
            ("fd00:ec2::254", Reach::Internal),
            ("fe80::1", Reach::Internal),
            ("ff02::1", Reach::Internal),
            ("2001:db8::1", Reach::Internal),
            ("64:ff9b::a00:1", Reach::Internal),
        ];
        for (address, expected) in cases {
            let ip: IpAddr = address.parse().unwrap();
            assert_eq!(reach(ip), expected, "{address}");
        }
    }
}
