//! An in-memory store with the same conditional semantics as the DynamoDB one, for unit tests
//! of the domain. Its maps mirror the table's item types ([`crate::store::keys`]), keyed by
//! what makes up each item's key, and split by aggregate as the DynamoDB store is.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::{
    BookingSave, CompanyCreation, CompanyStore, LocationCreation, LocationPatch, LocationStore,
    LocationWrite, PageRequest, Result, StoreError, company_matches,
};
use crate::clock::Timestamp;
use crate::model::{AuditEntry, Company, Invitation, Location, Membership, Page};

mod administrators;
mod invitations;
mod request_details;

#[derive(Default)]
struct State {
    /// Company items, by company id.
    companies: BTreeMap<String, Company>,
    /// Org number items: organisation number → company id.
    org_numbers: BTreeMap<String, String>,
    /// Membership items, by (user sub, company id); the company's administrators are the
    /// `gsi1` view of the same items.
    memberships: BTreeMap<(String, String), Membership>,
    /// Location items, by (company id, location id).
    locations: BTreeMap<(String, String), Location>,
    /// Send and sender slot items, by (scope, slot number) → (token, expires_at).
    send_slots: BTreeMap<(super::SendScope, u32), (String, Timestamp)>,
    /// Invitation items, by invitation id; the invitee item's rule (one open invitation per
    /// company and address) is checked against them.
    invitations: BTreeMap<String, Invitation>,
    /// Audit entries in the order written.
    audit: Vec<AuditEntry>,
}

/// A map key of two ids, such as (company id, location id).
fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

impl State {
    /// The location, for a change: `NotFound` if there is none.
    fn location_mut(&mut self, company_id: &str, location_id: &str) -> Result<&mut Location> {
        self.locations
            .get_mut(&pair(company_id, location_id))
            .ok_or(StoreError::NotFound)
    }

    fn admin_count(&self, company_id: &str) -> usize {
        self.memberships
            .keys()
            .filter(|(_, company)| company == company_id)
            .count()
    }
}

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Applies `change` if the location is at `write.expected_version` and bumps the version,
    /// as the DynamoDB store's conditional update does, with its audit entry.
    fn versioned_update(
        &self,
        write: LocationWrite<'_>,
        change: impl FnOnce(&mut Location),
    ) -> Result<Location> {
        let mut state = self.state();
        let location = state.location_mut(write.company_id, write.location_id)?;
        if location.version != write.expected_version {
            return Err(StoreError::VersionConflict {
                current: location.version,
            });
        }
        change(location);
        location.version += 1;
        location.updated_at = write.now;
        location.updated_by = write.by.to_string();
        let updated = location.clone();
        state.audit.push(write.audit.clone());
        Ok(updated)
    }

    pub fn new() -> Self {
        Self::default()
    }

    /// Every audit entry written so far, oldest first.
    pub fn audit_entries(&self) -> Vec<AuditEntry> {
        self.state().audit.clone()
    }

    pub fn add_membership(&self, membership: Membership) {
        let mut state = self.state();
        state.memberships.insert(
            pair(&membership.user_sub, &membership.company_id),
            membership,
        );
    }
}

#[async_trait]
impl CompanyStore for MemoryStore {
    async fn create_company(&self, creation: CompanyCreation<'_>) -> Result<()> {
        let company = creation.company;
        let mut state = self.state();
        if state.org_numbers.contains_key(&company.org_number) {
            return Err(StoreError::OrgNumberTaken);
        }
        if state.companies.contains_key(&company.id) {
            return Err(StoreError::AlreadyExists);
        }
        state
            .org_numbers
            .insert(company.org_number.clone(), company.id.clone());
        state.companies.insert(company.id.clone(), company.clone());
        if let Some(admin) = creation.admin {
            state
                .memberships
                .insert(pair(&admin.user_sub, &admin.company_id), admin.clone());
        }
        state.audit.push(creation.audit.clone());
        Ok(())
    }

    async fn all_companies(
        &self,
        query: Option<&str>,
        page: PageRequest<'_>,
    ) -> Result<Page<Company>> {
        let state = self.state();
        let items = state
            .companies
            .values()
            .filter(|c| page.after.is_none_or(|a| c.id.as_str() > a))
            .filter(|c| query.is_none_or(|q| company_matches(c, q)))
            .map(|c| (c.id.clone(), c.clone()));
        Ok(Page::cut(items, page.limit, false))
    }

    async fn companies_of(&self, user_sub: &str, page: PageRequest<'_>) -> Result<Page<Company>> {
        let state = self.state();
        let items = state
            .memberships
            .keys()
            .filter(|(sub, company)| {
                sub == user_sub && page.after.is_none_or(|a| company.as_str() > a)
            })
            .filter_map(|(_, company)| {
                state
                    .companies
                    .get(company)
                    .map(|c| (c.id.clone(), c.clone()))
            });
        Ok(Page::cut(items, page.limit, false))
    }

    async fn membership(&self, user_sub: &str, company_id: &str) -> Result<Option<Membership>> {
        Ok(self
            .state()
            .memberships
            .get(&pair(user_sub, company_id))
            .cloned())
    }

    async fn company(&self, company_id: &str) -> Result<Option<Company>> {
        Ok(self.state().companies.get(company_id).cloned())
    }
}

#[async_trait]
impl LocationStore for MemoryStore {
    async fn create_location(&self, creation: LocationCreation<'_>) -> Result<()> {
        let (location, limit) = (creation.location, creation.max_per_company);
        let mut state = self.state();
        let key = pair(&location.company_id, &location.id);
        if state.locations.contains_key(&key) {
            return Err(StoreError::AlreadyExists);
        }
        // The company's count is its location items (they are never deleted).
        let count = state
            .locations
            .keys()
            .filter(|(company, _)| *company == location.company_id)
            .count();
        if !state.companies.contains_key(&location.company_id) || count >= limit as usize {
            return Err(StoreError::TooManyLocations { limit });
        }
        state.locations.insert(key, location.clone());
        state.audit.push(creation.audit.clone());
        Ok(())
    }

    async fn locations_of(
        &self,
        company_id: &str,
        page: PageRequest<'_>,
    ) -> Result<Page<Location>> {
        let state = self.state();
        let items = state
            .locations
            .iter()
            .filter(|((company, id), _)| {
                company == company_id && page.after.is_none_or(|a| id.as_str() > a)
            })
            .map(|((_, id), l)| (id.clone(), l.clone()));
        Ok(Page::cut(items, page.limit, false))
    }

    async fn location(&self, company_id: &str, location_id: &str) -> Result<Option<Location>> {
        Ok(self
            .state()
            .locations
            .get(&pair(company_id, location_id))
            .cloned())
    }

    async fn update_location(
        &self,
        write: LocationWrite<'_>,
        patch: &LocationPatch,
    ) -> Result<Location> {
        self.versioned_update(write, |location| {
            if let Some(name) = &patch.name {
                location.name = name.clone();
            }
            if let Some(address) = &patch.address {
                location.address = address.clone();
            }
            if let Some(phone) = &patch.phone {
                location.phone = phone.clone();
            }
            if let Some(email) = &patch.email {
                location.email = email.clone();
            }
            if let Some(offline) = patch.offline {
                location.offline = offline;
            }
        })
    }

    async fn save_booking(&self, save: BookingSave<'_>) -> Result<Location> {
        self.versioned_update(save.write, |location| {
            location.booking = Some(save.booking.clone());
            location.offline = save.offline;
        })
    }
}
