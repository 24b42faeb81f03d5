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

fn map<E, R>(err: SdkError<E, R>) -> KeyStoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match err.code() {
        Some("ResourceNotFoundException") => KeyStoreError::NotFound,
        Some("ThrottlingException" | "LimitExceededException") => KeyStoreError::Throttled,
        // The error context never holds the secret value: requests are not echoed.
        _ => KeyStoreError::Backend(DisplayErrorContext(&err).to_string()),
    }
}

#[async_trait]
impl KeyStore for SecretsManager {
    async fn put_pending(&self, name: &str, version: NewVersion<'_>) -> Result<bool> {
        let put = || {
            self.client
                .put_secret_value()
                .secret_id(name)
                .client_request_token(version.id)
                .secret_string(version.key.expose())
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
                for (k, v) in version.tags {
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
                self.restore(name).await?;
                put().await.map(|_| false).map_err(map)
            }
            Err(err) => Err(map(err)),
        }
    }

    async fn get(&self, name: &str, version_id: &str) -> Result<ApiKey> {
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
            .ok_or(KeyStoreError::NotFound)
    }

    async fn stages(&self, name: &str) -> Result<Option<Stages>> {
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

    async fn move_stage(&self, name: &str, change: StageMove<'_>) -> Result<()> {
        self.client
            .update_secret_version_stage()
            .secret_id(name)
            .version_stage(change.stage)
            .set_move_to_version_id(change.to.map(str::to_string))
            .set_remove_from_version_id(change.from.map(str::to_string))
            .send()
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn restore(&self, name: &str) -> Result<()> {
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
    ) -> Result<Option<Timestamp>> {
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
