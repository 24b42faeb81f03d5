//! ASPIT Psykbase. No public API: the adapter speaks Bookinglink's proposed contract
//! (docs/vendor-contracts.md, section "ASPIT Psykbase", unconfirmed by the vendor); the clinic chooses which calendar is exposed (one per location is possible); a department narrows it.

use super::contract::Contract;

pub(super) const CONTRACT: Contract = Contract { departments: true };
