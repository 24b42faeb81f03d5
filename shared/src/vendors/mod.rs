//! Vendor adapters: the "Test kobling" check for each booking system.
//!
//! A check only reads: it never books, cancels or changes anything at the vendor. Each
//! adapter module turns one vendor's answers into a [`CheckReport`]; the HTTP client, its
//! limits and the SSRF guard live once, in [`outbound`].
//!
//! Configuration ([`VendorsConfig::from_env`]):
//! - `VENDOR_BASE_URL_PASIENTSKY`, `VENDOR_BASE_URL_EASYPRACTICE`, `VENDOR_BASE_URL_PHYSICA`,
//!   `VENDOR_BASE_URL_PSYKBASE`, `VENDOR_BASE_URL_HANO`, `VENDOR_BASE_URL_KONFIDENS`: the API
//!   base per vendor. Must be `https` on a host in the system's catalog `allowed_hosts`.
//!   Pasientsky and EasyPractice default to their public production APIs; the four vendors with
//!   an unconfirmed contract have no default, and their checks report `vendor_not_configured`
//!   until one is set. Extensor has none: it calls the administrator's booking URL. An empty
//!   value is the same as none.
//! - `VENDOR_ALLOWED_HOSTS_PHYSICA`, `VENDOR_ALLOWED_HOSTS_PSYKBASE`: the hosts those adapters
//!   may call, comma-separated (`api.example.no`, `*.example.no`), replacing the catalog's
//!   default (`*.aspit.no`), which no vendor has confirmed. Only systems whose catalog entry says
//!   `allowed_hosts_configurable` take one; for any other system the variable is refused.
//! - `VENDOR_TIMEOUT_MS`: the deadline for a whole check (default 8000, at most 9000 so a check
//!   stays under 10 s). The connect timeout is 3 s or the deadline, whichever is shorter.
//! - `VENDOR_SANDBOX_URL=http://127.0.0.1:PORT`: local development and tests only, never set in
//!   the SAM template. Every adapter then calls `{sandbox}/{system id}/...` instead of its base,
//!   and plain http is allowed to exactly that loopback origin. An Extensor booking URL is first
//!   checked as typed (https, Extensor host, no IP/userinfo/port) and then sent to
//!   `{sandbox}/extensor{path}?{query}` — the DNS half of the guard is not exercised then; its
//!   unit tests cover it.

mod contract;
mod easypractice;
mod extensor;
mod hano;
mod konfidens;
pub mod outbound;
mod pasientsky;
mod physica;
mod psykbase;
mod report;

pub use report::{CheckCode, CheckOutcome, CheckReport, CheckStep, StepId, StepStatus};

use crate::catalog::{self, BookingDetails, BookingSystem, FieldId};
use outbound::{FetchError, Fetched, GuardedResolver, Outbound, SandboxOrigin, check_outbound_url};
use report::Plan;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// The connection check, behind a trait so handlers can be tested with a fake.
#[async_trait::async_trait]
pub trait VendorCheck: Send + Sync {
    async fn check(&self, system: &BookingSystem, details: &BookingDetails) -> CheckReport;
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{var}: {reason}")]
    Invalid { var: String, reason: String },
    #[error("building the HTTP client failed: {0}")]
    Client(#[from] reqwest::Error),
}

#[derive(Clone, Debug)]
pub struct VendorsConfig {
    /// Base URL overrides by system id.
    pub base_urls: HashMap<String, String>,
    /// Allowed-host overrides by system id (raw, comma-separated patterns).
    pub allowed_hosts: HashMap<String, String>,
    pub sandbox_url: Option<String>,
    pub deadline: Duration,
}

pub const MAX_DEADLINE: Duration = Duration::from_millis(9000);

impl Default for VendorsConfig {
    fn default() -> Self {
        VendorsConfig {
            base_urls: HashMap::new(),
            allowed_hosts: HashMap::new(),
            sandbox_url: None,
            deadline: outbound::DEFAULT_DEADLINE,
        }
    }
}

impl VendorsConfig {
    pub fn from_env() -> Result<VendorsConfig, ConfigError> {
        let mut config = VendorsConfig::default();
        for system in catalog::systems() {
            let set = |var: String| std::env::var(var).ok().filter(|v| !v.trim().is_empty());
            if let Some(value) = set(base_url_var(system.id)) {
                config.base_urls.insert(system.id.to_owned(), value);
            }
            if let Some(value) = set(allowed_hosts_var(system.id)) {
                config.allowed_hosts.insert(system.id.to_owned(), value);
            }
        }
        config.sandbox_url = std::env::var("VENDOR_SANDBOX_URL")
            .ok()
            .filter(|v| !v.is_empty());
        if let Ok(ms) = std::env::var("VENDOR_TIMEOUT_MS") {
            let ms: u64 = ms.parse().map_err(|_| ConfigError::Invalid {
                var: "VENDOR_TIMEOUT_MS".into(),
                reason: "not a number of milliseconds".into(),
            })?;
            config.deadline = Duration::from_millis(ms);
        }
        Ok(config)
    }

