//! ASPIT Physica. No public API: the adapter speaks Bookinglink's proposed contract
//! (docs/vendor-contracts.md, section "ASPIT Physica", unconfirmed by the vendor). The clinic
//! turns on the apps Treatment Series, Contacts and Payers, Online Booking and EHF, then
//! DigiCare; a clinic with several departments may send one. Its hosts are a setting
//! (`VENDOR_ALLOWED_HOSTS_PHYSICA`), since ASPIT has not confirmed them.

use super::contract::Contract;

pub(super) const CONTRACT: Contract = Contract { departments: true };
