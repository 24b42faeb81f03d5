//! The read-only contract Bookinglink proposes to vendors without a public API
//! (docs/vendor-contracts.md, unconfirmed). Each vendor's module states its own variant
//! ([`Contract`]); the requests and their meaning are written once here.
//!
//! 1. `GET {base}/v1/clinics/{clinicId}` → `{"id", "name", "departments": [{"id", "name"}]}`.
//!    `401`/`403`: key rejected (checked before the clinic); `404`: unknown clinic.
//! 2. `GET {base}/v1/clinics/{clinicId}/calendars[?departmentId=…]` →
//!    `{"calendars": [{"id", "name", "departmentId", "onlineBooking"}]}`.
//!
//! The key travels as `Authorization: Bearer <key>`.

use super::answer::{
    Ctx, contract_status, department_not_found, endpoint, first_answer, id_string, parse,
    unanswered,
};
use super::outbound::Auth;
use super::report::Plan;
use super::{CheckCode, CheckReport, StepId};
use crate::catalog::FieldId;
use serde::Deserialize;
use url::Url;

/// One vendor's variant of the contract.
pub(super) struct Contract {
    /// Whether a department id may be sent (and is then checked against the clinic's list).
    pub departments: bool,
}

#[derive(Deserialize)]
struct Clinic {
    #[serde(default)]
    departments: Vec<Department>,
}

#[derive(Deserialize)]
struct Department {
    id: serde_json::Value,
}

#[derive(Deserialize)]
struct Calendars {
    calendars: Vec<Calendar>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Calendar {
    #[serde(default)]
    department_id: serde_json::Value,
    #[serde(default)]
    online_booking: bool,
}

pub(super) async fn check(
    contract: &Contract,
    ctx: &Ctx<'_>,
    base: Url,
    plan: Plan,
) -> CheckReport {
    let (Some(clinic_id), Some(key)) = (
        ctx.details.value(FieldId::ExternalId),
        ctx.details.value(FieldId::ApiKey),
    ) else {
        return plan.fail_next(CheckCode::Required, None);
    };
    let department = ctx
        .details
        .value(FieldId::ExternalDepartmentId)
        .filter(|_| contract.departments);

    let url = endpoint(&base, &["v1", "clinics", clinic_id]);
    let answer = ctx
        .out
        .get(&url, ctx.allowed_hosts(), Auth::Bearer(key), ctx.deadline)
        .await;
    let (mut plan, clinic) =
        match first_answer(plan, answer, |status| contract_status(status, true)) {
            Ok(answered) => answered,
            Err(report) => return report,
        };
    let Some(clinic) = parse::<Clinic>(&clinic.body) else {
        return plan.fail_next(CheckCode::VendorBadResponse, None);
    };
    plan.passed(&[
        StepId::VendorReachable,
        StepId::KeyAccepted,
        StepId::ClinicFound,
    ]);
    if let Some(department) = department {
        let known = clinic
            .departments
            .iter()
            .any(|d| id_string(&d.id).as_deref() == Some(department));
        if !known {
            return department_not_found(plan);
        }
        plan.ok(StepId::DepartmentFound);
    }

    let mut url = endpoint(&base, &["v1", "clinics", clinic_id, "calendars"]);
    if let Some(department) = department {
        url.query_pairs_mut()
            .append_pair("departmentId", department);
    }
    let calendars = match ctx
        .out
        .get(&url, ctx.allowed_hosts(), Auth::Bearer(key), ctx.deadline)
        .await
    {
        Ok(fetched) if fetched.status == 200 => fetched,
        Ok(_) => return plan.fail_next(CheckCode::VendorError, None),
        Err(error) => return unanswered(plan, error, None),
    };
    let Some(calendars) = parse::<Calendars>(&calendars.body) else {
        return plan.fail_next(CheckCode::VendorBadResponse, None);
    };
    // Filtered here too: a vendor that ignores `departmentId` must not make another
    // department's calendar count.
    let open = calendars.calendars.iter().any(|c| {
        c.online_booking
            && department.is_none_or(|d| id_string(&c.department_id).as_deref() == Some(d))
    });
    if !open {
        return plan.fail(
            StepId::OnlineBookingOpen,
            CheckCode::NoOnlineBookingCalendar,
            None,
        );
    }
    plan.ok(StepId::OnlineBookingOpen);
    plan.finish()
}