    /// Every adapter pointed at a local sandbox, e.g. `http://127.0.0.1:41234`.
    pub fn sandbox(url: &str, deadline: Duration) -> VendorsConfig {
        VendorsConfig {
            sandbox_url: Some(url.to_owned()),
            deadline,
            ..VendorsConfig::default()
        }
    }
}

/// `VENDOR_BASE_URL_` + the upper-cased system id.
pub fn base_url_var(system_id: &str) -> String {
    format!("VENDOR_BASE_URL_{}", system_id.to_ascii_uppercase())
}

/// `VENDOR_ALLOWED_HOSTS_` + the upper-cased system id.
pub fn allowed_hosts_var(system_id: &str) -> String {
    format!("VENDOR_ALLOWED_HOSTS_{}", system_id.to_ascii_uppercase())
}

/// Parses an allowed-hosts setting: comma-separated host names, each optionally `*.` for its
/// subdomains. Names are lower-cased; IP addresses, single labels and a wildcard over a bare
/// top-level domain (`*.no`) are refused.
pub fn parse_allowed_hosts(raw: &str) -> Result<Vec<String>, String> {
    let mut hosts = Vec::new();
    for pattern in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let pattern = pattern.to_ascii_lowercase();
        let name = pattern.strip_prefix("*.").unwrap_or(&pattern);
        let labels: Vec<&str> = name.split('.').collect();
        let label_ok = |l: &&str| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        let top_is_alpha = labels
            .last()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_alphabetic()));
        if labels.len() < 2 || !labels.iter().all(label_ok) || !top_is_alpha {
            return Err(format!(
                "{pattern:?} is not a host name like api.example.no or *.example.no"
            ));
        }
        hosts.push(pattern);
    }
    if hosts.is_empty() {
        return Err("no host given".into());
    }
    Ok(hosts)
}

/// The adapters behind one shared HTTP client. Build once per Lambda instance.
pub struct Vendors {
    outbound: Outbound,
    bases: HashMap<&'static str, Url>,
    /// Allowed hosts per system: the catalog's, or the environment's where it may set them.
    hosts: HashMap<&'static str, Vec<String>>,
    sandbox_base: Option<Url>,
}

impl Vendors {
    pub fn from_env() -> Result<Vendors, ConfigError> {
        Vendors::new(VendorsConfig::from_env()?)
    }

    pub fn new(config: VendorsConfig) -> Result<Vendors, ConfigError> {
        let sandbox = match &config.sandbox_url {
            None => None,
            Some(raw) => Some(
                SandboxOrigin::parse(raw).ok_or_else(|| ConfigError::Invalid {
                    var: "VENDOR_SANDBOX_URL".into(),
                    reason: "must be http://127.0.0.1:PORT or http://[::1]:PORT".into(),
                })?,
            ),
        };
        let mut bases = HashMap::new();
        let mut hosts = HashMap::new();
        for system in catalog::systems() {
            let allowed = match config.allowed_hosts.get(system.id) {
                None => system.allowed_hosts.iter().map(|h| h.to_string()).collect(),
                Some(_) if !system.allowed_hosts_configurable => {
                    return Err(ConfigError::Invalid {
                        var: allowed_hosts_var(system.id),
                        reason: "this system's hosts are not a setting".into(),
                    });
                }
                Some(raw) => parse_allowed_hosts(raw).map_err(|reason| ConfigError::Invalid {
                    var: allowed_hosts_var(system.id),
                    reason,
                })?,
            };
            let allowed_refs: Vec<&str> = allowed.iter().map(String::as_str).collect();
            let raw = config
                .base_urls
                .get(system.id)
                .map(String::as_str)
                .or(system.default_base_url);
            let checked = raw.map(|raw| {
                check_outbound_url(&allowed_refs, raw.trim_end_matches('/')).map_err(|code| {
                    ConfigError::Invalid {
                        var: base_url_var(system.id),
                        reason: format!("{code}: must be https on {}", allowed.join(", ")),
                    }
                })
            });
            if let Some(url) = checked.transpose()? {
                bases.insert(system.id, url);
            }
            hosts.insert(system.id, allowed);
        }
        let deadline = config.deadline.min(MAX_DEADLINE);
        let connect = outbound::DEFAULT_CONNECT_TIMEOUT.min(deadline);
        let (sandbox_origin, sandbox_base) = sandbox.unzip();
        let outbound = Outbound::new(connect, deadline, sandbox_origin, GuardedResolver::system())?;
        Ok(Vendors {
            outbound,
            bases,
            hosts,
            sandbox_base,
        })
    }

