//! The SSRF guard, both halves. Before a request, [`check_outbound_url`]: the URL must be
//! `https` on one of the system's allowed hosts, with no IP literal, user info or explicit
//! port. At connect time, [`GuardedResolver`]: it is the client's DNS resolver, so the
//! addresses it vets are the ones the connector dials — a name that resolves (or re-resolves,
//! DNS rebinding) to a loopback, private, link-local, CGNAT, multicast, documentation or
//! otherwise non-public address is refused.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

/// The syntactic half of the outbound-URL guard, shared by the catalog's field validation and
/// [`super::Outbound`]: `https` only, a host name (never an IP literal in any spelling — the WHATWG
/// parser turns `2130706433`, `0x7f.1` and `017700000001` into IPv4 addresses, which are then
/// refused), no user info, the default port, and a host on the allow-list. Names are compared
/// after the parser's lowercasing and IDNA mapping; a trailing dot is refused rather than
/// normalised.
///
/// Returns the parsed URL or a stable code. The DNS half (no private or loopback addresses)
/// is [`GuardedResolver`], on the address actually connected to.
pub fn check_outbound_url(allowed_hosts: &[&str], raw: &str) -> Result<url::Url, &'static str> {
    let url = url::Url::parse(raw).map_err(|_| "invalid_url")?;
    if url.scheme() != "https" {
        return Err(if url.scheme() == "http" {
            "https_required"
        } else {
            "invalid_url"
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("userinfo_not_allowed");
    }
    match url.host() {
        Some(url::Host::Domain(host)) => {
            if url.port().is_some() {
                return Err("port_not_allowed");
            }
            if !host_matches(allowed_hosts, host) {
                return Err("host_not_allowed");
            }
        }
        Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => return Err("ip_literal_not_allowed"),
        None => return Err("invalid_url"),
    }
    Ok(url)
}

/// Matches an ASCII-lowercased host name against allow-list patterns (see
/// [`crate::catalog::BookingSystem::allowed_hosts`]).
pub fn host_matches(patterns: &[&str], host: &str) -> bool {
    patterns
        .iter()
        .any(|pattern| match pattern.strip_prefix("*.") {
            Some(parent) => host
                .strip_suffix(parent)
                .and_then(|label| label.strip_suffix('.'))
                .is_some_and(|label| !label.is_empty()),
            None => host == *pattern,
        })
}

/// The resolver's refusal; found again in the error chain by the client.
#[derive(Debug)]
pub(crate) struct AddressRefused;

impl fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("resolved to an address that is not allowed")
    }
}

impl StdError for AddressRefused {}

type LookupFuture = Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>>;

/// Name lookup, replaceable so tests can make a name resolve to any address.
pub(crate) type Lookup = Arc<dyn Fn(String) -> LookupFuture + Send + Sync>;

#[derive(Clone)]
pub(crate) struct GuardedResolver {
    lookup: Lookup,
}

impl GuardedResolver {
    pub(crate) fn system() -> GuardedResolver {
        GuardedResolver {
            lookup: Arc::new(|host: String| {
                Box::pin(
                    async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect()) },
                )
            }),
        }
    }

    #[cfg(test)]
    pub(crate) fn with_lookup(lookup: Lookup) -> GuardedResolver {
        GuardedResolver { lookup }
    }

    /// Every address must be public; one bad address refuses the name (a mix is what DNS
    /// rebinding looks like).
    pub(crate) async fn vet(
        &self,
        host: String,
    ) -> Result<Vec<SocketAddr>, Box<dyn StdError + Send + Sync>> {
        let addrs = (self.lookup)(host).await?;
        if addrs.is_empty() {
            return Err(Box::new(io::Error::new(
                io::ErrorKind::NotFound,
                "no address",
            )));
        }
        if addrs.iter().any(|a| !is_public(a.ip())) {
            return Err(Box::new(AddressRefused));
        }
        Ok(addrs)
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = this.vet(host).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Whether an address is on the public internet. Everything a server-side request could use
/// to reach our own network, the cloud metadata service or the host itself is refused.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                   // "this network", incl. 0.0.0.0
        || a == 10                             // private
        || a == 127                            // loopback
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 169 && b == 254)              // link-local, incl. 169.254.169.254
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)      // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)      // TEST-NET-1
        || (a == 192 && b == 88 && c == 99)    // 6to4 relay anycast
        || (a == 192 && b == 168)              // private
        || (a == 198 && (b == 18 || b == 19))  // benchmarking
        || (a == 198 && b == 51 && c == 100)   // TEST-NET-2
        || (a == 203 && b == 0 && c == 113)    // TEST-NET-3
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // Addresses that embed an IPv4 address are judged by it, and only a public one passes.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] {
        // IPv4-compatible (deprecated), plus :: and ::1.
        return false;
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64 well-known prefix.
        return is_public_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    if s[0] == 0x2002 {
        // 6to4 carries an IPv4 address in bits 16..48.
        return is_public_v4(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    !((s[0] & 0xfe00) == 0xfc00          // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80     // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0     // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00     // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] == 0)       // Teredo: tunnels to anywhere
        || (s[0] == 0x0064 && s[1] == 0xff9b)  // local-use NAT64 64:ff9b:1::/48 and relatives
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0])) // discard-only
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A resolver that knows only `table` (name → address).
    pub(crate) fn fake_dns(table: &[(&str, &str)]) -> GuardedResolver {
        let table: HashMap<String, Vec<SocketAddr>> = table
            .iter()
            .map(|(name, ip)| {
                (
                    name.to_string(),
                    vec![SocketAddr::new(ip.parse().unwrap(), 0)],
                )
            })
            .collect();
        let table = Arc::new(table);
        GuardedResolver::with_lookup(Arc::new(move |host: String| {
            let found = table.get(&host).cloned();
            Box::pin(async move {
                found.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "unknown"))
            })
        }))
    }

    #[test]
    fn non_public_addresses_are_refused() {
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::a9fe:a9fe",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "fec0::1",
            "100::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} must be refused");
        }
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "193.0.0.1",
            "2a00:1450:4010::64",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[tokio::test]
    async fn names_resolving_to_internal_addresses_are_refused() {
        let dns = fake_dns(&[
            ("loop.extensor.no", "127.0.0.1"),
            ("meta.extensor.no", "169.254.169.254"),
            ("mapped.extensor.no", "::ffff:127.0.0.1"),
            ("lan.extensor.no", "192.168.0.10"),
            ("booking.extensor.no", "93.184.216.34"),
        ]);
        for host in [
            "loop.extensor.no",
            "meta.extensor.no",
            "mapped.extensor.no",
            "lan.extensor.no",
        ] {
            let err = dns.vet(host.into()).await.unwrap_err();
            assert!(err.is::<AddressRefused>(), "{host}");
        }
        assert!(dns.vet("booking.extensor.no".into()).await.is_ok());
        // The real resolver: localhost is loopback.
        let err = GuardedResolver::system()
            .vet("localhost".into())
            .await
            .unwrap_err();
        assert!(err.is::<AddressRefused>());
    }

    /// Every production base URL the catalog names passes the guard, for a host it allows.
    #[test]
    fn the_catalogs_default_bases_pass_the_guard() {
        for s in crate::catalog::systems() {
            if let Some(base) = s.default_base_url {
                let url = check_outbound_url(s.allowed_hosts, base).unwrap();
                assert!(host_matches(s.allowed_hosts, url.host_str().unwrap()));
            }
        }
    }
}
