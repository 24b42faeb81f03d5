//! Every adapter against every sandbox scenario: the exact report (each step's status, code and
//! field). One sandbox per test binary, on its own thread; each test runs its cases
//! concurrently under a 1 s deadline, so the slow scenarios cost about a second in total.

use bookinglink::api_key::ApiKey;
use bookinglink::catalog::FieldId;
use bookinglink::catalog::{self, BookingDetails};
use bookinglink::i18n::Lang;
use bookinglink::vendors::{
    CheckCode, CheckOutcome, CheckReport, StepId, StepStatus, VendorCheck, Vendors, VendorsConfig,
};
use std::sync::Arc;
use std::time::Duration;
use vendor_sandbox as sb;

const DEADLINE: Duration = Duration::from_millis(1000);

fn sandbox_url() -> &'static str {
    // Well past the deadline, so "slow" can only end in a timeout.
    sb::shared(Duration::from_secs(5))
}

/// Built per test: a client's pooled connections belong to the runtime that opened them.
fn vendors() -> Arc<Vendors> {
    Arc::new(Vendors::new(VendorsConfig::sandbox(sandbox_url(), DEADLINE)).unwrap())
}

type Step = (StepId, StepStatus, CheckCode, Option<FieldId>);

use CheckCode as C;
use StepId::*;

fn ok(step: StepId) -> Step {
    (step, StepStatus::Ok, C::Ok, None)
}
fn failed(step: StepId, code: CheckCode, field: Option<FieldId>) -> Step {
    (step, StepStatus::Failed, code, field)
}
fn skipped(step: StepId) -> Step {
    (step, StepStatus::Skipped, C::NotChecked, None)
}
fn not_verifiable(step: StepId) -> Step {
    (step, StepStatus::NotVerifiable, C::NotVerifiable, None)
}
fn all_ok(plan: &[StepId]) -> Vec<Step> {
    plan.iter().map(|&s| ok(s)).collect()
}

/// The report of a check that stopped at `at`: the plan's steps before it passed, the ones
/// after it were skipped.
fn fails_at(plan: &[StepId], at: StepId, code: CheckCode, field: Option<FieldId>) -> Vec<Step> {
    let reached = plan.iter().position(|&s| s == at).unwrap();
    plan.iter()
        .enumerate()
        .map(|(i, &s)| match i.cmp(&reached) {
            std::cmp::Ordering::Less => ok(s),
            std::cmp::Ordering::Equal => failed(s, code, field),
            std::cmp::Ordering::Greater => skipped(s),
        })
        .collect()
}

struct Case {
    name: &'static str,
    details: BookingDetails,
    expect: Vec<Step>,
    outcome: CheckOutcome,
}

fn compact(report: &CheckReport) -> Vec<Step> {
    report
        .steps
        .iter()
        .map(|s| (s.step, s.status, s.code, s.field))
        .collect()
}

