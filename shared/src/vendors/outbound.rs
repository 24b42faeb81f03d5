//! Outbound HTTP for the adapters, in one place: one `reqwest` client built once, no redirects,
//! no proxies, a connect timeout, a per-check deadline, a body-size cap, our User-Agent, and the
//! SSRF guard.
//!
//! The guard has two halves. Before a request: the URL must be `https` on one of the system's
//! allowed hosts, with no IP literal, user info or explicit port
//! ([`crate::catalog::check_outbound_url`]). At connect time: [`GuardedResolver`] is the
//! client's DNS resolver, so the addresses it vets are the ones the connector dials — a name
//! that resolves (or re-resolves, DNS rebinding) to a loopback, private, link-local, CGNAT,
//! multicast, documentation or otherwise non-public address is refused.
//!
//! Sandbox mode (`VENDOR_SANDBOX_URL`) is the one exception: plain http to exactly that
//! loopback `host:port`, nothing else.

use crate::catalog::check_outbound_url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

pub const USER_AGENT: &str = "Bookinglink/0.1 (+connection check)";
/// Vendors answer a check with a few calendars; anything bigger is not an answer we want.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Keeps a whole check (all its requests) under the 10 s the form waits for.
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(8000);
/// What API calls accept.
const ACCEPT_JSON: &str = "application/json";
/// What a browser opening a booking page accepts.
const ACCEPT_PAGE: &str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8";

/// Why a request produced no usable response. Never carries the URL or a header value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FetchError {
    Timeout,
    Unreachable,
    /// The URL failed the syntactic guard; the code is the catalog's.
    UrlRefused(&'static str),
    /// DNS gave an address we do not connect to.
    AddressRefused,
    Redirect,
    TooLarge,
}

pub(crate) struct Fetched {
    pub status: u16,
    pub body: Vec<u8>,
}

pub(crate) enum Auth<'a> {
    None,
    Bearer(&'a str),
}

/// A loopback origin that may be called over plain http (the vendor sandbox).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SandboxOrigin {
    pub host: IpAddr,
    pub port: u16,
}

impl SandboxOrigin {
    /// Only `http://127.0.0.1:PORT` or `http://[::1]:PORT` (no path): an IP literal, so no DNS
    /// answer can widen it.
    pub(crate) fn parse(raw: &str) -> Option<(SandboxOrigin, Url)> {
        let url = Url::parse(raw.trim_end_matches('/')).ok()?;
        let host = match url.host()? {
            url::Host::Ipv4(ip) => IpAddr::V4(ip),
            url::Host::Ipv6(ip) => IpAddr::V6(ip),
            url::Host::Domain(_) => return None,
        };
        let plain = url.scheme() == "http"
            && host.is_loopback()
            && url.username().is_empty()
            && url.password().is_none()
            && url.path() == "/"
            && url.query().is_none();
        let port = url.port()?;
        plain.then_some((SandboxOrigin { host, port }, url))
    }

    fn matches(&self, url: &Url) -> bool {
        let host = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            _ => return false,
        };
        url.scheme() == "http"
            && host == self.host
            && url.port() == Some(self.port)
            && url.username().is_empty()
            && url.password().is_none()
    }
}

pub(crate) struct Outbound {
    client: reqwest::Client,
    sandbox: Option<SandboxOrigin>,
    pub(crate) deadline: Duration,
}

impl Outbound {
    pub(crate) fn new(
        connect_timeout: Duration,
        deadline: Duration,
        sandbox: Option<SandboxOrigin>,
        resolver: GuardedResolver,
    ) -> Result<Outbound, reqwest::Error> {
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(crate::tls::client_config())
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(connect_timeout)
            .timeout(deadline)
            .https_only(sandbox.is_none())
            .dns_resolver(Arc::new(resolver))
            .build()?;
        Ok(Outbound {
            client,
            sandbox,
            deadline,
        })
    }

    /// The guard's first half, applied to every request.
    pub(crate) fn permit(&self, url: &Url, allowed_hosts: &[&str]) -> Result<(), FetchError> {
        if self.sandbox.as_ref().is_some_and(|s| s.matches(url)) {
            return Ok(());
        }
        check_outbound_url(allowed_hosts, url.as_str())
            .map(drop)
            .map_err(FetchError::UrlRefused)
    }

    pub(crate) async fn get(
        &self,
        url: &Url,
        allowed_hosts: &[&str],
        auth: Auth<'_>,
        deadline: Instant,
    ) -> Result<Fetched, FetchError> {
        self.send(url, allowed_hosts, auth, None, ACCEPT_JSON, deadline)
            .await
    }

    /// A web page, as a browser would ask for it (no credentials).
    pub(crate) async fn get_page(
        &self,
        url: &Url,
        allowed_hosts: &[&str],
        deadline: Instant,
    ) -> Result<Fetched, FetchError> {
        self.send(url, allowed_hosts, Auth::None, None, ACCEPT_PAGE, deadline)
            .await
    }

    pub(crate) async fn post_json(
        &self,
        url: &Url,
        allowed_hosts: &[&str],
        body: Vec<u8>,
        deadline: Instant,
    ) -> Result<Fetched, FetchError> {
        self.send(
            url,
            allowed_hosts,
            Auth::None,
            Some(body),
            ACCEPT_JSON,
            deadline,
        )
        .await
    }