    /// Where this system's API lives: the sandbox in sandbox mode, else the configured base.
    fn base(&self, system: &BookingSystem) -> Option<Url> {
        match &self.sandbox_base {
            Some(sandbox) => Some(endpoint(sandbox, &[system.id])),
            None => self.bases.get(system.id).cloned(),
        }
    }
}

#[async_trait::async_trait]
impl VendorCheck for Vendors {
    async fn check(&self, system: &BookingSystem, details: &BookingDetails) -> CheckReport {
        let details = details.trimmed();
        let plan = Plan::new(system, &steps(system, &details));
        let report = match refuse_input(system, &details) {
            Some((code, field)) => plan.fail(StepId::VendorReachable, code, Some(field)),
            None => {
                let allowed_hosts: Vec<&str> = self
                    .hosts
                    .get(system.id)
                    .map(|hosts| hosts.iter().map(String::as_str).collect())
                    .unwrap_or_else(|| system.allowed_hosts.to_vec());
                let ctx = Ctx {
                    out: &self.outbound,
                    allowed_hosts: &allowed_hosts,
                    deadline: Instant::now() + self.outbound.deadline,
                };
                // Extensor is reached at the booking URL the administrator entered; every
                // other system at its configured base, and without one nothing can be checked.
                match (system.id, self.base(system)) {
                    ("extensor", _) => {
                        extensor::check(&ctx, &self.sandbox_base, plan, &details).await
                    }
                    (_, None) => plan.fail_next(CheckCode::VendorNotConfigured, None),
                    ("pasientsky", Some(base)) => {
                        pasientsky::check(&ctx, base, plan, &details).await
                    }
                    ("easypractice", Some(base)) => {
                        easypractice::check(&ctx, base, plan, &details).await
                    }
                    ("physica", Some(base)) => {
                        contract::check(&physica::CONTRACT, &ctx, base, plan, &details).await
                    }
                    ("psykbase", Some(base)) => {
                        contract::check(&psykbase::CONTRACT, &ctx, base, plan, &details).await
                    }
                    ("hano", Some(base)) => {
                        contract::check(&hano::CONTRACT, &ctx, base, plan, &details).await
                    }
                    ("konfidens", Some(base)) => {
                        contract::check(&konfidens::CONTRACT, &ctx, base, plan, &details).await
                    }
                    (_, Some(_)) => plan.fail_next(CheckCode::VendorNotConfigured, None),
                }
            }
        };
        let failed = report.failed_step();
        tracing::info!(
            system = system.id,
            outcome = ?report.outcome(),
            step = ?failed.map(|s| s.step),
            code = ?failed.map(|s| s.code),
            "connection check"
        );
        report
    }
}

/// Which steps apply to a system (see [`report`] for the rules).
fn steps(system: &BookingSystem, details: &BookingDetails) -> Vec<StepId> {
    let mut steps = vec![StepId::VendorReachable];
    if system.uses(FieldId::ApiKey) {
        steps.push(StepId::KeyAccepted);
    }
    if system.id == "easypractice" {
        // The token is the account (the clinic) and the public API shows no booking settings.
        return steps;
    }
    steps.push(StepId::ClinicFound);
    let department = system.field(FieldId::ExternalDepartmentId);
    if department.is_some_and(|f| f.required || details.value(f.id).is_some()) {
        steps.push(StepId::DepartmentFound);
    }
    steps.push(StepId::OnlineBookingOpen);
    steps
}

/// Runs the catalog's validation; a check never sends what the form would refuse. Unused
/// fields are not an error here: they are simply not sent.
fn refuse_input(system: &BookingSystem, details: &BookingDetails) -> Option<(CheckCode, FieldId)> {
    let issue = catalog::validate(system, details, false)
        .into_iter()
        .find(|i| i.code != "not_used_by_system")?;
    Some((input_code(issue.code), issue.field))
}

