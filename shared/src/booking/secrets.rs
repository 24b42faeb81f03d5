//! API keys live in Secrets Manager, one secret per location. A save writes the new key as a
//! new version labelled `AWSPENDING`, commits the location item that names that version, and
//! only then promotes the version to `AWSCURRENT` and drops its pending label. Readers always
//! fetch the version the location item names, so they never pair a configuration with a key
//! that is not its own, whichever step fails.
//!
//! Every path ends with the committed version labelled `AWSCURRENT` and no `AWSPENDING` left
//! behind: a failed commit takes its pending label back ([`discard`]); a lost promotion or
//! clean-up is repaired by the next save before it writes anything ([`repair`]), so a new
//! pending version never takes the last label off the committed one (an unlabelled version is
//! one Secrets Manager may delete). A location switched to a system without a key has its
//! secret scheduled for deletion, recoverable for [`RECOVERY_WINDOW_DAYS`].

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::secret::ApiKey;

pub const PENDING_STAGE: &str = "AWSPENDING";
pub const CURRENT_STAGE: &str = "AWSCURRENT";
/// How long a removed key can still be restored (Secrets Manager allows 7–30 days).
pub const RECOVERY_WINDOW_DAYS: u32 = 7;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("no such secret or version")]
    NotFound,
    #[error("Secrets Manager is throttling requests")]
    Throttled,
    #[error("secrets failure: {0}")]
    Backend(String),
}

/// Which versions carry the labels the save uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stages {
    pub current: Option<String>,
    pub pending: Option<String>,
    /// When the secret is scheduled for deletion.
    pub deletion_date: Option<Timestamp>,
}

#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Writes `key` as version `version_id` of secret `name` with only the pending label,
    /// creating the secret (with `tags`) if needed, or restoring it if it was scheduled for
    /// deletion. True when this created the secret: its first version is also `AWSCURRENT`.
    /// Repeating the call is harmless.
    async fn put_pending(
        &self,
        name: &str,
        version_id: &str,
        key: &ApiKey,
        tags: &[(&str, &str)],
    ) -> Result<bool, SecretError>;

    async fn get(&self, name: &str, version_id: &str) -> Result<ApiKey, SecretError>;

    /// The versions labelled current and pending; `None` when there is no such secret.
    async fn stages(&self, name: &str) -> Result<Option<Stages>, SecretError>;

    /// Moves label `stage` to version `to` and off version `from`; with `to = None` only takes
    /// it off `from`.
    async fn move_stage(
        &self,
        name: &str,
        stage: &str,
        to: Option<&str>,
        from: Option<&str>,
    ) -> Result<(), SecretError>;

    /// Cancels a scheduled deletion.
    async fn restore(&self, name: &str) -> Result<(), SecretError>;

    /// Schedules the secret's deletion `recovery_days` after `now`; when it will be deleted
    /// (already scheduled: the date set then), or `None` if there is no secret.
    async fn schedule_deletion(
        &self,
        name: &str,
        recovery_days: u32,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, SecretError>;
}

/// Before a save writes a new key (or reuses the stored one): puts `AWSCURRENT` back on the
/// committed version if a promotion was lost, and takes away a pending label a lost commit or
/// clean-up left. Returns the version labelled current afterwards (`None`: no secret).
pub async fn repair(
    store: &dyn SecretStore,
    name: &str,
    committed: &str,
) -> Result<Option<String>, SecretError> {
    let Some(stages) = store.stages(name).await? else {
        return Ok(None);
    };
    if stages.current.as_deref() != Some(committed) {
        tracing::warn!("committed key version was not current; repaired");
        store
            .move_stage(
                name,
                CURRENT_STAGE,
                Some(committed),
                stages.current.as_deref(),
            )
            .await?;
    }
    if let Some(pending) = stages.pending.as_deref() {
        tracing::warn!("a pending key version was left behind; its label is removed");
        store
            .move_stage(name, PENDING_STAGE, None, Some(pending))
            .await?;
    }
    Ok(Some(committed.to_string()))
}