    /// A GET, or a POST of `body` when there is one.
    async fn send(
        &self,
        url: &Url,
        allowed_hosts: &[&str],
        auth: Auth<'_>,
        body: Option<Vec<u8>>,
        accept: &'static str,
        deadline: Instant,
    ) -> Result<Fetched, FetchError> {
        self.permit(url, allowed_hosts)?;
        let remaining = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or(FetchError::Timeout)?;
        let mut request = self
            .client
            .request(
                if body.is_some() {
                    reqwest::Method::POST
                } else {
                    reqwest::Method::GET
                },
                url.clone(),
            )
            .timeout(remaining)
            .header(reqwest::header::ACCEPT, accept);
        if let Auth::Bearer(token) = auth {
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
                // A key that is not a valid header value cannot be right; say so without it.
                .map_err(|_| FetchError::UrlRefused("invalid_value"))?;
            value.set_sensitive(true);
            request = request.header(reqwest::header::AUTHORIZATION, value);
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let exchange = async {
            let mut response = request.send().await.map_err(classify)?;
            let status = response.status();
            if status.is_redirection() {
                return Err(FetchError::Redirect);
            }
            if response
                .content_length()
                .is_some_and(|len| len > MAX_BODY_BYTES as u64)
            {
                return Err(FetchError::TooLarge);
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(classify)? {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(FetchError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Fetched {
                status: status.as_u16(),
                body,
            })
        };
        tokio::time::timeout_at(deadline, exchange)
            .await
            .unwrap_or(Err(FetchError::Timeout))
    }
}

fn classify(error: reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn StdError + 'static)> = Some(&error);
    while let Some(e) = source {
        if e.is::<AddressRefused>() {
            return FetchError::AddressRefused;
        }
        source = e.source();
    }
    if error.is_timeout() {
        FetchError::Timeout
    } else {
        FetchError::Unreachable
    }
}

/// The resolver's refusal; found again in the error chain by [`classify`].
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
mod tests {
    use super::*;
    use std::collections::HashMap;

    const EXTENSOR: &[&str] = &["extensor.no", "*.extensor.no"];

    fn fake_dns(table: &[(&str, &str)]) -> GuardedResolver {
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

    fn outbound(dns: GuardedResolver, sandbox: Option<&str>) -> Outbound {
        let sandbox = sandbox.map(|s| SandboxOrigin::parse(s).unwrap().0);
        Outbound::new(Duration::from_secs(1), Duration::from_secs(2), sandbox, dns).unwrap()
    }

    /// End to end through the client: the resolver's refusal surfaces as `AddressRefused`,
    /// before any connection is made.
    #[tokio::test]
    async fn the_client_connects_only_to_vetted_addresses() {
        let dns = fake_dns(&[
            ("meta.extensor.no", "169.254.169.254"),
            ("loop.extensor.no", "::1"),
        ]);
        let out = outbound(dns, None);
        let deadline = Instant::now() + Duration::from_secs(2);
        for url in [
            "https://meta.extensor.no/latest/meta-data/",
            "https://loop.extensor.no/",
        ] {
            let url = Url::parse(url).unwrap();
            let err = out.get(&url, EXTENSOR, Auth::None, deadline).await.err();
            assert_eq!(err, Some(FetchError::AddressRefused), "{url}");
        }
    }

    #[tokio::test]
    async fn guard_refuses_bypasses_before_sending() {
        let out = outbound(fake_dns(&[]), Some("http://127.0.0.1:4000"));
        let deadline = Instant::now() + Duration::from_secs(2);
        let cases = [
            ("http://booking.extensor.no/", "https_required"),
            ("https://127.0.0.1/", "ip_literal_not_allowed"),
            ("https://2130706433/", "ip_literal_not_allowed"),
            ("https://[::ffff:7f00:1]/", "ip_literal_not_allowed"),
            ("https://169.254.169.254/", "ip_literal_not_allowed"),
            ("https://a:b@booking.extensor.no/", "userinfo_not_allowed"),
            ("https://booking.extensor.no:8443/", "port_not_allowed"),
            ("https://extensor.no.evil.com/", "host_not_allowed"),
            ("https://evilextensor.no/", "host_not_allowed"),
            // Sandbox mode allows exactly its own origin, nothing near it.
            ("http://127.0.0.1:4001/", "https_required"),
            ("http://localhost:4000/", "https_required"),
            ("http://[::1]:4000/", "https_required"),
        ];
        for (raw, code) in cases {
            let url = Url::parse(raw).unwrap();
            let err = out.get(&url, EXTENSOR, Auth::None, deadline).await.err();
            assert_eq!(err, Some(FetchError::UrlRefused(code)), "{raw}");
        }
        assert!(
            out.permit(&Url::parse("http://127.0.0.1:4000/x").unwrap(), EXTENSOR)
                .is_ok()
        );
    }

    #[test]
    fn sandbox_origin_is_a_loopback_ip_literal_over_http() {
        assert!(SandboxOrigin::parse("http://127.0.0.1:4000").is_some());
        assert!(SandboxOrigin::parse("http://127.0.0.1:4000/").is_some());
        assert!(SandboxOrigin::parse("http://[::1]:4000").is_some());
        for bad in [
            "http://localhost:4000",
            "http://10.0.0.1:4000",
            "https://127.0.0.1:4000",
            "http://127.0.0.1",
            "http://127.0.0.1:4000/prefix",
            "http://u@127.0.0.1:4000",
        ] {
            assert!(SandboxOrigin::parse(bad).is_none(), "{bad}");
        }
    }
}
