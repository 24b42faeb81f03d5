//! EasyPractice, through its public REST API (`https://system.easypractice.net/api/v1/`,
//! `Authorization: Bearer <personal access token>`).
//!
//! One read: `GET {base}/api/v1/bookings?start=<today>&end=<today>` — the cheapest documented
//! call that proves the token works. `401`/`403` mean the token was rejected. The token is the
//! account, so there is no clinic step, and the public API says nothing about online-booking
//! settings, so that step is not part of an EasyPractice report.

use super::outbound::Auth;
use super::report::Plan;
use super::{CheckCode, CheckReport, Ctx, StepId, endpoint, first_answer, oslo_date, parse};
use crate::catalog::{BookingDetails, FieldId};
use url::Url;

pub(super) async fn check(
    ctx: &Ctx<'_>,
    base: Url,
    plan: Plan,
    details: &BookingDetails,
) -> CheckReport {
    let Some(token) = details.value(FieldId::ApiKey) else {
        return plan.fail_next(CheckCode::Required, Some(FieldId::ApiKey));
    };
    let today = oslo_date(0);
    let mut url = endpoint(&base, &["api", "v1", "bookings"]);
    url.query_pairs_mut()
        .append_pair("start", &today)
        .append_pair("end", &today);
    let answer = ctx
        .out
        .get(&url, ctx.allowed_hosts(), Auth::Bearer(token), ctx.deadline)
        .await;
    let (mut plan, fetched) = match first_answer(plan, answer, false) {
        Ok(answered) => answered,
        Err(report) => return report,
    };
    if parse::<serde_json::Map<String, serde_json::Value>>(&fetched.body).is_none() {
        return plan.fail_next(CheckCode::VendorBadResponse, None);
    }
    plan.ok(StepId::VendorReachable);
    plan.ok(StepId::KeyAccepted);
    plan.finish()
}