/// After the commit: `version` becomes current (taken off `current`, the version that held
/// the label; looked up when unknown) and loses its pending label. Both label moves go out
/// together.
pub async fn promote(
    store: &dyn SecretStore,
    name: &str,
    version: &str,
    current: Option<&str>,
) -> Result<(), SecretError> {
    let looked_up;
    let current = match current {
        Some(current) => Some(current),
        None => {
            looked_up = store.stages(name).await?.and_then(|s| s.current);
            looked_up.as_deref()
        }
    };
    let make_current = async {
        if current == Some(version) {
            return Ok(());
        }
        store
            .move_stage(name, CURRENT_STAGE, Some(version), current)
            .await
    };
    let (made_current, unpended) = tokio::join!(
        make_current,
        store.move_stage(name, PENDING_STAGE, None, Some(version))
    );
    made_current.and(unpended)
}

/// Before a key is written for a location that had one removed (it switched to a system
/// without a key, and now back): cancels the secret's scheduled deletion.
pub async fn revive(store: &dyn SecretStore, name: &str) -> Result<(), SecretError> {
    if let Some(stages) = store.stages(name).await?
        && stages.deletion_date.is_some()
    {
        store.restore(name).await?;
    }
    Ok(())
}

/// After a failed commit: the version nothing names loses its pending label, so no working
/// key waits under it.
pub async fn discard(store: &dyn SecretStore, name: &str, version: &str) {
    if let Err(e) = store
        .move_stage(name, PENDING_STAGE, None, Some(version))
        .await
    {
        tracing::warn!(error = %e, "pending key version not discarded; the next save repairs it");
    }
}

pub mod memory {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Secret {
        /// version id → (key, staging labels), in creation order by id.
        versions: BTreeMap<String, (ApiKey, Vec<&'static str>)>,
        deletion_date: Option<Timestamp>,
    }

    #[derive(Default)]
    pub struct MemorySecrets {
        secrets: Mutex<BTreeMap<String, Secret>>,
    }

    fn label(stage: &str) -> &'static str {
        if stage == CURRENT_STAGE {
            CURRENT_STAGE
        } else {
            PENDING_STAGE
        }
    }

    impl MemorySecrets {
        pub fn current(&self, name: &str) -> Option<String> {
            self.stages_now(name).and_then(|s| s.current)
        }

        fn stages_now(&self, name: &str) -> Option<Stages> {
            let secrets = self.secrets.lock().unwrap();
            let secret = secrets.get(name)?;
            let holder = |stage: &str| {
                secret
                    .versions
                    .iter()
                    .find(|(_, (_, labels))| labels.contains(&stage))
                    .map(|(v, _)| v.clone())
            };
            Some(Stages {
                current: holder(CURRENT_STAGE),
                pending: holder(PENDING_STAGE),
                deletion_date: secret.deletion_date,
            })
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
        ) -> Result<bool, SecretError> {
            let mut secrets = self.secrets.lock().unwrap();
            let created = !secrets.contains_key(name);
            let secret = secrets.entry(name.to_string()).or_default();
            secret.deletion_date = None;
            let first = secret.versions.is_empty();
            for (v, (_, labels)) in secret.versions.iter_mut() {
                if v != version_id {
                    labels.retain(|l| *l != PENDING_STAGE);
                }
            }
            let labels = &mut secret
                .versions
                .entry(version_id.to_string())
                .or_insert_with(|| (key.clone(), Vec::new()))
                .1;
            if !labels.contains(&PENDING_STAGE) {
                labels.push(PENDING_STAGE);
            }
            // As in Secrets Manager: a secret's first version is current whatever was asked.
            if first {
                labels.push(CURRENT_STAGE);
            }
            Ok(created)
        }

        async fn get(&self, name: &str, version_id: &str) -> Result<ApiKey, SecretError> {
            let secrets = self.secrets.lock().unwrap();
            secrets
                .get(name)
                .and_then(|s| s.versions.get(version_id))
                .map(|(key, _)| key.clone())
                .ok_or(SecretError::NotFound)
        }

        async fn stages(&self, name: &str) -> Result<Option<Stages>, SecretError> {
            Ok(self.stages_now(name))
        }

