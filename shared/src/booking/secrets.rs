//! API keys live in Secrets Manager, one secret per location. A save writes the new key as a
//! new version under a staging label, commits the location item that names that version, and
//! only then promotes the version to `AWSCURRENT`. Readers always fetch the version the
//! location item names, so they never pair a configuration with a key that is not its own,
//! whichever step fails.

use async_trait::async_trait;

use crate::secret::ApiKey;

pub const PENDING_STAGE: &str = "AWSPENDING";
pub const CURRENT_STAGE: &str = "AWSCURRENT";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("no such secret or version")]
    NotFound,
    #[error("Secrets Manager is throttling requests")]
    Throttled,
    #[error("secrets failure: {0}")]
    Backend(String),
}

#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Writes `key` as version `version_id` of secret `name` with only the pending label,
    /// creating the secret (with `tags`) if needed. Repeating the call is harmless.
    async fn put_pending(
        &self,
        name: &str,
        version_id: &str,
        key: &ApiKey,
        tags: &[(&str, &str)],
    ) -> Result<(), SecretError>;

    async fn get(&self, name: &str, version_id: &str) -> Result<ApiKey, SecretError>;

    /// Moves `AWSCURRENT` to `version_id`.
    async fn promote(&self, name: &str, version_id: &str) -> Result<(), SecretError>;
}

pub mod memory {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;

    /// (secret name, version id) → (key, staging labels)
    type Versions = BTreeMap<(String, String), (ApiKey, Vec<&'static str>)>;

    #[derive(Default)]
    pub struct MemorySecrets {
        versions: Mutex<Versions>,
    }

    impl MemorySecrets {
        pub fn current(&self, name: &str) -> Option<String> {
            let versions = self.versions.lock().unwrap();
            versions
                .iter()
                .find(|((n, _), (_, labels))| n == name && labels.contains(&CURRENT_STAGE))
                .map(|((_, v), _)| v.clone())
        }
    }

    #[async_trait]
    impl SecretStore for MemorySecrets {
        async fn put_pending(
            &self,
            name: &str,
            version_id: &str,
            key: &ApiKey,
            _tags: &[(&str, &str)],
        ) -> Result<(), SecretError> {
            let mut versions = self.versions.lock().unwrap();
            for ((n, _), (_, labels)) in versions.iter_mut() {
                if n == name {
                    labels.retain(|l| *l != PENDING_STAGE);
                }
            }
            versions
                .entry((name.to_string(), version_id.to_string()))
                .or_insert_with(|| (key.clone(), Vec::new()))
                .1
                .push(PENDING_STAGE);
            Ok(())
        }

        async fn get(&self, name: &str, version_id: &str) -> Result<ApiKey, SecretError> {
            let versions = self.versions.lock().unwrap();
            versions
                .get(&(name.to_string(), version_id.to_string()))
                .map(|(key, _)| key.clone())
                .ok_or(SecretError::NotFound)
        }

        async fn promote(&self, name: &str, version_id: &str) -> Result<(), SecretError> {
            let mut versions = self.versions.lock().unwrap();
            if !versions.contains_key(&(name.to_string(), version_id.to_string())) {
                return Err(SecretError::NotFound);
            }
            for ((n, v), (_, labels)) in versions.iter_mut() {
                if n == name {
                    labels.retain(|l| *l != CURRENT_STAGE);
                    if v == version_id {
                        labels.push(CURRENT_STAGE);
                    }
                }
            }
            Ok(())
        }
    }
}

#[cfg(feature = "secretsmanager")]
pub mod aws {
    use aws_sdk_secretsmanager::Client;

    use crate::aws::LazyClient;
    use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
    use aws_sdk_secretsmanager::types::Tag;

    use super::*;

    #[derive(Clone, Debug)]
    pub struct SecretsManager {
        client: LazyClient<Client>,
    }

    impl SecretsManager {
        /// From a client, or from a [`LazyClient`] the first request that needs a key builds.
        pub fn new(client: impl Into<LazyClient<Client>>) -> Self {
            SecretsManager {
                client: client.into(),
            }
        }
    }

    fn map<E, R>(err: SdkError<E, R>) -> SecretError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        match err.code() {
            Some("ResourceNotFoundException") => SecretError::NotFound,
            Some("ThrottlingException" | "LimitExceededException") => SecretError::Throttled,
            // The error context never holds the secret value: requests are not echoed.
            _ => SecretError::Backend(DisplayErrorContext(&err).to_string()),
        }
    }

    #[async_trait]
    impl SecretStore for SecretsManager {
        async fn put_pending(
            &self,
            name: &str,
            version_id: &str,
            key: &ApiKey,
            tags: &[(&str, &str)],
        ) -> Result<(), SecretError> {
            let put = || {
                self.client
                    .put_secret_value()
                    .secret_id(name)
                    .client_request_token(version_id)
                    .secret_string(key.expose())
                    .version_stages(PENDING_STAGE)
                    .send()
            };
            match put().await {
                Ok(_) => Ok(()),
                Err(err) if err.code() == Some("ResourceNotFoundException") => {
                    // First key for this location: create the secret without a value, so no
                    // version is labelled current before the location item names it.
                    let mut create = self
                        .client
                        .create_secret()
                        .name(name)
                        .description("Booking-system API key of one Bookinglink location");
                    for (k, v) in tags {
                        create = create.tags(Tag::builder().key(*k).value(*v).build());
                    }
                    match create.send().await {
                        Ok(_) => {}
                        Err(err) if err.code() == Some("ResourceExistsException") => {}
                        Err(err) => return Err(map(err)),
                    }
                    put().await.map(|_| ()).map_err(map)
                }
                Err(err) => Err(map(err)),
            }
        }

        async fn get(&self, name: &str, version_id: &str) -> Result<ApiKey, SecretError> {
            let out = self
                .client
                .get_secret_value()
                .secret_id(name)
                .version_id(version_id)
                .send()
                .await
                .map_err(map)?;
            out.secret_string()
                .map(ApiKey::new)
                .ok_or(SecretError::NotFound)
        }

        async fn promote(&self, name: &str, version_id: &str) -> Result<(), SecretError> {
            let described = self
                .client
                .describe_secret()
                .secret_id(name)
                .send()
                .await
                .map_err(map)?;
            let current = described.version_ids_to_stages().and_then(|versions| {
                versions
                    .iter()
                    .find(|(_, stages)| stages.iter().any(|s| s == CURRENT_STAGE))
                    .map(|(v, _)| v.clone())
            });
            if current.as_deref() == Some(version_id) {
                return Ok(());
            }
            self.client
                .update_secret_version_stage()
                .secret_id(name)
                .version_stage(CURRENT_STAGE)
                .move_to_version_id(version_id)
                .set_remove_from_version_id(current)
                .send()
                .await
                .map_err(map)?;
            Ok(())
        }
    }
}
