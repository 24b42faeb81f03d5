//! An in-memory store with the same conditional semantics as the DynamoDB one, for unit tests
//! of the domain.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{
    AdministratorStore, AuditStore, CompanyStore, DetailsRequestStore, InvitationStore,
    LocationPatch, LocationStore, SendLimitStore, SendSlot, SlotReservation, StoreError,
};
use crate::clock::Timestamp;
use crate::model::{
    AuditEntry, BookingConfig, Company, DetailsRequest, Invitation, InvitationStatus, Location,
    Membership, Page,
};

#[derive(Default)]
struct State {
    companies: BTreeMap<String, Company>,
    org_numbers: BTreeMap<String, String>,
    /// (user sub, company id)
    memberships: BTreeMap<(String, String), Membership>,
    /// (company id, location id)
    locations: BTreeMap<(String, String), Location>,
    /// (location id, system, slot number) → (token, expires_at)
    send_slots: BTreeMap<(String, String, u32), (String, Timestamp)>,
    invitations: BTreeMap<String, Invitation>,
    /// Every audit entry written, in order.
    audit: Vec<AuditEntry>,
}

impl State {
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
    /// Applies `change` if the location is at `expected_version` and bumps the version, as the
    /// DynamoDB store's conditional update does, with its audit entry.
    #[allow(clippy::too_many_arguments)]
    fn versioned_update(
        &self,
        company_id: &str,
        location_id: &str,
        expected_version: u64,
        now: Timestamp,
        by: &str,
        audit: &AuditEntry,
        change: impl FnOnce(&mut Location),
    ) -> Result<Location, StoreError> {
        let mut state = self.state.lock().unwrap();
        let location = state
            .locations
            .get_mut(&(company_id.to_string(), location_id.to_string()))
            .ok_or(StoreError::NotFound)?;
        if location.version != expected_version {
            return Err(StoreError::VersionConflict {
                current: location.version,
            });
        }
        change(location);
        location.version += 1;
        location.updated_at = now;
        location.updated_by = by.to_string();
        let updated = location.clone();
        state.audit.push(audit.clone());
        Ok(updated)
    }

    pub fn new() -> Self {
        Self::default()
    }

    /// Every audit entry written so far, oldest first.
    pub fn audit_entries(&self) -> Vec<AuditEntry> {
        self.state.lock().unwrap().audit.clone()
    }

    pub fn add_membership(&self, membership: Membership) {
        let mut state = self.state.lock().unwrap();
        state.memberships.insert(
            (membership.user_sub.clone(), membership.company_id.clone()),
            membership,
        );
    }
}

#[async_trait]
impl CompanyStore for MemoryStore {
    async fn create_company(
        &self,
        company: &Company,
        admin: Option<&Membership>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
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
        if let Some(admin) = admin {
            state.memberships.insert(
                (admin.user_sub.clone(), admin.company_id.clone()),
                admin.clone(),
            );
        }
        state.audit.push(audit.clone());
        Ok(())
    }

    async fn all_companies(
        &self,
        query: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<Company>, StoreError> {
        let state = self.state.lock().unwrap();
        let items = state
            .companies
            .values()
            .filter(|c| after.is_none_or(|a| c.id.as_str() > a))
            .filter(|c| query.is_none_or(|q| company_matches(c, q)))
            .map(|c| (c.id.clone(), c.clone()));
        Ok(Page::cut(items, limit, false))
    }

    async fn companies_of(
        &self,
        user_sub: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<Company>, StoreError> {
        let state = self.state.lock().unwrap();
        let items = state
            .memberships
            .keys()
            .filter(|(sub, company)| sub == user_sub && after.is_none_or(|a| company.as_str() > a))
            .filter_map(|(_, company)| {
                state
                    .companies
                    .get(company)
                    .map(|c| (c.id.clone(), c.clone()))
            });
        Ok(Page::cut(items, limit, false))
    }

    async fn membership(
        &self,
        user_sub: &str,
        company_id: &str,
    ) -> Result<Option<Membership>, StoreError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .memberships
            .get(&(user_sub.to_string(), company_id.to_string()))
            .cloned())
    }

    async fn company(&self, company_id: &str) -> Result<Option<Company>, StoreError> {
        Ok(self
            .state
            .lock()
            .unwrap()
            .companies
            .get(company_id)
            .cloned())
    }
}

