//! The result of a connection check: an ordered list of steps with stable codes. Messages are
//! not stored; they are rendered from (system, step, code, field) in the reader's language, so a
//! report kept in DynamoDB can be shown again later in either language.
//!
//! Steps (in this order): `vendor_reachable`, `key_accepted`, `clinic_found`,
//! `department_found`, `online_booking_open`. A step that does not apply to a system is
//! omitted, not skipped (Extensor has no key; EasyPractice's token is the clinic and its public
//! API says nothing about online-booking calendars; Physica/Psykbase check a department only
//! when one was entered). After a failed step every later step is `skipped` with
//! `not_checked`.
//!
//! A step the vendor's answer cannot settle is `not_verifiable` (status and code): Extensor has
//! no API, so its calendars can never be seen (the check still succeeds); EG Pasientsky answering
//! with no calendar at all leaves `department_found` unverifiable and fails
//! `online_booking_open` (a set-up problem, not a wrong department).
//!
//! Input that fails validation or the outbound-URL guard fails the first step: nothing was
//! sent to the vendor.
//!
//! Which failures count toward the lockout is decided in one place, [`outcome_of`], and
//! documented as a table in docs/vendor-contracts.md (a test compares the two row by row).

mod messages;
mod plan;

pub(crate) use plan::Plan;

