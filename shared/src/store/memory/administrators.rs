//! A company's administrators and its audit trail, in memory.

use async_trait::async_trait;

use super::{MemoryStore, pair};
use crate::model::{AuditEntry, Membership, Page};
use crate::store::{
    AdministratorRemoval, AdministratorStore, AuditStore, LastAdministrator, PageRequest, Result,
    StoreError,
};

#[async_trait]
impl AdministratorStore for MemoryStore {
    async fn administrators(&self, company_id: &str) -> Result<Vec<Membership>> {
        let state = self.state();
        Ok(state
            .memberships
            .values()
            .filter(|m| m.company_id == company_id)
            .cloned()
            .collect())
    }

    async fn remove_administrator(&self, removal: AdministratorRemoval<'_>) -> Result<()> {
        let mut state = self.state();
        let company_id = &removal.membership.company_id;
        let key = pair(&removal.membership.user_sub, company_id);
        if !state.memberships.contains_key(&key) {
            return Err(StoreError::NotFound);
        }
        if removal.last == LastAdministrator::Keep && state.admin_count(company_id) <= 1 {
            return Err(StoreError::LastAdministrator);
        }
        state.memberships.remove(&key);
        state.audit.push(removal.audit.clone());
        Ok(())
    }
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn audit_of(&self, company_id: &str, page: PageRequest<'_>) -> Result<Page<AuditEntry>> {
        let state = self.state();
        let mut entries: Vec<&AuditEntry> = state
            .audit
            .iter()
            .filter(|e| e.company_id.as_deref() == Some(company_id))
            .filter(|e| page.after.is_none_or(|b| e.id.as_str() < b))
            .collect();
        entries.sort_by(|a, b| b.id.cmp(&a.id));
        Ok(Page::cut(
            entries.into_iter().map(|e| (e.id.clone(), e.clone())),
            page.limit,
            false,
        ))
    }
}