#[async_trait]
impl LocationStore for MemoryStore {
    async fn create_location(
        &self,
        location: &Location,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
        let key = (location.company_id.clone(), location.id.clone());
        if state.locations.contains_key(&key) {
            return Err(StoreError::AlreadyExists);
        }
        state.locations.insert(key, location.clone());
        state.audit.push(audit.clone());
        Ok(())
    }

    async fn locations_of(
        &self,
        company_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<Location>, StoreError> {
        let state = self.state.lock().unwrap();
        let items = state
            .locations
            .iter()
            .filter(|((company, id), _)| {
                company == company_id && after.is_none_or(|a| id.as_str() > a)
            })
            .map(|((_, id), l)| (id.clone(), l.clone()));
        Ok(Page::cut(items, limit, false))
    }

    async fn location(
        &self,
        company_id: &str,
        location_id: &str,
    ) -> Result<Option<Location>, StoreError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .locations
            .get(&(company_id.to_string(), location_id.to_string()))
            .cloned())
    }

    async fn update_location(
        &self,
        company_id: &str,
        location_id: &str,
        expected_version: u64,
        patch: &LocationPatch,
        now: Timestamp,
        by: &str,
        audit: &AuditEntry,
    ) -> Result<Location, StoreError> {
        self.versioned_update(
            company_id,
            location_id,
            expected_version,
            now,
            by,
            audit,
            |location| {
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
            },
        )
    }

    async fn save_booking(
        &self,
        company_id: &str,
        location_id: &str,
        expected_version: u64,
        booking: &BookingConfig,
        offline: bool,
        now: Timestamp,
        by: &str,
        audit: &AuditEntry,
    ) -> Result<Location, StoreError> {
        self.versioned_update(
            company_id,
            location_id,
            expected_version,
            now,
            by,
            audit,
            |location| {
                location.booking = Some(booking.clone());
                location.offline = offline;
            },
        )
    }
}

#[async_trait]
impl SendLimitStore for MemoryStore {
    async fn reserve_send_slot(
        &self,
        location_id: &str,
        system: &str,
        slots: u32,
        now: Timestamp,
        window_seconds: i64,
    ) -> Result<SlotReservation, StoreError> {
        let mut state = self.state.lock().unwrap();
        let mut retry_at = Timestamp::MAX;
        for number in 1..=slots {
            let key = (location_id.to_string(), system.to_string(), number);
            match state.send_slots.get(&key) {
                Some((_, expires_at)) if *expires_at > now => retry_at = retry_at.min(*expires_at),
                _ => {
                    let slot = SendSlot {
                        location_id: location_id.to_string(),
                        system: system.to_string(),
                        number,
                        token: uuid::Uuid::new_v4().to_string(),
                        expires_at: now + window_seconds,
                    };
                    state
                        .send_slots
                        .insert(key, (slot.token.clone(), slot.expires_at));
                    return Ok(SlotReservation::Reserved(slot));
                }
            }
        }
        Ok(SlotReservation::Full { retry_at })
    }

    async fn release_send_slot(&self, slot: &SendSlot) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
        let key = (slot.location_id.clone(), slot.system.clone(), slot.number);
        if state
            .send_slots
            .get(&key)
            .is_some_and(|(token, _)| *token == slot.token)
        {
            state.send_slots.remove(&key);
        }
        Ok(())
    }
}

#[async_trait]
impl DetailsRequestStore for MemoryStore {
    async fn record_details_request(
        &self,
        company_id: &str,
        location_id: &str,
        request: &DetailsRequest,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
        let location = state
            .locations
            .get_mut(&(company_id.to_string(), location_id.to_string()))
            .ok_or(StoreError::NotFound)?;
        location
            .details_requests
            .retain(|r| r.system != request.system);
        location.details_requests.push(request.clone());
        location
            .details_requests
            .sort_by(|a, b| a.system.cmp(&b.system));
        state.audit.push(audit.clone());
        Ok(())
    }
}

/// Whether an operator's search matches: the organisation number exactly, or the start of
/// the name without regard to case.
pub fn company_matches(company: &Company, query: &str) -> bool {
    let query = query.trim();
    let digits: String = query.chars().filter(|c| !c.is_whitespace()).collect();
    company.org_number == digits
        || company
            .name
            .to_lowercase()
            .starts_with(&query.to_lowercase())
}

