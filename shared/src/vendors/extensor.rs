//! Extensor 05. No public API: Extensor 05 is a Windows program, and a clinic's booking URL
//! most likely opens an HTML booking page. So the check verifies what can be known: the URL is
//! https on Extensor's own host (the whole outbound guard: no IP literal, userinfo or port,
//! vetted DNS), and the page answers 2xx itself — no redirect, within the size cap. `404`/`410`
//! mean there is no such booking page. Whether a calendar is open for online booking cannot be
//! seen from a page, so that step is `not_verifiable`, and such a check succeeds (Extensor
//! confirms the set-up before the integration is switched on).

use super::answer::{Ctx, unanswered};
use super::outbound::{FetchError, check_outbound_url};
use super::report::Plan;
use super::{CheckCode, CheckReport, StepId};
use crate::catalog::FieldId;
use url::Url;
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

pub(super) async fn check(ctx: &Ctx<'_>, sandbox: &Option<Url>, mut plan: Plan) -> CheckReport {
    let field = Some(FieldId::BookingUrl);
    let Some(raw) = ctx.details.value(FieldId::BookingUrl) else {
        return plan.fail_next(CheckCode::Required, field);
    };
    let typed = match check_outbound_url(ctx.allowed_hosts(), raw) {
        Ok(url) => url,
        Err(code) => return unanswered(plan, FetchError::UrlRefused(code), field),
    };
    let url = target(&typed, sandbox);
    let fetched = match ctx
        .out
        .get_page(&url, ctx.allowed_hosts(), ctx.deadline)
        .await
    {
        Ok(fetched) => fetched,
        Err(error) => return unanswered(plan, error, field),
    };
    match fetched.status {
        200..=299 => {}
        404 | 410 => {
            plan.ok(StepId::VendorReachable);
            return plan.fail(StepId::ClinicFound, CheckCode::BookingPageNotFound, field);
        }
        _ => return plan.fail_next(CheckCode::VendorError, None),
    }
    plan.passed(&[StepId::VendorReachable, StepId::ClinicFound]);
    plan.not_verifiable(StepId::OnlineBookingOpen);
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
