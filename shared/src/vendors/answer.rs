//! What every adapter shares: its context (the client, the hosts it may call, the deadline),
//! how a URL is built from entered ids, and what a vendor's first answer or a transport
//! failure means for the report.

use super::outbound::{FetchError, Fetched, Outbound};
use super::report::Plan;
use super::{CheckCode, CheckReport, StepId};
use crate::catalog::{self, BookingDetails, BookingSystem, FieldId};
use tokio::time::Instant;
use url::Url;

/// Runs the catalog's validation; a check never sends what the form would refuse. Unused
/// fields are not an error here: they are simply not sent.
pub(super) fn refuse_input(
    system: &BookingSystem,
    details: &BookingDetails,
) -> Option<(CheckCode, FieldId)> {
    let issue = catalog::validate(system, details, false)
        .into_iter()
        .find(|i| i.code != "not_used_by_system")?;
    Some((input_code(issue.code), issue.field))
}

pub(super) fn input_code(code: &str) -> CheckCode {
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

/// What every adapter gets: the shared client, the hosts it may call, the check's deadline and
/// what the administrator entered (trimmed, and already past the form's validation).
pub(crate) struct Ctx<'a> {
    pub(super) out: &'a Outbound,
    pub(super) allowed_hosts: &'a [&'a str],
    pub(super) deadline: Instant,
    /// When the check runs, from the injected clock.
    pub(super) now: crate::clock::Timestamp,
    pub(super) details: &'a BookingDetails,
}

impl Ctx<'_> {
    pub(super) fn allowed_hosts(&self) -> &[&str] {
        self.allowed_hosts
    }
}

/// `base` with path segments appended, each percent-encoded (including `/`), so an entered id
/// can never change the path it is placed in.
pub(super) fn endpoint(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// What a vendor's answer to the first request of a check means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Go on and read the body.
    Answered,
    KeyRejected,
    KeyLacksAccess,
    ClinicUnknown,
    VendorError,
}

/// The reading of our own contract: 200 goes on, 401/403 mean the key was rejected, 404 (when
/// the request names a clinic) that the clinic is unknown, anything else is the vendor's error.
pub(super) fn contract_status(status: u16, names_clinic: bool) -> Verdict {
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
pub(super) fn first_answer(
    plan: Plan,
    answer: Result<Fetched, FetchError>,
    read: impl Fn(u16) -> Verdict,
) -> Result<(Plan, Fetched), CheckReport> {
    let fetched = match answer {
        Ok(fetched) => fetched,
        Err(error) => return Err(unanswered(plan, error, None)),
    };
    match read(fetched.status) {
        Verdict::Answered => Ok((plan, fetched)),
        verdict => Err(settle_verdict(plan, verdict)),
    }
}

/// The report for an answer that ends the check at the key or the clinic.
pub(super) fn settle_verdict(mut plan: Plan, verdict: Verdict) -> CheckReport {
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
            plan.passed(&[StepId::VendorReachable, StepId::KeyAccepted]);
            plan.fail(
                StepId::ClinicFound,
                CheckCode::ClinicNotFound,
                Some(FieldId::ExternalId),
            )
        }
    }
}

/// The report for an entered department that is not one of the clinic's: the check ends there.
pub(super) fn department_not_found(plan: Plan) -> CheckReport {
    plan.fail(
        StepId::DepartmentFound,
        CheckCode::DepartmentNotFound,
        Some(FieldId::ExternalDepartmentId),
    )
}

/// The report for a request that got no answer: its outage code on the first unsettled step.
pub(super) fn unanswered(plan: Plan, error: FetchError, url_field: Option<FieldId>) -> CheckReport {
    let (code, field) = fetch_failure(error, url_field);
    plan.fail_next(code, field)
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
pub(super) fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<T> {
    serde_json::from_slice(body).ok()
}

/// The calendar date in Oslo `days` after `now`, as `YYYY-MM-DD`.
pub(super) fn oslo_date(now: crate::clock::Timestamp, days: i64) -> String {
    use crate::clock::{civil, oslo_offset};
    let then = now + days * 86_400;
    let (y, m, d, ..) = civil(then + oslo_offset(then));
    format!("{y:04}-{m:02}-{d:02}")
}

/// An id as vendors write it: JSON strings as they are, numbers as digits.
pub(super) fn id_string(value: &serde_json::Value) -> Option<String> {
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
}
