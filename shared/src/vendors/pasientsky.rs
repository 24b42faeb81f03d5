//! EG Pasientsky, through its public partner API (pp-help.patientsky.com, "3. Search").
//!
//! One read: `POST {base}/{clinicId}/search` with the key in the JSON body (`apikey`) over the
//! next seven days. The answer's calendars carry `ownedByDepartment` (a lower-case UUID); the
//! entered department must own at least one, compared without regard to letter case.
//! Pasientsky lists only calendars open for online booking, so an empty list means the clinic
//! has not opened any (a set-up problem, not a wrong department).
//!
//! EG documents no error answers, so both a 4xx and a 200 whose body carries an error are read
//! (our assumption, to be confirmed with EG): `404` (or an error body saying 404) means the
//! clinic is unknown to the key; `408`/`429` and 5xx are the vendor's trouble; every other 4xx
//! or error body means EG refused the key for this clinic. The report's messages for a wrong key
//! and an unknown clinic name both values, so they stay right whichever EG meant.

use super::answer::{
    Ctx, Verdict, department_not_found, endpoint, first_answer, id_string, oslo_date, parse,
    settle_verdict,
};
use super::report::Plan;
use super::{CheckCode, CheckReport, StepId};
use crate::catalog::FieldId;
use serde::Deserialize;
use serde_json::Value;
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
    owned_by_department: Value,
}

fn read_status(status: u16) -> Verdict {
    match status {
        200 => Verdict::Answered,
        404 => Verdict::ClinicUnknown,
        408 | 429 => Verdict::VendorError,
        400..=499 => Verdict::KeyRejected,
        _ => Verdict::VendorError,
    }
}

/// A 200 that is an error in disguise: an object without `data` that carries `error`/`errors`,
/// `success: false` or `status: "error"`. A status number in the body (`status`, `statusCode`,
/// `code`, top level or inside `error`) is read like an HTTP status.
fn body_error(body: &Value) -> Option<Verdict> {
    let object = body.as_object()?;
    if object.get("data").is_some_and(|d| !d.is_null()) {
        return None;
    }
    let present = |key: &str| {
        object
            .get(key)
            .is_some_and(|v| !matches!(v, Value::Null | Value::Bool(false)))
    };
    let flagged = present("error")
        || present("errors")
        || object.get("success") == Some(&Value::Bool(false))
        || object
            .get("status")
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("error"));
    if !flagged {
        return None;
    }
    let number = |v: &Value| -> Option<u16> {
        ["status", "statusCode", "code"].iter().find_map(|k| {
            let n = v.get(*k)?;
            n.as_u64()
                .or_else(|| n.as_str()?.parse().ok())
                .and_then(|n| u16::try_from(n).ok())
        })
    };
    let status = number(body).or_else(|| object.get("error").and_then(number));
    Some(match status {
        Some(status @ 400..=599) => match read_status(status) {
            Verdict::Answered => Verdict::VendorError,
            verdict => verdict,
        },
        _ => Verdict::KeyRejected,
    })
}

pub(super) async fn check(ctx: &Ctx<'_>, base: Url, plan: Plan) -> CheckReport {
    let (Some(clinic), Some(department), Some(key)) = (
        ctx.details.value(FieldId::ExternalId),
        ctx.details.value(FieldId::ExternalDepartmentId),
        ctx.details.value(FieldId::ApiKey),
    ) else {
        return plan.fail_next(CheckCode::Required, None);
    };
    let (from, to) = (oslo_date(ctx.now, 0), oslo_date(ctx.now, 7));
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
    let (mut plan, fetched) = match first_answer(plan, answer, read_status) {
        Ok(answered) => answered,
        Err(report) => return report,
    };
    let search = match parse::<Search>(&fetched.body) {
        Some(search) => search,
        None => {
            return match parse::<Value>(&fetched.body).as_ref().and_then(body_error) {
                Some(verdict) => settle_verdict(plan, verdict),
                None => plan.fail_next(CheckCode::VendorBadResponse, None),
            };
        }
    };
    plan.passed(&[
        StepId::VendorReachable,
        StepId::KeyAccepted,
        StepId::ClinicFound,
    ]);
    let calendars = search.data.calendars;
    if calendars.is_empty() {
        plan.not_verifiable(StepId::DepartmentFound);
        return plan.fail(
            StepId::OnlineBookingOpen,
            CheckCode::NoOnlineBookingCalendar,
            None,
        );
    }
    let owned = calendars.iter().any(|c| {
        id_string(&c.owned_by_department).is_some_and(|id| id.eq_ignore_ascii_case(department))
    });
    if !owned {
        return department_not_found(plan);
    }
    plan.ok(StepId::DepartmentFound);
    plan.ok(StepId::OnlineBookingOpen);
    plan.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_and_error_bodies_are_read_the_same_way() {
        assert_eq!(read_status(200), Verdict::Answered);
        for status in [400, 401, 403, 422] {
            assert_eq!(read_status(status), Verdict::KeyRejected, "{status}");
        }
        assert_eq!(read_status(404), Verdict::ClinicUnknown);
        for status in [408, 429, 500, 502, 503, 302] {
            assert_eq!(read_status(status), Verdict::VendorError, "{status}");
        }
        let cases = [
            (
                json!({"error": "Invalid apikey"}),
                Some(Verdict::KeyRejected),
            ),
            (
                json!({"errors": [{"message": "Unauthorized"}]}),
                Some(Verdict::KeyRejected),
            ),
            (
                json!({"success": false, "message": "x"}),
                Some(Verdict::KeyRejected),
            ),
            (json!({"status": "error"}), Some(Verdict::KeyRejected)),
            (
                json!({"error": {"code": 404, "message": "Clinic not found"}}),
                Some(Verdict::ClinicUnknown),
            ),
            (
                json!({"error": "not found", "statusCode": "404"}),
                Some(Verdict::ClinicUnknown),
            ),
            (
                json!({"error": "internal", "status": 500}),
                Some(Verdict::VendorError),
            ),
            (
                json!({"error": "weird", "status": 200}),
                Some(Verdict::KeyRejected),
            ),
            (json!({"data": {"calendars": "x"}, "error": "x"}), None),
            (json!({"error": null, "something": 1}), None),
            (json!({"unexpected": true}), None),
            (json!([1, 2]), None),
        ];
        for (body, verdict) in cases {
            assert_eq!(body_error(&body), verdict, "{body}");
        }
    }
}
