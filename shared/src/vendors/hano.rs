//! HANO. No public API: the adapter speaks Bookinglink's proposed contract
//! (docs/vendor-contracts.md, section "HANO", unconfirmed by the vendor); HANO clinics are addressed by clinic id only.

use super::contract::Contract;

pub(super) const CONTRACT: Contract = Contract { departments: false };
