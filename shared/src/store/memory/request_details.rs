//! "Forespør detaljer" in memory: send slots and the requests recorded on the location.

use async_trait::async_trait;

use super::MemoryStore;
use crate::clock::Timestamp;
use crate::model::{AuditEntry, DetailsRequest};
use crate::store::{DetailsRequestStore, SendLimitStore, SendSlot, SlotReservation, StoreError};

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
