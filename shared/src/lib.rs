//! Bookinglink's shared crate: the domain, storage, identity, errors and vendor adapters that
//! every Lambda function of the workspace is wired from. Handlers in `functions/` stay thin.

pub mod catalog;
pub mod clock;
pub mod i18n;
pub mod secret;
#[cfg(feature = "vendors")]
pub mod vendors;