async fn run(system_id: &'static str, cases: Vec<Case>) {
    let vendors = vendors();
    let system = catalog::system(system_id).unwrap();
    let mut set = tokio::task::JoinSet::new();
    for case in cases {
        let vendors = vendors.clone();
        set.spawn(async move {
            let started = std::time::Instant::now();
            let report = vendors.check(system, &case.details).await;
            (case, report, started.elapsed())
        });
    }
    let mut failures = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (case, report, elapsed) = joined.unwrap();
        let got = compact(&report);
        if got != case.expect || report.outcome() != case.outcome {
            failures.push(format!(
                "{system_id}/{}:\n  expected {:?} {:?}\n  got      {:?} {:?}",
                case.name,
                case.expect,
                case.outcome,
                got,
                report.outcome()
            ));
        }
        assert_eq!(report.system, system_id);
        assert_eq!(report.succeeded(), case.outcome == CheckOutcome::Success);
        assert!(
            elapsed < DEADLINE + Duration::from_millis(500),
            "{system_id}, {}: {elapsed:?}",
            case.name
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn key(value: &str) -> Option<ApiKey> {
    Some(ApiKey::new(value))
}

/// The vendor knows no clinic by the external ID (after accepting the key).
fn clinic_not_found(name: &'static str, details: BookingDetails, plan: &[StepId]) -> Case {
    Case {
        name,
        details,
        expect: fails_at(
            plan,
            ClinicFound,
            C::ClinicNotFound,
            Some(FieldId::ExternalId),
        ),
        outcome: CheckOutcome::Rejected,
    }
}

/// Cases that depend only on the key, for systems whose first request carries it.
fn key_failure_cases(details: impl Fn(&str) -> BookingDetails, plan: &[StepId]) -> Vec<Case> {
    let unavailable = |name, key: &str, code| Case {
        name,
        details: details(key),
        expect: fails_at(plan, VendorReachable, code, None),
        outcome: CheckOutcome::Unavailable,
    };
    vec![
        Case {
            name: "wrong key",
            details: details("not-the-key"),
            expect: fails_at(plan, KeyAccepted, C::ApiKeyRejected, Some(FieldId::ApiKey)),
            outcome: CheckOutcome::Rejected,
        },
        unavailable("500", sb::KEY_500, C::VendorError),
        unavailable("slow", sb::KEY_SLOW, C::VendorTimeout),
        unavailable("malformed", sb::KEY_MALFORMED, C::VendorBadResponse),
        unavailable("redirect", sb::KEY_REDIRECT, C::RedirectRefused),
        unavailable("huge", sb::KEY_HUGE, C::ResponseTooLarge),
    ]
}

#[tokio::test]
async fn pasientsky() {
    let d = |clinic: &str, dept: &str, k: &str| BookingDetails {
        external_id: Some(clinic.into()),
        external_department_id: Some(dept.into()),
        api_key: key(k),
        ..Default::default()
    };
    let plan = [
        VendorReachable,
        KeyAccepted,
        ClinicFound,
        DepartmentFound,
        OnlineBookingOpen,
    ];
    let mut cases = vec![
        Case {
            name: "ok",
            details: d(sb::PASIENTSKY_CLINIC_OK, sb::PASIENTSKY_DEPT_OK, sb::KEY_OK),
            expect: all_ok(&plan),
            outcome: CheckOutcome::Success,
        },
        Case {
            name: "ok, pasted with spaces and upper-case uuids",
            details: d(
                &format!(" {} ", sb::PASIENTSKY_CLINIC_OK.to_uppercase()),
                &format!(" {}\n", sb::PASIENTSKY_DEPT_OK.to_uppercase()),
                &format!(" {} ", sb::KEY_OK),
            ),
            expect: all_ok(&plan),
            outcome: CheckOutcome::Success,
        },
        Case {
            name: "unknown department",
            details: d(
                sb::PASIENTSKY_CLINIC_OK,
                sb::PASIENTSKY_DEPT_UNKNOWN,
                sb::KEY_OK,
            ),
            expect: fails_at(
                &plan,
                DepartmentFound,
                C::DepartmentNotFound,
                Some(FieldId::ExternalDepartmentId),
            ),
            outcome: CheckOutcome::Rejected,
        },
        Case {
            name: "no calendar open",
            details: d(
                sb::PASIENTSKY_CLINIC_NO_CALENDARS,
                sb::PASIENTSKY_DEPT_OK,
                sb::KEY_OK,
            ),
            expect: vec![
                ok(VendorReachable),
                ok(KeyAccepted),
                ok(ClinicFound),
                not_verifiable(DepartmentFound),
                failed(OnlineBookingOpen, C::NoOnlineBookingCalendar, None),
            ],
            outcome: CheckOutcome::SetupIncomplete,
        },
    ];
    for (name, clinic) in [
        ("unknown clinic", sb::PASIENTSKY_CLINIC_UNKNOWN),
        (
            "200 whose error body says the clinic is unknown",
            sb::PASIENTSKY_CLINIC_ERROR_BODY,
        ),
    ] {
        cases.push(clinic_not_found(
            name,
            d(clinic, sb::PASIENTSKY_DEPT_OK, sb::KEY_OK),
            &plan,
        ));
    }
    // Refused before anything is sent.
    for (name, details, code, field) in [
        (
            "not a uuid: refused before sending",
            d(sb::CLINIC_OK, sb::PASIENTSKY_DEPT_OK, sb::KEY_OK),
            C::InvalidDetails,
            FieldId::ExternalId,
        ),
        (
            "department not a uuid: refused before sending",
            d(sb::PASIENTSKY_CLINIC_OK, sb::DEPT_OK, sb::KEY_OK),
            C::InvalidDetails,
            FieldId::ExternalDepartmentId,
        ),
        (
            "no key",
            BookingDetails {
                api_key: None,
                ..d(sb::PASIENTSKY_CLINIC_OK, sb::PASIENTSKY_DEPT_OK, "")
            },
            C::Required,
            FieldId::ApiKey,
        ),
    ] {
        cases.push(Case {
            name,
            details,
            expect: fails_at(&plan, VendorReachable, code, Some(field)),
            outcome: CheckOutcome::InputRefused,
        });
    }
    // EG documents no error answers: an error inside a 200 and a 400 read as a rejected key.
    for (name, key) in [
        ("200 whose body is an error", sb::KEY_200_ERROR),
        ("400 with an error body", sb::KEY_400),
    ] {
        cases.push(Case {
            name,
            details: d(sb::PASIENTSKY_CLINIC_OK, sb::PASIENTSKY_DEPT_OK, key),
            expect: fails_at(&plan, KeyAccepted, C::ApiKeyRejected, Some(FieldId::ApiKey)),
            outcome: CheckOutcome::Rejected,
        });
    }
    cases.extend(key_failure_cases(
        |k| d(sb::PASIENTSKY_CLINIC_OK, sb::PASIENTSKY_DEPT_OK, k),
        &plan,
    ));
    run("pasientsky", cases).await;
}

#[tokio::test]
async fn easypractice() {
    let d = |k: &str| BookingDetails {
        api_key: key(k),
        ..Default::default()
    };
    let plan = [VendorReachable, KeyAccepted];
    let mut cases = vec![
        Case {
            name: "ok",
            details: d(sb::KEY_OK),
            expect: vec![ok(VendorReachable), ok(KeyAccepted)],
            outcome: CheckOutcome::Success,
        },
        Case {
            name: "token without the calendars-read scope",
            details: d(sb::KEY_NO_SCOPE),
            expect: fails_at(
                &plan,
                KeyAccepted,
                C::KeyLacksCalendarAccess,
                Some(FieldId::ApiKey),
            ),
            outcome: CheckOutcome::SetupIncomplete,
        },
    ];
    cases.extend(key_failure_cases(d, &plan));
    run("easypractice", cases).await;
}

#[tokio::test]
async fn extensor() {
    let d = |url: &str| BookingDetails {
        booking_url: Some(url.into()),
        ..Default::default()
    };
    let url = |scenario: &str| d(&format!("https://booking.extensor.no/sandbox/{scenario}"));
    let field = Some(FieldId::BookingUrl);
    let plan = [VendorReachable, ClinicFound, OnlineBookingOpen];
    let unavailable = |name, scenario: &str, code| Case {
        name,
        details: url(scenario),
        expect: fails_at(&plan, VendorReachable, code, None),
        outcome: CheckOutcome::Unavailable,
    };
    let refused = |name, typed: &str, code| Case {
        name,
        details: d(typed),
        expect: fails_at(&plan, VendorReachable, code, field),
        outcome: CheckOutcome::InputRefused,
    };
    let page_ok = vec![
        ok(VendorReachable),
        ok(ClinicFound),
        not_verifiable(OnlineBookingOpen),
    ];
    let page_missing = fails_at(&plan, ClinicFound, C::BookingPageNotFound, field);
    let cases = vec![
        Case {
            name: "an html booking page",
            details: url("ok"),
            expect: page_ok.clone(),
            outcome: CheckOutcome::Success,
        },
        Case {
            name: "apex host",
            details: d("https://extensor.no/klinikk/ok"),
            expect: page_ok,
            outcome: CheckOutcome::Success,
        },
        Case {
            name: "404 page",
            details: url("unknown"),
            expect: page_missing.clone(),
            outcome: CheckOutcome::Rejected,
        },
        Case {
            name: "410 page",
            details: url("gone"),
            expect: page_missing,
            outcome: CheckOutcome::Rejected,
        },
        unavailable("500", "500", C::VendorError),
        unavailable("slow", "slow", C::VendorTimeout),
        unavailable("redirect", "redirect", C::RedirectRefused),
        unavailable("huge, declared length", "huge", C::ResponseTooLarge),
        // The guard runs on what was typed, even in sandbox mode.
        refused(
            "http",
            "http://booking.extensor.no/sandbox/ok",
            C::HttpsRequired,
        ),
        refused(
            "ip literal",
            "https://127.0.0.1/sandbox/ok",
            C::HostNotAllowed,
        ),
        refused(
            "decimal ip",
            "https://2130706433/sandbox/ok",
            C::HostNotAllowed,
        ),
        refused(
            "the sandbox itself",
            &format!("{}/extensor/sandbox/ok", sandbox_url()),
            C::HttpsRequired,
        ),
        refused(
            "userinfo",
            "https://booking.extensor.no@evil.com/sandbox/ok",
            C::HostNotAllowed,
        ),
        refused(
            "suffix trick",
            "https://extensor.no.evil.com/sandbox/ok",
            C::HostNotAllowed,
        ),
        refused(
            "look-alike",
            "https://evilextensor.no/sandbox/ok",
            C::HostNotAllowed,
        ),
        refused(
            "port",
            "https://booking.extensor.no:8443/sandbox/ok",
            C::HostNotAllowed,
        ),
        refused(
            "metadata",
            "https://169.254.169.254/latest/meta-data/",
            C::HostNotAllowed,
        ),
        refused(
            "mapped v6",
            "https://[::ffff:127.0.0.1]/sandbox/ok",
            C::HostNotAllowed,
        ),
        refused("missing", "", C::Required),
    ];
    run("extensor", cases).await;
}

/// Physica, Psykbase, HANO and Konfidens share the contract's scenarios; the first two also
/// check an optional department.
async fn contract_system(system_id: &'static str, departments: bool) {
    let d = |clinic: &str, dept: Option<&str>, k: &str| BookingDetails {
        external_id: Some(clinic.into()),
        external_department_id: dept.map(Into::into),
        api_key: key(k),
        ..Default::default()
    };
    let plan = [VendorReachable, KeyAccepted, ClinicFound, OnlineBookingOpen];
    let unknown_clinic =
        |name, clinic: &str| clinic_not_found(name, d(clinic, None, sb::KEY_OK), &plan);
    let mut cases = vec![
        Case {
            name: "ok",
            details: d(sb::CLINIC_OK, None, sb::KEY_OK),
            expect: all_ok(&plan),
            outcome: CheckOutcome::Success,
        },
        unknown_clinic("unknown clinic", sb::CLINIC_UNKNOWN),
        unknown_clinic(
            "id with path characters stays one segment",
            &format!("../{}", sb::CLINIC_OK),
        ),
        Case {
            name: "no calendar open",
            details: d(sb::CLINIC_NO_CALENDARS, None, sb::KEY_OK),
            expect: fails_at(&plan, OnlineBookingOpen, C::NoOnlineBookingCalendar, None),
            outcome: CheckOutcome::SetupIncomplete,
        },
        Case {
            name: "calendar request fails after the clinic was found",
            details: d(sb::CLINIC_OK, None, sb::KEY_CALENDARS_500),
            expect: fails_at(&plan, OnlineBookingOpen, C::VendorError, None),
            outcome: CheckOutcome::Unavailable,
        },
    ];
    cases.extend(key_failure_cases(|k| d(sb::CLINIC_OK, None, k), &plan));
    let with_dept = [
        VendorReachable,
        KeyAccepted,
        ClinicFound,
        DepartmentFound,
        OnlineBookingOpen,
    ];
    if departments {
        cases.extend([
            Case {
                name: "department ok",
                details: d(sb::CLINIC_OK, Some(sb::DEPT_OK), sb::KEY_OK),
                expect: all_ok(&with_dept),
                outcome: CheckOutcome::Success,
            },
            Case {
                name: "unknown department",
                details: d(sb::CLINIC_OK, Some(sb::DEPT_UNKNOWN), sb::KEY_OK),
                expect: fails_at(
                    &with_dept,
                    DepartmentFound,
                    C::DepartmentNotFound,
                    Some(FieldId::ExternalDepartmentId),
                ),
                outcome: CheckOutcome::Rejected,
            },
            Case {
                name: "department without an open calendar",
                details: d(sb::CLINIC_OK, Some(sb::DEPT_CLOSED), sb::KEY_OK),
                expect: fails_at(
                    &with_dept,
                    OnlineBookingOpen,
                    C::NoOnlineBookingCalendar,
                    None,
                ),
                outcome: CheckOutcome::SetupIncomplete,
            },
        ]);
    } else {
        // A department is not sent to a system without them; the check still runs.
        cases.push(Case {
            name: "department ignored",
            details: d(sb::CLINIC_OK, Some(sb::DEPT_UNKNOWN), sb::KEY_OK),
            expect: all_ok(&plan),
            outcome: CheckOutcome::Success,
        });
    }
    run(system_id, cases).await;
}

/// One test per contract system, named by its catalog id (so one system's failure does not
/// hide another's): `system => whether it takes an optional department`.
macro_rules! contract_system_tests {
    ($($system:ident => $departments:literal),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $system() {
                contract_system(stringify!($system), $departments).await;
            }
        )*
    };
}

contract_system_tests! {
    physica => true,
    psykbase => true,
    hano => false,
    konfidens => false,
}

/// Outside sandbox mode, the unconfirmed vendors have no base URL until one is configured.
#[tokio::test]
async fn unconfigured_vendor_is_unavailable_not_rejected() {
    let vendors = Vendors::new(VendorsConfig::default()).unwrap();
    let details = BookingDetails {
        external_id: Some("1".into()),
        api_key: key("k"),
        ..Default::default()
    };
    let report = vendors
        .check(catalog::system("hano").unwrap(), &details)
        .await;
    assert_eq!(report.steps[0].code, C::VendorNotConfigured);
    assert_eq!(report.outcome(), CheckOutcome::Unavailable);
    assert!(
        report.to_json(Lang::Nb)["steps"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ikke satt opp")
    );
}
