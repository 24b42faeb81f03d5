//! "Test kobling" and "Test og lagre": checking a location's booking-system details against
//! the vendor, and saving only what passed — with the key in Secrets Manager, the rest on the
//! location item, and a lockout on repeated failed checks.
//!
//! - `handler.rs`: the HTTP side of the two booking functions;
//! - `input.rs`: the form's body, validated against the catalog;
//! - `check.rs`: "Test kobling", and the check inside the lockout both routes run;
//! - `save.rs`: "Test og lagre": the check, then the key and the configuration, in order;
//! - `views.rs`: what the routes answer;
//! - `attempts.rs`: the lockout; `key_store.rs`: the API keys (Secrets Manager).

use std::sync::Arc;

use crate::clock::Clock;
use crate::store::Store;
use crate::vendors::VendorCheck;

pub mod attempts;
mod check;
pub mod handler;
mod input;
pub mod key_store;
mod save;
mod views;

use attempts::AttemptStore;
pub use check::test_connection;
pub use input::BookingInput;
use key_store::LocationKeys;
pub use save::test_and_save;
pub use views::{Saved, Tested, step_codes};

/// Everything the two booking functions need, built once per cold start.
pub struct BookingDeps {
    pub store: Arc<dyn Store>,
    pub attempts: Arc<dyn AttemptStore>,
    pub keys: LocationKeys,
    pub vendors: Arc<dyn VendorCheck>,
    pub clock: Arc<dyn Clock>,
}

#[cfg(all(feature = "dynamodb", feature = "secretsmanager"))]
impl BookingDeps {
    /// What both booking functions need: the table (as the store and the lockout), the key
    /// store, the vendor adapters, and `SECRET_NAME_PREFIX` (optional).
    pub fn from_wiring(env: &crate::wiring::Wiring) -> Result<Self, String> {
        let store = env.store()?;
        Ok(BookingDeps {
            store: store.clone(),
            attempts: store,
            keys: env.location_keys(),
            vendors: env.vendors()?,
            clock: env.clock(),
        })
    }
}
