//! HANO. No public API: the adapter speaks Bookinglink's proposed contract
//! (docs/vendor-contracts.md, section "HANO", unconfirmed by the vendor); HANO clinics are addressed by clinic id only.

use super::contract::{self, Contract};
use super::report::Plan;
use super::{CheckReport, Ctx};
use crate::catalog::BookingDetails;
use url::Url;

const CONTRACT: Contract = Contract { departments: false };

pub(super) async fn check(
    ctx: &Ctx<'_>,
    base: Option<Url>,
    plan: Plan,
    details: &BookingDetails,
) -> CheckReport {
    contract::check(&CONTRACT, ctx, base, plan, details).await
}
