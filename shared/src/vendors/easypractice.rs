//! EasyPractice, through its public REST API (system.easypractice.net/api,
//! `Authorization: Bearer <personal access token>`).
//!
//! One read: `GET {base}/api/v1/bookings?start=<today>&end=<today>` — the cheapest documented
//! call that proves the token works and may read the calendars. A token is made on the settings
//! page of the "API" app with scopes chosen once; the check needs `calendars-read`. So `401`
//! means a wrong or revoked token, while `403` most likely means a real token without that
//! scope: a set-up problem with its own code, not a guess. The token is the account, so there is
//! no clinic step, and the public API says nothing about online-booking settings, so that step
//! is not part of an EasyPractice report.

use super::answer::{Ctx, Verdict, endpoint, first_answer, oslo_date, parse};
use super::outbound::Auth;
use super::report::Plan;
use super::{CheckCode, CheckReport, StepId};
use crate::catalog::FieldId;
use url::Url;

fn read_status(status: u16) -> Verdict {
    match status {
        200 => Verdict::Answered,
        401 => Verdict::KeyRejected,
        403 => Verdict::KeyLacksAccess,
        _ => Verdict::VendorError,
    }
}

pub(super) async fn check(ctx: &Ctx<'_>, base: Url, plan: Plan) -> CheckReport {
    let Some(token) = ctx.details.value(FieldId::ApiKey) else {
        return plan.fail_next(CheckCode::Required, Some(FieldId::ApiKey));
    };
    let today = oslo_date(ctx.now, 0);
    let mut url = endpoint(&base, &["api", "v1", "bookings"]);
    url.query_pairs_mut()
        .append_pair("start", &today)
        .append_pair("end", &today);
    let answer = ctx
        .out
        .get(&url, ctx.allowed_hosts(), Auth::Bearer(token), ctx.deadline)
        .await;
    let (mut plan, fetched) = match first_answer(plan, answer, read_status) {
        Ok(answered) => answered,
        Err(report) => return report,
    };
    if parse::<serde_json::Map<String, serde_json::Value>>(&fetched.body).is_none() {
        return plan.fail_next(CheckCode::VendorBadResponse, None);
    }
    plan.passed(&[StepId::VendorReachable, StepId::KeyAccepted]);
    plan.finish()
}
