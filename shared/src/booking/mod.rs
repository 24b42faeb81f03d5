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
use crate::model::Location;
use crate::problem::Problem;
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
use key_store::KeyStore;
pub use save::test_and_save;
pub use views::{Saved, Tested, step_codes};

pub const DEFAULT_SECRET_PREFIX: &str = "bookinglink/booking/";

/// Everything the two booking functions need, built once per cold start.
pub struct BookingDeps {
    pub store: Arc<dyn Store>,
    pub attempts: Arc<dyn AttemptStore>,
    pub secrets: Arc<dyn KeyStore>,
    pub vendors: Arc<dyn VendorCheck>,
    pub clock: Arc<dyn Clock>,
    pub secret_prefix: String,
}

/// The name of a location's key in Secrets Manager: the one place that spells it, for the
/// booking functions and revalidation alike.
pub fn secret_name(prefix: &str, company_id: &str, location_id: &str) -> String {
    format!("{prefix}{company_id}/{location_id}")
}

/// `SECRET_NAME_PREFIX`, or [`DEFAULT_SECRET_PREFIX`] when it is not set.
pub fn secret_prefix_from_env() -> String {
    std::env::var("SECRET_NAME_PREFIX").unwrap_or_else(|_| DEFAULT_SECRET_PREFIX.to_string())
}

impl BookingDeps {
    pub fn secret_name(&self, company_id: &str, location_id: &str) -> String {
        secret_name(&self.secret_prefix, company_id, location_id)
    }

    /// The location's key as stored in version `version_id` of its secret.
    async fn stored_key(
        &self,
        location: &Location,
        version_id: &str,
    ) -> Result<crate::api_key::ApiKey, Problem> {
        let name = self.secret_name(&location.company_id, &location.id);
        let key = self.secrets.get(&name, version_id).await?;
        Ok(key)
    }
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
            secrets: env.key_store(),
            vendors: env.vendors()?,
            clock: env.clock(),
            secret_prefix: secret_prefix_from_env(),
        })
    }
}
