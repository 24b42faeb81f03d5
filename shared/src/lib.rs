//! Bookinglink's shared crate: the domain, storage, identity, errors and vendor adapters that
//! every Lambda function of the workspace is wired from. Handlers in `functions/` stay thin.

pub mod api_key;
#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "vendors")]
pub mod booking;
pub mod catalog;
pub mod clock;
pub mod domain;
pub mod http;
pub mod i18n;
pub mod identity;
pub mod mail;
pub mod messages;
pub mod metrics;
pub mod model;
pub mod problem;
#[cfg(feature = "vendors")]
pub mod revalidate;
pub mod routes;
pub mod runtime;
pub mod store;
#[cfg(feature = "https")]
pub mod tls;
pub mod validate;
#[cfg(feature = "vendors")]
pub mod vendors;
#[cfg(feature = "aws")]
pub mod wiring;