use crate::catalog::{self, FieldId};
use crate::i18n::Lang;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepId {
    VendorReachable,
    KeyAccepted,
    ClinicFound,
    DepartmentFound,
    OnlineBookingOpen,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Ok,
    Failed,
    Skipped,
    /// Nothing the vendor answers can settle this step; it neither passes nor fails the check.
    NotVerifiable,
}
/// Declares [`CheckCode`] and [`CheckCode::ALL`] from one list, so the list cannot miss a code.
macro_rules! check_codes {
    ($($(#[$meta:meta])* $code:ident,)+) => {
        /// Stable codes, stored and sent to the frontend as snake_case strings.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum CheckCode {
            $($(#[$meta])* $code,)+
        }

        impl CheckCode {
            /// Every code, in declaration order (a new code also goes into [`outcome_of`]).
            pub const ALL: [CheckCode; [$(CheckCode::$code),+].len()] = [$(CheckCode::$code),+];
        }
    };
}

check_codes! {
    Ok,
    /// Skipped because an earlier step failed.
    NotChecked,
    /// The vendor's answer gives nothing to check this step against (status `not_verifiable`).
    NotVerifiable,
    // Not the administrator's fault.
    VendorNotConfigured,
    VendorUnreachable,
    VendorTimeout,
    VendorError,
    VendorBadResponse,
    RedirectRefused,
    ResponseTooLarge,
    // The vendor rejected what was entered.
    ApiKeyRejected,
    ClinicNotFound,
    DepartmentNotFound,
    /// The booking URL's page does not exist (404/410).
    BookingPageNotFound,
    // Set-up at the clinic.
    NoOnlineBookingCalendar,
    /// A real key without access to the calendars (EasyPractice: a token without the scope
    /// `calendars-read`).
    KeyLacksCalendarAccess,
    // Refused before anything was sent.
    Required,
    InvalidDetails,
    HttpsRequired,
    HostNotAllowed,
    AddressNotAllowed,
    /// A code written by a newer version; keeps old readers working.
    #[serde(other)]
    Unknown,
}

/// What kind of result a check had; only [`CheckOutcome::Rejected`] counts toward the lockout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Success,
    /// The vendor rejected the key, clinic, department or booking page — what guessing looks
    /// like, so it counts toward the lockout.
    Rejected,
    /// Refused before anything was sent (missing or malformed value, a URL off the vendor's
    /// host, not https, or resolving to an address we do not connect to). The HTTP layer
    /// refuses these with a 422 first; a check meets them only for stored details. Does not
    /// count: the vendor was never asked.
    InputRefused,
    /// The vendor could not give a usable answer. Not the administrator's fault; does not count.
    Unavailable,
    /// The details are right but the clinic's set-up is not finished (no calendar open for
    /// online booking, a token without calendar access). Does not count.
    SetupIncomplete,
}

impl CheckOutcome {
    pub fn counts_toward_lockout(self) -> bool {
        self == CheckOutcome::Rejected
    }
}

/// The table "failure reason → outcome" (docs/vendor-contracts.md, "Which failures count
/// toward the lockout"): the one place that decides whether a failed check counts.
pub const fn outcome_of(code: CheckCode) -> CheckOutcome {
    use CheckCode::*;
    use CheckOutcome as O;
    match code {
        ApiKeyRejected => O::Rejected,
        ClinicNotFound => O::Rejected,
        DepartmentNotFound => O::Rejected,
        BookingPageNotFound => O::Rejected,
        Required => O::InputRefused,
        InvalidDetails => O::InputRefused,
        HttpsRequired => O::InputRefused,
        HostNotAllowed => O::InputRefused,
        AddressNotAllowed => O::InputRefused,
        NoOnlineBookingCalendar => O::SetupIncomplete,
        KeyLacksCalendarAccess => O::SetupIncomplete,
        VendorNotConfigured => O::Unavailable,
        VendorUnreachable => O::Unavailable,
        VendorTimeout => O::Unavailable,
        VendorError => O::Unavailable,
        VendorBadResponse => O::Unavailable,
        RedirectRefused => O::Unavailable,
        ResponseTooLarge => O::Unavailable,
        // Not failure reasons; a step failed with one of these was written by mistake or by a
        // newer version, and is never held against the administrator.
        Ok => O::Unavailable,
        NotChecked => O::Unavailable,
        NotVerifiable => O::Unavailable,
        Unknown => O::Unavailable,
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStep {
    pub step: StepId,
    pub status: StepStatus,
    pub code: CheckCode,
    pub field: Option<FieldId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Catalog id of the system checked.
    pub system: String,
    pub steps: Vec<CheckStep>,
}

impl CheckReport {
    /// True when no step failed or was left unchecked, and at least one passed: every step is
    /// ok, or cannot be verified for this system at all.
    pub fn succeeded(&self) -> bool {
        self.steps.iter().any(|s| s.status == StepStatus::Ok)
            && self
                .steps
                .iter()
                .all(|s| matches!(s.status, StepStatus::Ok | StepStatus::NotVerifiable))
    }

    pub fn failed_step(&self) -> Option<&CheckStep> {
        self.steps.iter().find(|s| s.status == StepStatus::Failed)
    }

    pub fn outcome(&self) -> CheckOutcome {
        match self.failed_step() {
            None if self.succeeded() => CheckOutcome::Success,
            None => CheckOutcome::Unavailable,
            Some(step) => outcome_of(step.code),
        }
    }

    /// Whether this check counts toward the lockout on repeated failed checks.
    pub fn counts_toward_lockout(&self) -> bool {
        self.outcome().counts_toward_lockout()
    }

    /// The response body for the check endpoint: codes plus messages in `lang`.
    pub fn to_json(&self, lang: Lang) -> Value {
        let system = catalog::system(&self.system);
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|s| {
                json!({
                    "step": s.step,
                    "status": s.status,
                    "code": s.code,
                    "field": s.field,
                    "message": system.map(|sys| s.message(sys, lang)).unwrap_or_default(),
                })
            })
            .collect();
        json!({
            "system": self.system,
            "succeeded": self.succeeded(),
            "outcome": self.outcome(),
            "steps": steps,
        })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) const ALL: [StepId; 5] = [
        StepId::VendorReachable,
        StepId::KeyAccepted,
        StepId::ClinicFound,
        StepId::DepartmentFound,
        StepId::OnlineBookingOpen,
    ];

    #[test]
    fn outcome_classifies_the_failed_step() {
        let cases = [
            (CheckCode::ApiKeyRejected, CheckOutcome::Rejected),
            (CheckCode::ClinicNotFound, CheckOutcome::Rejected),
            (CheckCode::DepartmentNotFound, CheckOutcome::Rejected),
            (CheckCode::BookingPageNotFound, CheckOutcome::Rejected),
            (CheckCode::HostNotAllowed, CheckOutcome::InputRefused),
            (CheckCode::VendorTimeout, CheckOutcome::Unavailable),
            (CheckCode::VendorError, CheckOutcome::Unavailable),
            (CheckCode::RedirectRefused, CheckOutcome::Unavailable),
            (CheckCode::ResponseTooLarge, CheckOutcome::Unavailable),
            (CheckCode::VendorBadResponse, CheckOutcome::Unavailable),
            (
                CheckCode::NoOnlineBookingCalendar,
                CheckOutcome::SetupIncomplete,
            ),
            (
                CheckCode::KeyLacksCalendarAccess,
                CheckOutcome::SetupIncomplete,
            ),
        ];
        for (code, outcome) in cases {
            let report =
                Plan::new(catalog::sys("pasientsky"), &ALL).fail(StepId::KeyAccepted, code, None);
            assert_eq!(report.outcome(), outcome, "{code:?}");
            assert!(!report.succeeded());
            assert_eq!(
                report.steps[0].code,
                CheckCode::NotChecked,
                "earlier steps untouched"
            );
            assert_eq!(report.steps[2].status, StepStatus::Skipped);
        }
        let mut plan = Plan::new(catalog::sys("pasientsky"), &ALL);
        for step in ALL {
            plan.ok(step);
        }
        let report = plan.finish();
        assert!(report.succeeded());
        assert_eq!(report.outcome(), CheckOutcome::Success);
    }

    #[test]
    fn a_step_that_cannot_be_verified_does_not_stop_a_success() {
        let extensor = catalog::sys("extensor");
        let steps = [
            StepId::VendorReachable,
            StepId::ClinicFound,
            StepId::OnlineBookingOpen,
        ];
        let mut plan = Plan::new(extensor, &steps);
        plan.ok(StepId::VendorReachable);
        plan.ok(StepId::ClinicFound);
        plan.not_verifiable(StepId::OnlineBookingOpen);
        let report = plan.finish();
        assert!(report.succeeded());
        assert_eq!(report.outcome(), CheckOutcome::Success);
        assert!(!report.counts_toward_lockout());
        let json = report.to_json(Lang::En);
        assert_eq!(json["steps"][2]["status"], "not_verifiable");
        assert_eq!(json["steps"][2]["code"], "not_verifiable");
        let en = json["steps"][2]["message"].as_str().unwrap();
        assert!(en.contains("Extensor 05 has no public API"), "{en}");
        let nb = report.to_json(Lang::Nb)["steps"][2]["message"].clone();
        assert!(
            nb.as_str().unwrap().contains("har ikke et åpent API"),
            "{nb}"
        );
        assert_eq!(
            report.to_json(Lang::Nb)["steps"][1]["message"],
            "Bookingsiden finnes hos Extensor 05."
        );
        // Unverifiable alone is not a success, nor is a step left unchecked.
        let mut plan = Plan::new(extensor, &steps[2..]);
        plan.not_verifiable(StepId::OnlineBookingOpen);
        assert!(!plan.finish().succeeded());
        let mut plan = Plan::new(extensor, &steps);
        plan.ok(StepId::VendorReachable);
        plan.not_verifiable(StepId::OnlineBookingOpen);
        let report = plan.finish();
        assert!(!report.succeeded());
        assert_eq!(report.outcome(), CheckOutcome::Unavailable);
    }

    /// The table in docs/vendor-contracts.md, "Which failures count toward the lockout", is
    /// what [`outcome_of`] does: same codes, same outcome, same answer to "counts", row by row.
    #[test]
    fn the_documented_lockout_table_is_the_code() {
        let section = catalog::contracts_doc_section("Which failures count toward the lockout");
        let mut documented = Vec::new();
        for line in section.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let ticked = |cell: &str| cell.split('`').nth(1).unwrap_or_default().to_owned();
            let code: CheckCode = serde_json::from_value(Value::String(ticked(cells[0]))).unwrap();
            assert!(
                code != CheckCode::Unknown || ticked(cells[0]) == "unknown",
                "{line}: not a code"
            );
            let outcome = outcome_of(code);
            assert_eq!(
                serde_json::to_value(outcome).unwrap(),
                ticked(cells[1]),
                "{line}"
            );
            let counts = match cells[2] {
                "yes" => true,
                "no" => false,
                other => panic!("{line}: {other:?} is neither yes nor no"),
            };
            assert_eq!(outcome.counts_toward_lockout(), counts, "{line}");
            // Through a whole report, as the booking routes see it.
            let report =
                Plan::new(catalog::sys("pasientsky"), &ALL).fail(StepId::KeyAccepted, code, None);
            assert_eq!(report.counts_toward_lockout(), counts, "{line}");
            assert!(!documented.contains(&code), "{line} twice");
            documented.push(code);
        }
        use CheckCode::*;
        let not_failures = [Ok, NotChecked, NotVerifiable];
        for code in CheckCode::ALL {
            assert_eq!(
                documented.contains(&code),
                !not_failures.contains(&code),
                "{code:?}: every failure code has a row, and only those"
            );
        }
        let counted: Vec<_> = documented
            .iter()
            .filter(|c| outcome_of(**c).counts_toward_lockout())
            .collect();
        assert_eq!(
            counted,
            [
                &ApiKeyRejected,
                &ClinicNotFound,
                &DepartmentNotFound,
                &BookingPageNotFound
            ]
        );
    }

    #[test]
    fn reports_round_trip_through_json_and_tolerate_new_codes() {
        let mut plan = Plan::new(catalog::sys("pasientsky"), &ALL);
        plan.ok(StepId::VendorReachable);
        let report = plan.fail(
            StepId::KeyAccepted,
            CheckCode::ApiKeyRejected,
            Some(FieldId::ApiKey),
        );
        let stored = serde_json::to_string(&report).unwrap();
        assert!(
            stored.contains(r#""code":"api_key_rejected","field":"api_key""#),
            "{stored}"
        );
        assert_eq!(
            serde_json::from_str::<CheckReport>(&stored).unwrap(),
            report
        );
        let newer = stored.replace("api_key_rejected", "something_new");
        let read: CheckReport = serde_json::from_str(&newer).unwrap();
        assert_eq!(read.steps[1].code, CheckCode::Unknown);
    }
}