fn input_code(code: &str) -> CheckCode {
    match code {
        "required" => CheckCode::Required,
        "https_required" => CheckCode::HttpsRequired,
        "host_not_allowed"
        | "ip_literal_not_allowed"
        | "userinfo_not_allowed"
        | "port_not_allowed" => CheckCode::HostNotAllowed,
        _ => CheckCode::InvalidDetails,
    }
}

/// What every adapter gets: the shared client, the hosts it may call and the check's deadline.
pub(crate) struct Ctx<'a> {
    out: &'a Outbound,
    allowed_hosts: &'a [&'a str],
    deadline: Instant,
}

impl Ctx<'_> {
    fn allowed_hosts(&self) -> &[&str] {
        self.allowed_hosts
    }
}

/// `base` with path segments appended, each percent-encoded (including `/`), so an entered id
/// can never change the path it is placed in.
fn endpoint(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// What a vendor's answer to the first request of a check means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// Go on and read the body.
    Answered,
    KeyRejected,
    KeyLacksAccess,
    ClinicUnknown,
    VendorError,
}

/// The reading of our own contract: 200 goes on, 401/403 mean the key was rejected, 404 (when
/// the request names a clinic) that the clinic is unknown, anything else is the vendor's error.
fn contract_status(status: u16, names_clinic: bool) -> Verdict {
    match status {
        200 => Verdict::Answered,
        401 | 403 => Verdict::KeyRejected,
        404 if names_clinic => Verdict::ClinicUnknown,
        _ => Verdict::VendorError,
    }
}

/// Reads the first answer of a check that sends the key (and maybe names the clinic): `read`
/// turns the status into a [`Verdict`]; a request that got no answer becomes its outage code.
/// `Err` is the finished report.
fn first_answer(
    plan: Plan,
    answer: Result<Fetched, FetchError>,
    read: impl Fn(u16) -> Verdict,
) -> Result<(Plan, Fetched), CheckReport> {
    let fetched = match answer {
        Ok(fetched) => fetched,
        Err(error) => {
            let (code, field) = fetch_failure(error, None);
            return Err(plan.fail_next(code, field));
        }
    };
    match read(fetched.status) {
        Verdict::Answered => Ok((plan, fetched)),
        verdict => Err(settle_verdict(plan, verdict)),
    }
}

/// The report for an answer that ends the check at the key or the clinic.
fn settle_verdict(mut plan: Plan, verdict: Verdict) -> CheckReport {
    match verdict {
        Verdict::Answered | Verdict::VendorError => plan.fail_next(CheckCode::VendorError, None),
        Verdict::KeyRejected | Verdict::KeyLacksAccess => {
            plan.ok(StepId::VendorReachable);
            let code = if verdict == Verdict::KeyRejected {
                CheckCode::ApiKeyRejected
            } else {
                CheckCode::KeyLacksCalendarAccess
            };
            plan.fail(StepId::KeyAccepted, code, Some(FieldId::ApiKey))
        }
        Verdict::ClinicUnknown => {
            plan.ok(StepId::VendorReachable);
            plan.ok(StepId::KeyAccepted);
            plan.fail(
                StepId::ClinicFound,
                CheckCode::ClinicNotFound,
                Some(FieldId::ExternalId),
            )
        }
    }
}

/// A transport problem as a report code; `url_field` is the field the URL came from, if the
/// administrator typed it.
fn fetch_failure(error: FetchError, url_field: Option<FieldId>) -> (CheckCode, Option<FieldId>) {
    match error {
        FetchError::Timeout => (CheckCode::VendorTimeout, None),
        FetchError::Unreachable => (CheckCode::VendorUnreachable, None),
        FetchError::Redirect => (CheckCode::RedirectRefused, None),
        FetchError::TooLarge => (CheckCode::ResponseTooLarge, None),
        FetchError::AddressRefused => (CheckCode::AddressNotAllowed, url_field),
        FetchError::UrlRefused("invalid_value") => {
            (CheckCode::InvalidDetails, Some(FieldId::ApiKey))
        }
        FetchError::UrlRefused(code) => (input_code(code), url_field),
    }
}

/// Parses a JSON body; `None` means the vendor's answer was not what the contract says.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<T> {
    serde_json::from_slice(body).ok()
}

/// A calendar date in Oslo, `days` from now, as `YYYY-MM-DD`.
fn oslo_date(days: i64) -> String {
    use crate::clock::{Clock, SystemClock, civil, oslo_offset};
    let now = SystemClock.now() + days * 86_400;
    let (y, m, d, ..) = civil(now + oslo_offset(now));
    format!("{y:04}-{m:02}-{d:02}")
}