#[async_trait]
impl InvitationStore for MemoryStore {
    async fn invitation(&self, id: &str) -> Result<Option<Invitation>, StoreError> {
        Ok(self.state.lock().unwrap().invitations.get(id).cloned())
    }

    async fn pending_invitations(&self, company_id: &str) -> Result<Vec<Invitation>, StoreError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .invitations
            .values()
            .filter(|i| i.company_id == company_id && i.status == InvitationStatus::Pending)
            .cloned()
            .collect())
    }

    async fn invitations_to(&self, email: &str) -> Result<Vec<Invitation>, StoreError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .invitations
            .values()
            .filter(|i| i.email == email && i.status == InvitationStatus::Pending)
            .cloned()
            .collect())
    }

    async fn create_invitation(
        &self,
        invitation: &Invitation,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
        let open_to_same = state.invitations.values().any(|i| {
            i.company_id == invitation.company_id && i.email == invitation.email && i.is_open(now)
        });
        if open_to_same || state.invitations.contains_key(&invitation.id) {
            return Err(StoreError::AlreadyExists);
        }
        state
            .invitations
            .insert(invitation.id.clone(), invitation.clone());
        state.audit.push(audit.clone());
        Ok(())
    }

    async fn resend_invitation(
        &self,
        invitation: &Invitation,
        previous_hash: &str,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
        let stored = state
            .invitations
            .get_mut(&invitation.id)
            .ok_or(StoreError::NotFound)?;
        if stored.status != InvitationStatus::Pending || stored.token_hash != previous_hash {
            return Err(StoreError::Changed);
        }
        *stored = invitation.clone();
        state.audit.push(audit.clone());
        Ok(())
    }

    async fn revoke_invitation(
        &self,
        invitation: &Invitation,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
        let stored = state
            .invitations
            .get_mut(&invitation.id)
            .ok_or(StoreError::NotFound)?;
        if stored.status != InvitationStatus::Pending {
            return Err(StoreError::Changed);
        }
        stored.status = InvitationStatus::Revoked;
        stored.closed_at = Some(now);
        state.audit.push(audit.clone());
        Ok(())
    }

    async fn accept_invitation(
        &self,
        invitation: &Invitation,
        membership: &Membership,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
        let key = (membership.user_sub.clone(), membership.company_id.clone());
        let open = state
            .invitations
            .get(&invitation.id)
            .is_some_and(|i| i.is_open(now) && i.token_hash == invitation.token_hash);
        if !open {
            return Err(StoreError::Changed);
        }
        if state.memberships.contains_key(&key) {
            return Err(StoreError::AlreadyExists);
        }
        if let Some(stored) = state.invitations.get_mut(&invitation.id) {
            stored.status = InvitationStatus::Accepted;
            stored.accepted_by = Some(membership.user_sub.clone());
            stored.closed_at = Some(now);
        }
        state.memberships.insert(key, membership.clone());
        state.audit.push(audit.clone());
        Ok(())
    }
}

#[async_trait]
impl AdministratorStore for MemoryStore {
    async fn administrators(&self, company_id: &str) -> Result<Vec<Membership>, StoreError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .memberships
            .values()
            .filter(|m| m.company_id == company_id)
            .cloned()
            .collect())
    }

    async fn remove_administrator(
        &self,
        company_id: &str,
        user_sub: &str,
        allow_last: bool,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
        let key = (user_sub.to_string(), company_id.to_string());
        if !state.memberships.contains_key(&key) {
            return Err(StoreError::NotFound);
        }
        if !allow_last && state.admin_count(company_id) <= 1 {
            return Err(StoreError::LastAdministrator);
        }
        state.memberships.remove(&key);
        state.audit.push(audit.clone());
        Ok(())
    }
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn audit_of(
        &self,
        company_id: &str,
        before: Option<&str>,
        limit: u32,
    ) -> Result<Page<AuditEntry>, StoreError> {
        let state = self.state.lock().unwrap();
        let mut entries: Vec<&AuditEntry> = state
            .audit
            .iter()
            .filter(|e| e.company_id.as_deref() == Some(company_id))
            .filter(|e| before.is_none_or(|b| e.id.as_str() < b))
            .collect();
        entries.sort_by(|a, b| b.id.cmp(&a.id));
        Ok(Page::cut(
            entries.into_iter().map(|e| (e.id.clone(), e.clone())),
            limit,
            false,
        ))
    }
}
