//! An in-memory [`RevalidationStore`] with the same conditions as the DynamoDB one, for unit
//! tests of the run and for benchmarking the scheduling without an emulator's latency.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{CheckRecord, Entry, IndexPage, RevalidationStore, RunLease, RunState, SavedConfig};
use crate::clock::Timestamp;
use crate::model::{Membership, Page};
use crate::store::keys::saved_booking_position;
use crate::store::{Result, StoreError};

#[derive(Default)]
pub struct MemoryRevalidation {
    /// Keyed by the position in the index ([`saved_booking_position`]).
    configs: Mutex<BTreeMap<String, SavedConfig>>,
    /// Index keys of items that do not read as a configuration.
    unreadable: Mutex<BTreeMap<String, String>>,
    admins: Mutex<Vec<Membership>>,
    runs: Mutex<BTreeMap<String, (RunState, Timestamp)>>,
}

impl MemoryRevalidation {
    pub fn add(&self, config: SavedConfig) {
        let key = saved_booking_position(&config.company_id, &config.location_id);
        self.configs.lock().unwrap().insert(key, config);
    }

    /// An item in the index that cannot be read (as a damaged or foreign item would be).
    pub fn add_unreadable(&self, index_key: &str) {
        self.unreadable
            .lock()
            .unwrap()
            .insert(index_key.to_string(), "missing attribute".to_string());
    }

    pub fn add_admin(&self, admin: Membership) {
        self.admins.lock().unwrap().push(admin);
    }

    pub fn config(&self, company_id: &str, location_id: &str) -> Option<SavedConfig> {
        self.configs
            .lock()
            .unwrap()
            .get(&saved_booking_position(company_id, location_id))
            .cloned()
    }
}

#[async_trait]
impl RevalidationStore for MemoryRevalidation {
    async fn saved_configs(&self, after: Option<&str>, limit: u32) -> Result<IndexPage> {
        let configs = self.configs.lock().unwrap();
        let unreadable = self.unreadable.lock().unwrap();
        let mut all: BTreeMap<String, Entry> = configs
            .iter()
            .map(|(k, v)| (k.clone(), Entry::Config(Box::new(v.clone()))))
            .collect();
        for (k, error) in unreadable.iter() {
            all.insert(
                k.clone(),
                Entry::Unreadable {
                    index_key: k.clone(),
                    item_key: format!("item {k}"),
                    error: error.clone(),
                },
            );
        }
        let entries = all
            .into_iter()
            .filter(|(k, _)| after.is_none_or(|a| k.as_str() > a));
        let page = Page::cut(entries, limit, false);
        Ok(IndexPage {
            entries: page.items,
            next_after: page.next_after,
        })
    }

    async fn record_check(&self, config: &SavedConfig, record: &CheckRecord) -> Result<bool> {
        let mut configs = self.configs.lock().unwrap();
        let key = saved_booking_position(&config.company_id, &config.location_id);
        let Some(current) = configs.get_mut(&key) else {
            return Ok(false);
        };
        if current.booking.config_id != config.booking.config_id {
            return Ok(false);
        }
        current.booking.last_check = Some(record.last_check.clone());
        current.booking.health = Some(record.health);
        current.booking.notice_pending = record.notice_pending;
        Ok(true)
    }

    async fn clear_notice(&self, config: &SavedConfig) -> Result<()> {
        let mut configs = self.configs.lock().unwrap();
        let key = saved_booking_position(&config.company_id, &config.location_id);
        if let Some(current) = configs.get_mut(&key)
            && current.booking.config_id == config.booking.config_id
        {
            current.booking.notice_pending = None;
        }
        Ok(())
    }

    async fn administrators(&self, company_id: &str) -> Result<Vec<Membership>> {
        let admins = self.admins.lock().unwrap();
        Ok(admins
            .iter()
            .filter(|a| a.company_id == company_id)
            .cloned()
            .collect())
    }

    async fn acquire_run(&self, lease: RunLease<'_>, now: Timestamp) -> Result<Option<RunState>> {
        let mut runs = self.runs.lock().unwrap();
        match runs.get_mut(lease.run_id) {
            Some((_, until)) if *until > now => Ok(None),
            Some((state, until)) => {
                state.lease_id = lease.lease_id.to_string();
                *until = lease.until;
                Ok(Some(state.clone()))
            }
            None => {
                let state = RunState {
                    run_id: lease.run_id.to_string(),
                    lease_id: lease.lease_id.to_string(),
                    cursor: None,
                    done: false,
                    checked: 0,
                    invocations: 0,
                };
                runs.insert(lease.run_id.to_string(), (state.clone(), lease.until));
                Ok(Some(state))
            }
        }
    }

    async fn save_run(&self, state: &RunState, release: bool, now: Timestamp) -> Result<()> {
        let mut runs = self.runs.lock().unwrap();
        match runs.get_mut(&state.run_id) {
            Some((current, until)) if current.lease_id == state.lease_id => {
                *current = state.clone();
                if release {
                    *until = now;
                }
                Ok(())
            }
            _ => Err(StoreError::Backend("the run's lease was taken over".into())),
        }
    }
}