        async fn move_stage(
            &self,
            name: &str,
            stage: &str,
            to: Option<&str>,
            from: Option<&str>,
        ) -> Result<(), SecretError> {
            let mut secrets = self.secrets.lock().unwrap();
            let secret = secrets.get_mut(name).ok_or(SecretError::NotFound)?;
            let stage = label(stage);
            if to.is_some_and(|v| !secret.versions.contains_key(v)) {
                return Err(SecretError::NotFound);
            }
            let holder = secret
                .versions
                .iter()
                .find(|(_, (_, labels))| labels.contains(&stage))
                .map(|(v, _)| v.clone());
            if holder.is_some() && holder.as_deref() != from && holder.as_deref() != to {
                return Err(SecretError::Backend(format!(
                    "{stage} is on another version than the one named"
                )));
            }
            for (v, (_, labels)) in secret.versions.iter_mut() {
                labels.retain(|l| *l != stage);
                if Some(v.as_str()) == to {
                    labels.push(stage);
                }
            }
            Ok(())
        }

        async fn restore(&self, name: &str) -> Result<(), SecretError> {
            let mut secrets = self.secrets.lock().unwrap();
            let secret = secrets.get_mut(name).ok_or(SecretError::NotFound)?;
            secret.deletion_date = None;
            Ok(())
        }

        async fn schedule_deletion(
            &self,
            name: &str,
            recovery_days: u32,
            now: Timestamp,
        ) -> Result<Option<Timestamp>, SecretError> {
            let mut secrets = self.secrets.lock().unwrap();
            Ok(secrets.get_mut(name).map(|secret| {
                *secret
                    .deletion_date
                    .get_or_insert(now + i64::from(recovery_days) * 86_400)
            }))
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
        ) -> Result<bool, SecretError> {
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
                Ok(_) => Ok(false),
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
                    let created = match create.send().await {
                        Ok(_) => true,
                        Err(err) if err.code() == Some("ResourceExistsException") => false,
                        Err(err) => return Err(map(err)),
                    };
                    put().await.map(|_| created).map_err(map)
                }
                // Scheduled for deletion when the location switched to a system without a
                // key: a key again brings the secret back, with its tags and history.
                Err(err) if err.code() == Some("InvalidRequestException") => {
                    self.client
                        .restore_secret()
                        .secret_id(name)
                        .send()
                        .await
                        .map_err(map)?;
                    put().await.map(|_| false).map_err(map)
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

        async fn stages(&self, name: &str) -> Result<Option<Stages>, SecretError> {
            let described = match self.client.describe_secret().secret_id(name).send().await {
                Ok(out) => out,
                Err(err) if err.code() == Some("ResourceNotFoundException") => return Ok(None),
                Err(err) => return Err(map(err)),
            };
            let holder = |stage: &str| {
                described.version_ids_to_stages().and_then(|versions| {
                    versions
                        .iter()
                        .find(|(_, stages)| stages.iter().any(|s| s == stage))
                        .map(|(v, _)| v.clone())
                })
            };
            Ok(Some(Stages {
                current: holder(CURRENT_STAGE),
                pending: holder(PENDING_STAGE),
                deletion_date: described.deleted_date().map(|d| d.secs()),
            }))
        }

        async fn move_stage(
            &self,
            name: &str,
            stage: &str,
            to: Option<&str>,
            from: Option<&str>,
        ) -> Result<(), SecretError> {
            self.client
                .update_secret_version_stage()
                .secret_id(name)
                .version_stage(stage)
                .set_move_to_version_id(to.map(str::to_string))
                .set_remove_from_version_id(from.map(str::to_string))
                .send()
                .await
                .map_err(map)?;
            Ok(())
        }

        async fn restore(&self, name: &str) -> Result<(), SecretError> {
            self.client
                .restore_secret()
                .secret_id(name)
                .send()
                .await
                .map_err(map)?;
            Ok(())
        }

        async fn schedule_deletion(
            &self,
            name: &str,
            recovery_days: u32,
            _now: Timestamp,
        ) -> Result<Option<Timestamp>, SecretError> {
            match self
                .client
                .delete_secret()
                .secret_id(name)
                .recovery_window_in_days(i64::from(recovery_days))
                .send()
                .await
            {
                Ok(out) => Ok(Some(
                    out.deletion_date().map(|d| d.secs()).unwrap_or_default(),
                )),
                Err(err) if err.code() == Some("ResourceNotFoundException") => Ok(None),
                // Already scheduled: the date set then.
                Err(err) if err.code() == Some("InvalidRequestException") => {
                    Ok(self.stages(name).await?.and_then(|s| s.deletion_date))
                }
                Err(err) => Err(map(err)),
            }
        }
    }
}
