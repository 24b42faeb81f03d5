//! EG Pasientsky, through its public partner API (pp-help.patientsky.com, "3. Search").
//!
//! One read: `POST {base}/{clinicId}/search` with the key in the JSON body (`apikey`) over the
//! next seven days. The answer's calendars carry `ownedByDepartment`; the entered department
//! must own at least one. Pasientsky lists only calendars open for online booking, so an empty
//! list means the clinic has not opened any (a set-up problem, not a wrong department).
//!
//! Our assumption (error answers are not documented publicly): the key is checked first, and
//! `401`/`403` mean the key was rejected; `404` means the key was accepted but the clinic id is
//! unknown. Other 4xx and 5xx are the vendor's error.

use super::report::Plan;
use super::{
    CheckCode, CheckReport, Ctx, StepId, endpoint, first_answer, id_string, oslo_date, parse,
};
use crate::catalog::{BookingDetails, FieldId};
use serde::Deserialize;
use url::Url;

#[derive(Deserialize)]
struct Search {
    data: SearchData,
}

#[derive(Deserialize)]
struct SearchData {
    calendars: Vec<Calendar>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Calendar {
    #[serde(default)]
    owned_by_department: serde_json::Value,
}

pub(super) async fn check(
    ctx: &Ctx<'_>,
    base: Url,
    plan: Plan,
    details: &BookingDetails,
) -> CheckReport {
    let (Some(clinic), Some(department), Some(key)) = (
        details.value(FieldId::ExternalId),
        details.value(FieldId::ExternalDepartmentId),
        details.value(FieldId::ApiKey),
    ) else {
        return plan.fail_next(CheckCode::Required, None);
    };
    let (from, to) = (oslo_date(0), oslo_date(7));
    let body = serde_json::json!({
        "apikey": key,
        "dateRange": { "from": from, "to": to },
        "selectedDateForDetails": from,
        "calendarIds": null,
        "timeslotTypeIds": null,
    });
    let url = endpoint(&base, &[&clinic.to_ascii_lowercase(), "search"]);
    let answer = ctx
        .out
        .post_json(
            &url,
            ctx.allowed_hosts(),
            body.to_string().into_bytes(),
            ctx.deadline,
        )
        .await;
    let (mut plan, fetched) = match first_answer(plan, answer, true) {
        Ok(answered) => answered,
        Err(report) => return report,
    };
    let Some(search) = parse::<Search>(&fetched.body) else {
        return plan.fail_next(CheckCode::VendorBadResponse, None);
    };
    plan.ok(StepId::VendorReachable);
    plan.ok(StepId::KeyAccepted);
    plan.ok(StepId::ClinicFound);
    let calendars = search.data.calendars;
    if calendars.is_empty() {
        plan.skip(StepId::DepartmentFound, CheckCode::NotVerifiable);
        return plan.fail(
            StepId::OnlineBookingOpen,
            CheckCode::NoOnlineBookingCalendar,
            None,
        );
    }
    let owned = calendars
        .iter()
        .any(|c| id_string(&c.owned_by_department).as_deref() == Some(department));
    if !owned {
        return plan.fail(
            StepId::DepartmentFound,
            CheckCode::DepartmentNotFound,
            Some(FieldId::ExternalDepartmentId),
        );
    }
    plan.ok(StepId::DepartmentFound);
    plan.ok(StepId::OnlineBookingOpen);
    plan.finish()
}
