//! ASPIT Psykbase. No public API: the adapter speaks Bookinglink's proposed contract
//! (docs/vendor-contracts.md, section "ASPIT Psykbase", unconfirmed by the vendor); the clinic chooses which calendar is exposed (one per location is possible); a department narrows it.

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
