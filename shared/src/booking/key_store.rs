//! The store of API keys: Secrets Manager, one secret per location (`aws.rs`; `memory.rs` for
//! unit tests). A save writes the new key as a new version labelled `AWSPENDING`, commits the
//! location item that names that version, and only then promotes the version to `AWSCURRENT`
//! and drops its pending label. Readers always fetch the version the location item names, so
//! they never pair a configuration with a key that is not its own, whichever step fails.
//!
//! Every path ends with the committed version labelled `AWSCURRENT` and no `AWSPENDING` left
//! behind: a failed commit takes its pending label back ([`discard`]); a lost promotion or
//! clean-up is repaired by the next save before it writes anything ([`repair`]), so a new
//! pending version never takes the last label off the committed one (an unlabelled version is
//! one Secrets Manager may delete). A location switched to a system without a key has its
//! secret scheduled for deletion, recoverable for [`RECOVERY_WINDOW_DAYS`].

use std::sync::Arc;

use async_trait::async_trait;

use crate::api_key::ApiKey;
use crate::clock::Timestamp;

#[cfg(feature = "secretsmanager")]
pub mod aws;
pub mod memory;

pub const PENDING_STAGE: &str = "AWSPENDING";
pub const CURRENT_STAGE: &str = "AWSCURRENT";
/// How long a removed key can still be restored (Secrets Manager allows 7–30 days).
pub const RECOVERY_WINDOW_DAYS: u32 = 7;

/// The prefix of every key's secret name when `SECRET_NAME_PREFIX` is not set.
const DEFAULT_SECRET_PREFIX: &str = "bookinglink/booking/";

/// Where the locations' keys are: the key store, and the prefix of every secret's name. The
/// booking functions and revalidation reach a location's key only through it.
#[derive(Clone)]
pub struct LocationKeys {
    pub store: Arc<dyn KeyStore>,
    pub prefix: String,
}

impl LocationKeys {
    /// The keys in `store` under `SECRET_NAME_PREFIX`, or `DEFAULT_SECRET_PREFIX` when it is
    /// not set.
    pub fn from_env(store: Arc<dyn KeyStore>) -> LocationKeys {
        let prefix = std::env::var("SECRET_NAME_PREFIX")
            .unwrap_or_else(|_| DEFAULT_SECRET_PREFIX.to_string());
        LocationKeys { store, prefix }
    }

    /// The name of a location's secret: the one place that spells it.
    pub fn name(&self, company_id: &str, location_id: &str) -> String {
        format!("{}{company_id}/{location_id}", self.prefix)
    }

    /// A location's key as stored in version `version_id` of its secret.
    pub async fn stored(
        &self,
        company_id: &str,
        location_id: &str,
        version_id: &str,
    ) -> Result<ApiKey> {
        let name = self.name(company_id, location_id);
        self.store.get(&name, version_id).await
    }
}

/// What every key store method returns.
pub type Result<T, E = KeyStoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyStoreError {
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

/// A key written as a new version of a secret, with only the pending label.
#[derive(Clone, Copy, Debug)]
pub struct NewVersion<'a> {
    pub id: &'a str,
    pub key: &'a ApiKey,
    /// The secret's tags, when this creates it.
    pub tags: &'a [(&'a str, &'a str)],
}

/// One staging label moved: onto version `to` (`None`: onto none) and off version `from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageMove<'a> {
    pub stage: &'a str,
    pub to: Option<&'a str>,
    pub from: Option<&'a str>,
}

impl<'a> StageMove<'a> {
    /// `stage` onto `to`, off `from` (the version that held it, if known).
    pub fn onto(stage: &'a str, to: &'a str, from: Option<&'a str>) -> Self {
        StageMove {
            stage,
            to: Some(to),
            from,
        }
    }

    /// `stage` off `from`, onto no version.
    pub fn off(stage: &'a str, from: &'a str) -> Self {
        StageMove {
            stage,
            to: None,
            from: Some(from),
        }
    }
}

#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Writes `version` of secret `name` with only the pending label, creating the secret
    /// (with the version's tags) if needed, or restoring it if it was scheduled for deletion.
    /// True when this created the secret: its first version is also `AWSCURRENT`. Repeating
    /// the call is harmless.
    async fn put_pending(&self, name: &str, version: NewVersion<'_>) -> Result<bool>;

    async fn get(&self, name: &str, version_id: &str) -> Result<ApiKey>;

    /// The versions labelled current and pending; `None` when there is no such secret.
    async fn stages(&self, name: &str) -> Result<Option<Stages>>;

    /// Moves a label as `change` says; refused when the label is on a version it does not name.
    async fn move_stage(&self, name: &str, change: StageMove<'_>) -> Result<()>;

    /// Cancels a scheduled deletion.
    async fn restore(&self, name: &str) -> Result<()>;

    /// Schedules the secret's deletion `recovery_days` after `now`; when it will be deleted
    /// (already scheduled: the date set then), or `None` if there is no secret.
    async fn schedule_deletion(
        &self,
        name: &str,
        recovery_days: u32,
        now: Timestamp,
    ) -> Result<Option<Timestamp>>;
}

/// Before a save writes a new key (or reuses the stored one): puts `AWSCURRENT` back on the
/// committed version if a promotion was lost, and takes away a pending label a lost commit or
/// clean-up left. Returns the version labelled current afterwards (`None`: no secret).
pub async fn repair(store: &dyn KeyStore, name: &str, committed: &str) -> Result<Option<String>> {
    let Some(stages) = store.stages(name).await? else {
        return Ok(None);
    };
    if stages.current.as_deref() != Some(committed) {
        tracing::warn!("committed key version was not current; repaired");
        let onto_committed = StageMove::onto(CURRENT_STAGE, committed, stages.current.as_deref());
        store.move_stage(name, onto_committed).await?;
    }
    if let Some(pending) = stages.pending.as_deref() {
        tracing::warn!("a pending key version was left behind; its label is removed");
        store
            .move_stage(name, StageMove::off(PENDING_STAGE, pending))
            .await?;
    }
    Ok(Some(committed.to_string()))
}

/// After the commit: `version` becomes current (taken off `current`, the version that held
/// the label; looked up when unknown) and loses its pending label. Both label moves go out
/// together.
pub async fn promote(
    store: &dyn KeyStore,
    name: &str,
    version: &str,
    current: Option<&str>,
) -> Result<()> {
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
            .move_stage(name, StageMove::onto(CURRENT_STAGE, version, current))
            .await
    };
    let (made_current, unpended) = tokio::join!(
        make_current,
        store.move_stage(name, StageMove::off(PENDING_STAGE, version))
    );
    made_current.and(unpended)
}

/// Before a key is written for a location that had one removed (it switched to a system
/// without a key, and now back): cancels the secret's scheduled deletion.
pub async fn revive(store: &dyn KeyStore, name: &str) -> Result<()> {
    if let Some(stages) = store.stages(name).await?
        && stages.deletion_date.is_some()
    {
        store.restore(name).await?;
    }
    Ok(())
}

/// After a failed commit: the version nothing names loses its pending label, so no working
/// key waits under it.
pub async fn discard(store: &dyn KeyStore, name: &str, version: &str) {
    if let Err(e) = store
        .move_stage(name, StageMove::off(PENDING_STAGE, version))
        .await
    {
        tracing::warn!(error = %e, "pending key version not discarded; the next save repairs it");
    }
}
