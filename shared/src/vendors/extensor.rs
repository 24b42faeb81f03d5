//! Extensor 05. No public API: the contract is ours (docs/vendor-contracts.md, unconfirmed).
//!
//! The administrator's booking URL identifies the clinic. One read: `GET {booking URL}` with
//! `Accept: application/json`, answered by `{"calendars": [{"id", "name", "onlineBooking"}]}`.
//! `404`/`410` mean Extensor does not know the URL. The URL is what a user typed, so it passes
//! the whole outbound guard (https, Extensor host, no IP literal/userinfo/port, vetted DNS).

use super::outbound::Auth;
use super::report::Plan;
use super::{CheckCode, CheckReport, Ctx, StepId, fetch_failure, parse};
use crate::catalog::{BookingDetails, FieldId, check_outbound_url};
use serde::Deserialize;
use url::Url;

#[derive(Deserialize)]
struct Clinic {
    calendars: Vec<Calendar>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Calendar {
    #[serde(default)]
    online_booking: bool,
}

/// In sandbox mode the typed URL (already guarded) goes to `{sandbox}/extensor{path}?{query}`.
fn target(typed: &Url, sandbox: &Option<Url>) -> Url {
    match sandbox {
        None => typed.clone(),
        Some(sandbox) => {
            let mut url = sandbox.clone();
            url.set_path(&format!("/extensor{}", typed.path()));
            url.set_query(typed.query());
            url
        }
    }
}

pub(super) async fn check(
    ctx: &Ctx<'_>,
    sandbox: &Option<Url>,
    mut plan: Plan,
    details: &BookingDetails,
) -> CheckReport {
    let field = Some(FieldId::BookingUrl);
    let Some(raw) = details.value(FieldId::BookingUrl) else {
        return plan.fail_next(CheckCode::Required, field);
    };
    let typed = match check_outbound_url(ctx.allowed_hosts(), raw) {
        Ok(url) => url,
        Err(code) => {
            let (code, field) = fetch_failure(super::outbound::FetchError::UrlRefused(code), field);
            return plan.fail_next(code, field);
        }
    };
    let url = target(&typed, sandbox);
    let fetched = match ctx
        .out
        .get(&url, ctx.allowed_hosts(), Auth::None, ctx.deadline)
        .await
    {
        Ok(fetched) => fetched,
        Err(error) => {
            let (code, field) = fetch_failure(error, field);
            return plan.fail_next(code, field);
        }
    };
    match fetched.status {
        200 => {}
        404 | 410 => {
            plan.ok(StepId::VendorReachable);
            return plan.fail(StepId::ClinicFound, CheckCode::ClinicNotFound, field);
        }
        _ => return plan.fail_next(CheckCode::VendorError, None),
    }
    let Some(clinic) = parse::<Clinic>(&fetched.body) else {
        return plan.fail_next(CheckCode::VendorBadResponse, None);
    };
    plan.ok(StepId::VendorReachable);
    plan.ok(StepId::ClinicFound);
    if !clinic.calendars.iter().any(|c| c.online_booking) {
        return plan.fail(
            StepId::OnlineBookingOpen,
            CheckCode::NoOnlineBookingCalendar,
            None,
        );
    }
    plan.ok(StepId::OnlineBookingOpen);
    plan.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_rewrite_keeps_path_and_query_only() {
        let typed = Url::parse("https://booking.extensor.no/klinikk/ok?x=1#frag").unwrap();
        let sandbox = Some(Url::parse("http://127.0.0.1:4000").unwrap());
        assert_eq!(
            target(&typed, &sandbox).as_str(),
            "http://127.0.0.1:4000/extensor/klinikk/ok?x=1"
        );
        assert_eq!(target(&typed, &None), typed);
    }
}
