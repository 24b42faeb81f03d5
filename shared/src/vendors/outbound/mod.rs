//! Outbound HTTP for the adapters, in one place: one `reqwest` client built once, no redirects,
//! no proxies, a connect timeout, a per-check deadline, a body-size cap, our User-Agent, and the
//! SSRF guard of [`guard`] on every request (the URL checked before sending, the addresses
//! vetted by the client's own resolver).
//!
//! Sandbox mode (`VENDOR_SANDBOX_URL`) is the one exception: plain http to exactly that
//! loopback `host:port`, nothing else.

mod guard;

pub(crate) use guard::{AddressRefused, GuardedResolver};
pub use guard::{check_outbound_url, host_matches, is_public};

use std::error::Error as StdError;
use std::net::IpAddr;
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

#[cfg(test)]
mod tests {
    use super::guard::tests::fake_dns;
    use super::*;

    const EXTENSOR: &[&str] = &["extensor.no", "*.extensor.no"];

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
