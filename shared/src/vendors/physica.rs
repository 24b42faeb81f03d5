//! ASPIT Physica. No public API: the adapter speaks Bookinglink's proposed contract
//! (docs/vendor-contracts.md, section "ASPIT Physica", unconfirmed by the vendor); the apps "Online-booking" and the platform's app must be on in Physica; a clinic with several departments may send one.

use super::contract::{self, Contract};
use super::report::Plan;
use super::{CheckReport, Ctx};
use crate::catalog::BookingDetails;
use url::Url;

const CONTRACT: Contract = Contract { departments: true };

pub(super) async fn check(
    ctx: &Ctx<'_>,
    base: Option<Url>,
    plan: Plan,
    details: &BookingDetails,
) -> CheckReport {
    contract::check(&CONTRACT, ctx, base, plan, details).await
}
