//! "Forespør detaljer" in memory: send slots of both limits and the requests recorded on the
//! location.

use async_trait::async_trait;

use super::MemoryStore;
use crate::clock::Timestamp;
use crate::store::{
    DetailsRequestStore, DetailsRequestWrite, Result, SendLimitStore, SendScope, SendSlot,
};

#[async_trait]
impl SendLimitStore for MemoryStore {
    async fn held_send_slots(&self, scope: &SendScope, now: Timestamp) -> Result<Vec<SendSlot>> {
        let state = self.state();
        Ok(state
            .send_slots
            .iter()
            .filter(|((s, _), (_, expires_at))| s == scope && *expires_at > now)
            .map(|((scope, number), (token, expires_at))| SendSlot {
                scope: scope.clone(),
                number: *number,
                token: token.clone(),
                expires_at: *expires_at,
            })
            .collect())
    }

    async fn take_send_slots(&self, slots: &[SendSlot], now: Timestamp) -> Result<bool> {
        let mut state = self.state();
        let held = slots.iter().any(|slot| {
            state
                .send_slots
                .get(&(slot.scope.clone(), slot.number))
                .is_some_and(|(_, expires_at)| *expires_at > now)
        });
        if held {
            return Ok(false);
        }
        for slot in slots {
            state.send_slots.insert(
                (slot.scope.clone(), slot.number),
                (slot.token.clone(), slot.expires_at),
            );
        }
        Ok(true)
    }

    async fn release_send_slots(&self, slots: &[SendSlot]) -> Result<()> {
        let mut state = self.state();
        for slot in slots {
            let key = (slot.scope.clone(), slot.number);
            if state
                .send_slots
                .get(&key)
                .is_some_and(|(token, _)| *token == slot.token)
            {
                state.send_slots.remove(&key);
            }
        }
        Ok(())
    }
}

#[async_trait]
impl DetailsRequestStore for MemoryStore {
    async fn record_details_request(&self, write: DetailsRequestWrite<'_>) -> Result<()> {
        let mut state = self.state();
        let location = state.location_mut(write.company_id, write.location_id)?;
        location
            .details_requests
            .retain(|r| r.system != write.request.system);
        location.details_requests.push(write.request.clone());
        location
            .details_requests
            .sort_by(|a, b| a.system.cmp(&b.system));
        state.audit.push(write.audit.clone());
        Ok(())
    }
}
