//! Vendor adapters: the "Test kobling" check for each booking system.
//!
//! A check only reads: it never books, cancels or changes anything at the vendor. Each
//! adapter module turns one vendor's answers into a [`CheckReport`]; the HTTP client, its
//! limits and the SSRF guard live once, in [`outbound`].
//!
//!
//! Reading a check: [`Vendors::check`] validates the input and dispatches on the system's
//! [`Adapter`] to the vendor's module (`pasientsky.rs`, `easypractice.rs`, `extensor.rs`, or
//! `contract.rs` for the four vendors that speak our proposed contract, each with its variant
//! in its own module); `answer.rs` is what those modules share; `config.rs` how the client and
//! the vendors' bases are set up; `report.rs` the report they build.

mod answer;
mod config;
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

pub use config::{
    ConfigError, MAX_DEADLINE, VendorsConfig, allowed_hosts_var, base_url_var, parse_allowed_hosts,
};
pub use report::{CheckCode, CheckOutcome, CheckReport, CheckStep, StepId, StepStatus};

use crate::catalog::{Adapter, BookingDetails, BookingSystem, FieldId};
use crate::clock::Clock;
use answer::{Ctx, endpoint, refuse_input};
use outbound::Outbound;
use report::Plan;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::time::Instant;
use url::Url;

/// The connection check, behind a trait so handlers can be tested with a fake.
#[async_trait::async_trait]
pub trait VendorCheck: Send + Sync {
    async fn check(&self, system: &BookingSystem, details: &BookingDetails) -> CheckReport;
}

/// The adapters behind one shared HTTP client. Build once per Lambda instance.
pub struct Vendors {
    outbound: Outbound,
    bases: HashMap<&'static str, Url>,
    /// Allowed hosts per system: the catalog's, or the environment's where it may set them.
    hosts: HashMap<&'static str, Vec<String>>,
    sandbox_base: Option<Url>,
    /// What "today" is for the vendors' calendars (the dates a check asks about).
    clock: Arc<dyn Clock>,
}

impl Vendors {
    /// The clock whose date the checks ask the vendors' calendars about: the one the rest of
    /// the request runs on (a test's, or the function's).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Vendors {
        self.clock = clock;
        self
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
                    now: self.clock.now(),
                    details: &details,
                };
                // Extensor is reached at the booking URL the administrator entered; every
                // other system at its configured base, and without one nothing can be checked.
                match (system.adapter, self.base(system)) {
                    (Adapter::Extensor, _) => extensor::check(&ctx, &self.sandbox_base, plan).await,
                    (_, None) => plan.fail_next(CheckCode::VendorNotConfigured, None),
                    (Adapter::Pasientsky, Some(base)) => pasientsky::check(&ctx, base, plan).await,
                    (Adapter::EasyPractice, Some(base)) => {
                        easypractice::check(&ctx, base, plan).await
                    }
                    (Adapter::Physica, Some(base)) => {
                        contract::check(&physica::CONTRACT, &ctx, base, plan).await
                    }
                    (Adapter::Psykbase, Some(base)) => {
                        contract::check(&psykbase::CONTRACT, &ctx, base, plan).await
                    }
                    (Adapter::Hano, Some(base)) => {
                        contract::check(&hano::CONTRACT, &ctx, base, plan).await
                    }
                    (Adapter::Konfidens, Some(base)) => {
                        contract::check(&konfidens::CONTRACT, &ctx, base, plan).await
                    }
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
    let clinic_steps = match system.adapter {
        // The token is the account (the clinic) and the public API shows no booking settings.
        Adapter::EasyPractice => false,
        Adapter::Physica
        | Adapter::Psykbase
        | Adapter::Pasientsky
        | Adapter::Extensor
        | Adapter::Hano
        | Adapter::Konfidens => true,
    };
    if !clinic_steps {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

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
            steps(catalog::sys("psykbase"), &with_department),
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
