//! How every function builds its dependencies at a cold start, in one style: its `App::from_env`
//! opens the environment once ([`Wiring::from_env`]: AWS settings, the table, the development
//! identity switch) and takes each dependency it needs from here. Missing settings fail the cold
//! start with the variable's name. Clients of services only some requests use (Secrets Manager,
//! SES) are built on first use ([`crate::aws::LazyClient`]); DynamoDB, which every request uses,
//! at once.

use std::sync::Arc;

use crate::aws::{LazyClient, SdkConfig};
use crate::clock::{Clock, SystemClock};

/// A function's environment, read once per cold start.
pub struct Wiring {
    config: SdkConfig,
}

impl Wiring {
    /// The AWS settings Lambda gives every function (see [`crate::aws::config`]).
    pub fn from_env() -> Result<Self, String> {
        Ok(Wiring {
            config: crate::aws::config()?,
        })
    }

    /// A required setting, by name.
    pub fn required(&self, name: &str) -> Result<String, String> {
        crate::runtime::required_env(name)
    }

    /// `DEV_IDENTITY_HEADERS=true`: callers from development headers (set only by `scripts/dev`).
    pub fn dev_identity_headers(&self) -> bool {
        crate::identity::dev_identity_enabled_from_env()
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::new(SystemClock)
    }

    /// The table (`TABLE_NAME`); one store serves every store trait a function uses.
    #[cfg(feature = "dynamodb")]
    pub fn store(&self) -> Result<Arc<crate::store::dynamo::DynamoStore>, String> {
        Ok(Arc::new(crate::store::dynamo::DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&self.config),
            self.required("TABLE_NAME")?,
        )))
    }

    /// The API keys in Secrets Manager.
    #[cfg(all(feature = "secretsmanager", feature = "vendors"))]
    pub fn key_store(&self) -> Arc<crate::booking::key_store::aws::SecretsManager> {
        Arc::new(crate::booking::key_store::aws::SecretsManager::new(
            LazyClient::on_first_use(&self.config, aws_sdk_secretsmanager::Client::new),
        ))
    }

    /// The locations' keys: [`Wiring::key_store`] under `SECRET_NAME_PREFIX` (optional).
    #[cfg(all(feature = "secretsmanager", feature = "vendors"))]
    pub fn location_keys(&self) -> crate::booking::key_store::LocationKeys {
        crate::booking::key_store::LocationKeys::from_env(self.key_store())
    }

    /// SES from `MAIL_SENDER` (a verified identity), through `SES_CONFIGURATION_SET` if set.
    #[cfg(feature = "ses")]
    pub fn mailer(&self) -> Result<Arc<crate::mail::SesMailer>, String> {
        Ok(Arc::new(crate::mail::SesMailer::new(
            LazyClient::on_first_use(&self.config, aws_sdk_ses::Client::new),
            self.required("MAIL_SENDER")?,
            std::env::var("SES_CONFIGURATION_SET").ok(),
        )))
    }

    /// The vendor adapters, with their settings from the environment, on the function's clock.
    #[cfg(feature = "vendors")]
    pub fn vendors(&self) -> Result<Arc<crate::vendors::Vendors>, String> {
        Ok(Arc::new(
            crate::vendors::Vendors::from_env()
                .map_err(|e| e.to_string())?
                .with_clock(self.clock()),
        ))
    }
}