/// An id as vendors write it: JSON strings as they are, numbers as digits.
fn id_string(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Object(o) => o.get("id").and_then(id_string),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_encodes_entered_ids() {
        let base = Url::parse("https://api.hano.no/bookinglink").unwrap();
        let url = endpoint(&base, &["v1", "clinics", "a/../b?c#d", "calendars"]);
        assert_eq!(
            url.as_str(),
            "https://api.hano.no/bookinglink/v1/clinics/a%2F..%2Fb%3Fc%23d/calendars"
        );
    }

    #[test]
    fn config_refuses_bases_off_the_allow_list() {
        let mut config = VendorsConfig::default();
        config
            .base_urls
            .insert("hano".into(), "https://api.hano.no.evil.com".into());
        assert!(Vendors::new(config).is_err());
        let mut config = VendorsConfig::default();
        config
            .base_urls
            .insert("hano".into(), "http://api.hano.no".into());
        assert!(Vendors::new(config).is_err());
        let mut config = VendorsConfig::default();
        config
            .base_urls
            .insert("hano".into(), "https://api.hano.no/v".into());
        assert!(Vendors::new(config).is_ok());
        assert!(Vendors::new(VendorsConfig::sandbox("http://localhost:1", MAX_DEADLINE)).is_err());
    }

    #[test]
    fn allowed_hosts_are_a_setting_where_no_vendor_confirmed_them() {
        assert_eq!(
            parse_allowed_hosts(" API.Physica.no , *.physica.no ").unwrap(),
            ["api.physica.no", "*.physica.no"]
        );
        for bad in [
            "",
            " , ",
            "*",
            "*.no",
            "no",
            "127.0.0.1",
            "a..b.no",
            "-a.no",
            "a_b.no",
            "https://x.no",
        ] {
            assert!(parse_allowed_hosts(bad).is_err(), "{bad:?}");
        }
        let config = |system: &str, hosts: &str, base: Option<&str>| {
            let mut config = VendorsConfig::default();
            config.allowed_hosts.insert(system.into(), hosts.into());
            if let Some(base) = base {
                config.base_urls.insert(system.into(), base.into());
            }
            Vendors::new(config)
        };
        // The default (`*.aspit.no`) is replaced, not extended.
        let vendors = config("physica", "*.physica.no", Some("https://api.physica.no/v")).unwrap();
        assert_eq!(vendors.hosts["physica"], ["*.physica.no"]);
        assert_eq!(vendors.hosts["psykbase"], ["*.aspit.no"]);
        assert!(config("physica", "*.physica.no", Some("https://api.aspit.no")).is_err());
        assert!(
            config(
                "psykbase",
                "api.psykbase.no",
                Some("https://api.psykbase.no")
            )
            .is_ok()
        );
        assert!(config("psykbase", "*", None).is_err());
        // Systems with confirmed (or typed) hosts do not take the setting.
        for system in [
            "extensor",
            "pasientsky",
            "easypractice",
            "hano",
            "konfidens",
        ] {
            let error = config(system, "*.example.no", None)
                .err()
                .unwrap()
                .to_string();
            assert!(error.starts_with(&allowed_hosts_var(system)), "{error}");
        }
        let defaults = Vendors::new(VendorsConfig::default()).unwrap();
        for system in catalog::systems() {
            assert_eq!(defaults.hosts[system.id], system.allowed_hosts);
        }
    }

    #[test]
    fn steps_follow_the_systems_fields() {
        use StepId::*;
        let d = BookingDetails::default();
        let s = |id| steps(catalog::system(id).unwrap(), &d);
        assert_eq!(
            s("pasientsky"),
            [
                VendorReachable,
                KeyAccepted,
                ClinicFound,
                DepartmentFound,
                OnlineBookingOpen
            ]
        );
        assert_eq!(
            s("extensor"),
            [VendorReachable, ClinicFound, OnlineBookingOpen]
        );
        assert_eq!(s("easypractice"), [VendorReachable, KeyAccepted]);
        assert_eq!(
            s("physica"),
            [VendorReachable, KeyAccepted, ClinicFound, OnlineBookingOpen]
        );
        let with_department = BookingDetails {
            external_department_id: Some("d".into()),
            ..Default::default()
        };
        assert_eq!(
            steps(catalog::system("psykbase").unwrap(), &with_department),
            [
                VendorReachable,
                KeyAccepted,
                ClinicFound,
                DepartmentFound,
                OnlineBookingOpen
            ]
        );
    }
}
