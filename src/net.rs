//! IP addresses and networks, as log lines and `--trusted` name them.
//!
//! - [`Net`]: an IPv4 or IPv6 network (`10.0.0.0/8`, `[::1]/128`, a bare
//!   address), as Postfix writes `mynetworks`, so that
//!   `--trusted "$(postconf -h mynetworks)"` works.
//! - [`never_blocked`]: loopback, private (RFC 1918, RFC 4193), link-local and
//!   unspecified networks, never written to a blocklist whatever `--trusted`
//!   says.
//! - [`network_of`]: the /24 (IPv4) or /64 (IPv6) of an address, computed on
//!   the parsed address (`2001:db8::25` is in `2001:db8::/64`).

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::IpAddr;

/// A network: an address and a prefix length (an [`ipnet::IpNet`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net(IpNet);

/// An address from log text, IPv4-mapped IPv6 (`::ffff:192.0.2.1`) as IPv4.
pub fn ip(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_start_matches('[').trim_end_matches(']');
    let s = s.strip_prefix("IPv6:").unwrap_or(s);
    Some(s.parse::<IpAddr>().ok()?.to_canonical())
}

impl Net {
    /// Parses `a.b.c.d/n`, `[v6]/n`, `v6/n` or a bare address (a host).
    pub fn parse(s: &str) -> Result<Net, String> {
        let bad = || {
            format!("'{s}' is not an address or network (examples: 10.0.0.0/8, [2001:db8::]/32, 192.0.2.1)")
        };
        let (a, len) = match s.rsplit_once('/') {
            Some((a, l)) => (a, Some(l.parse::<u8>().map_err(|_| bad())?)),
            None => (s, None),
        };
        let addr = ip(a).ok_or_else(bad)?;
        // A mapped network (`[::ffff:127.0.0.0]/104`) is the IPv4 network.
        let mapped = addr.is_ipv4() && a.contains(':');
        let len = match len {
            Some(l) if mapped && (96..=128).contains(&l) => Some(l - 96),
            l => l,
        };
        let net = match (addr, len) {
            (a, None) => Ok(IpNet::from(a)),
            (IpAddr::V4(v), Some(l)) => Ipv4Net::new(v, l).map(IpNet::V4),
            (IpAddr::V6(v), Some(l)) => Ipv6Net::new(v, l).map(IpNet::V6),
        };
        net.map(Net).map_err(|_| bad())
    }

    /// Whether the network holds the address.
    pub fn contains(&self, a: IpAddr) -> bool {
        self.0.contains(&a)
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.0.addr(), self.0.prefix_len())
    }
}

/// Networks from `--trusted` values: each value may hold several, separated
/// by spaces or commas (as `postconf -h mynetworks` prints them).
pub fn parse_list(values: &[String]) -> Result<Vec<Net>, String> {
    values
        .iter()
        .flat_map(|v| v.split(|c: char| c.is_whitespace() || c == ','))
        .filter(|s| !s.is_empty())
        .map(|s| Net::parse(s).map_err(|e| format!("--trusted: {e}")))
        .collect()
}

/// Loopback, private (RFC 1918, RFC 4193), link-local, CGNAT and unspecified networks.
pub fn never_blocked() -> Vec<Net> {
    [
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "100.64.0.0/10",
        "0.0.0.0/32",
        "::1/128",
        "::/128",
        "fc00::/7",
        "fe80::/10",
    ]
    .iter()
    .filter_map(|s| Net::parse(s).ok())
    .collect()
}

/// The /24 of an IPv4 address or the /64 of an IPv6 address.
pub fn network_of(a: IpAddr) -> String {
    let net = match a {
        IpAddr::V4(v) => Ipv4Net::new(v, 24).map(|n| IpNet::V4(n.trunc())),
        IpAddr::V6(v) => Ipv6Net::new(v, 64).map(|n| IpNet::V6(n.trunc())),
    };
    net.map(|n| n.to_string()).unwrap_or_else(|_| a.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> IpAddr {
        ip(s).expect("ip")
    }

    #[test]
    fn networks_parse_and_contain() {
        let n = Net::parse("10.0.0.0/8").expect("net");
        assert!(n.contains(a("10.200.1.1")) && !n.contains(a("11.0.0.1")));
        assert!(!n.contains(a("::1")));
        let v6 = Net::parse("[2001:db8::]/32").expect("net");
        assert!(v6.contains(a("2001:db8:ffff::1")) && !v6.contains(a("2001:db9::1")));
        let mapped = Net::parse("[::ffff:127.0.0.0]/104").expect("net");
        assert!(mapped.contains(a("127.0.0.1")));
        let host = Net::parse("192.0.2.7").expect("host");
        assert!(host.contains(a("192.0.2.7")) && !host.contains(a("192.0.2.8")));
        assert!(Net::parse("0.0.0.0/0").expect("all").contains(a("8.8.8.8")));
        for bad in [
            "hash:/etc/postfix/network_table",
            "10.0.0.0/33",
            "x",
            "::1/129",
        ] {
            assert!(Net::parse(bad).is_err(), "{bad}");
        }
        let list = parse_list(&["127.0.0.0/8 [::1]/128, 192.168.1.0/24".into()]).expect("list");
        assert_eq!(list.len(), 3);
        assert!(never_blocked()
            .iter()
            .any(|n| n.contains(a("fd12:3456::1"))));
        assert!(never_blocked()
            .iter()
            .any(|n| n.contains(a("::ffff:127.0.0.1"))));
        assert!(!never_blocked()
            .iter()
            .any(|n| n.contains(a("203.0.113.45"))));
    }

    #[test]
    fn prefixes_are_computed_on_parsed_addresses() {
        assert_eq!(network_of(a("2001:db8::25")), "2001:db8::/64");
        assert_eq!(network_of(a("2001:db8:1:2:3:4:5:6")), "2001:db8:1:2::/64");
        assert_eq!(network_of(a("198.51.100.7")), "198.51.100.0/24");
    }
}
