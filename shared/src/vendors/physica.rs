//! ASPIT Physica. No public API: the adapter speaks Bookinglink's proposed contract
//! (docs/vendor-contracts.md, section "ASPIT Physica", unconfirmed by the vendor); the apps "Online-booking" and the platform's app must be on in Physica; a clinic with several departments may send one.

use super::contract::Contract;

pub(super) const CONTRACT: Contract = Contract { departments: true };
