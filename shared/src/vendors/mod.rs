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
//!   until one is set. Extensor has none: it calls the administrator's booking URL.
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

use crate::catalog::{self, BookingDetails, BookingSystem, FieldId, check_outbound_url};
use outbound::{FetchError, Fetched, GuardedResolver, Outbound, SandboxOrigin};
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
    pub sandbox_url: Option<String>,
    pub deadline: Duration,
}

pub const MAX_DEADLINE: Duration = Duration::from_millis(9000);

impl Default for VendorsConfig {
    fn default() -> Self {
        VendorsConfig {
            base_urls: HashMap::new(),
            sandbox_url: None,
            deadline: outbound::DEFAULT_DEADLINE,
        }
    }
}

impl VendorsConfig {
    pub fn from_env() -> Result<VendorsConfig, ConfigError> {
        let mut config = VendorsConfig::default();
        for system in catalog::systems() {
            let var = base_url_var(system.id);
            if let Ok(value) = std::env::var(&var) {
                config.base_urls.insert(system.id.to_owned(), value);
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

/// The adapters behind one shared HTTP client. Build once per Lambda instance.
pub struct Vendors {
    outbound: Outbound,
    bases: HashMap<&'static str, Url>,
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
        for system in catalog::systems() {
            let raw = config
                .base_urls
                .get(system.id)
                .map(String::as_str)
                .or(system.default_base_url);
            let Some(raw) = raw else { continue };
            let url = check_outbound_url(system.allowed_hosts, raw.trim_end_matches('/')).map_err(
                |code| ConfigError::Invalid {
                    var: base_url_var(system.id),
                    reason: format!(
                        "{code}: must be https on {}",
                        system.allowed_hosts.join(", ")
                    ),
                },
            )?;
            bases.insert(system.id, url);
        }
        let deadline = config.deadline.min(MAX_DEADLINE);
        let connect = outbound::DEFAULT_CONNECT_TIMEOUT.min(deadline);
        let (sandbox_origin, sandbox_base) = sandbox.unzip();
        let outbound = Outbound::new(connect, deadline, sandbox_origin, GuardedResolver::system())?;
        Ok(Vendors {
            outbound,
            bases,
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
                let ctx = Ctx {
                    out: &self.outbound,
                    system,
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

/// What every adapter gets: the shared client, its system and the check's deadline.
pub(crate) struct Ctx<'a> {
    out: &'a Outbound,
    system: &'a BookingSystem,
    deadline: Instant,
}

impl Ctx<'_> {
    fn allowed_hosts(&self) -> &[&'static str] {
        self.system.allowed_hosts
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

/// A transport problem as a report code; `url_field` is the field the URL came from, if the
/// administrator typed it.
/// Reads the first answer of a check that sends the key (and, when `names_clinic`, the clinic
/// in the URL): 401/403 mean the key was rejected, 404 that the clinic is unknown, 200 goes
/// on, anything else is the vendor's error; a request that got no answer becomes its outage
/// code. `Err` is the finished report.
fn first_answer(
    mut plan: Plan,
    answer: Result<Fetched, FetchError>,
    names_clinic: bool,
) -> Result<(Plan, Fetched), CheckReport> {
    let fetched = match answer {
        Ok(fetched) => fetched,
        Err(error) => {
            let (code, field) = fetch_failure(error, None);
            return Err(plan.fail_next(code, field));
        }
    };
    match fetched.status {
        200 => Ok((plan, fetched)),
        401 | 403 => {
            plan.ok(StepId::VendorReachable);
            Err(plan.fail(
                StepId::KeyAccepted,
                CheckCode::ApiKeyRejected,
                Some(FieldId::ApiKey),
            ))
        }
        404 if names_clinic => {
            plan.ok(StepId::VendorReachable);
            plan.ok(StepId::KeyAccepted);
            Err(plan.fail(
                StepId::ClinicFound,
                CheckCode::ClinicNotFound,
                Some(FieldId::ExternalId),
            ))
        }
        _ => Err(plan.fail_next(CheckCode::VendorError, None)),
    }
}

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
