//! Konfidens. No public API: the adapter speaks Bookinglink's proposed contract
//! (docs/vendor-contracts.md, section "Konfidens", unconfirmed by the vendor); Konfidens clinics are addressed by clinic id only; bookings later join a treatment series with the insurer's case id.

use super::contract::Contract;

pub(super) const CONTRACT: Contract = Contract { departments: false };
