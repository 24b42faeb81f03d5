//! An in-memory store with the same conditional semantics as the DynamoDB one, for unit tests
//! of the domain.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{
    CompanyStore, DetailsRequestStore, LocationPatch, LocationStore, SendLimitStore, SendSlot,
    SlotReservation, StoreError,
};
use crate::clock::Timestamp;
use crate::model::{BookingConfig, Company, DetailsRequest, Location, Membership, Page};

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
}

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// Applies `change` if the location is at `expected_version` and bumps the version, as the
    /// DynamoDB store's conditional update does.
    fn versioned_update(
        &self,
        company_id: &str,
        location_id: &str,
        expected_version: u64,
        now: Timestamp,
        by: &str,
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
        Ok(location.clone())
    }

    pub fn new() -> Self {
        Self::default()
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
        admin: &Membership,
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
        state.memberships.insert(
            (admin.user_sub.clone(), admin.company_id.clone()),
            admin.clone(),
        );
        Ok(())
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
    async fn create_location(&self, location: &Location) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
        let key = (location.company_id.clone(), location.id.clone());
        if state.locations.contains_key(&key) {
            return Err(StoreError::AlreadyExists);
        }
        state.locations.insert(key, location.clone());
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
    ) -> Result<Location, StoreError> {
        self.versioned_update(
            company_id,
            location_id,
            expected_version,
            now,
            by,
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
    ) -> Result<Location, StoreError> {
        self.versioned_update(
            company_id,
            location_id,
            expected_version,
            now,
            by,
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
        Ok(())
    }
}
