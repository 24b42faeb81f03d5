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
pub struct MemoryKeyStore {
    secrets: Mutex<BTreeMap<String, Secret>>,
}

fn label(stage: &str) -> &'static str {
    if stage == CURRENT_STAGE {
        CURRENT_STAGE
    } else {
        PENDING_STAGE
    }
}

impl MemoryKeyStore {
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
impl KeyStore for MemoryKeyStore {
    async fn put_pending(&self, name: &str, version: NewVersion<'_>) -> Result<bool> {
        let NewVersion {
            id: version_id,
            key,
            tags: _,
        } = version;
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

    async fn get(&self, name: &str, version_id: &str) -> Result<ApiKey> {
        let secrets = self.secrets.lock().unwrap();
        secrets
            .get(name)
            .and_then(|s| s.versions.get(version_id))
            .map(|(key, _)| key.clone())
            .ok_or(KeyStoreError::NotFound)
    }

    async fn stages(&self, name: &str) -> Result<Option<Stages>> {
        Ok(self.stages_now(name))
    }

    async fn move_stage(&self, name: &str, change: StageMove<'_>) -> Result<()> {
        let StageMove { stage, to, from } = change;
        let mut secrets = self.secrets.lock().unwrap();
        let secret = secrets.get_mut(name).ok_or(KeyStoreError::NotFound)?;
        let stage = label(stage);
        if to.is_some_and(|v| !secret.versions.contains_key(v)) {
            return Err(KeyStoreError::NotFound);
        }
        let holder = secret
            .versions
            .iter()
            .find(|(_, (_, labels))| labels.contains(&stage))
            .map(|(v, _)| v.clone());
        if holder.is_some() && holder.as_deref() != from && holder.as_deref() != to {
            return Err(KeyStoreError::Backend(format!(
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

    async fn restore(&self, name: &str) -> Result<()> {
        let mut secrets = self.secrets.lock().unwrap();
        let secret = secrets.get_mut(name).ok_or(KeyStoreError::NotFound)?;
        secret.deletion_date = None;
        Ok(())
    }

    async fn schedule_deletion(
        &self,
        name: &str,
        recovery_days: u32,
        now: Timestamp,
    ) -> Result<Option<Timestamp>> {
        let mut secrets = self.secrets.lock().unwrap();
        Ok(secrets.get_mut(name).map(|secret| {
            *secret
                .deletion_date
                .get_or_insert(now + i64::from(recovery_days) * 86_400)
        }))
    }
}
