use std::collections::BTreeMap;
use std::sync::Mutex;

use super::*;

#[derive(Default)]
pub struct MemoryAttempts {
    /// (partition, place) → slot
    slots: Mutex<BTreeMap<(String, u32), Slot>>,
    lifted: Mutex<Vec<crate::model::AuditEntry>>,
}

#[async_trait]
impl AttemptStore for MemoryAttempts {
    async fn reserve(
        &self,
        tally: Tally<'_>,
        attempt: &Attempt,
        now: Timestamp,
    ) -> Result<ReserveOutcome, StoreError> {
        let mut slots = self.slots.lock().unwrap();
        let places = tally.places();
        let start = first_slot(&attempt.id, places);
        let mut in_the_way = Vec::new();
        for k in 0..places {
            let index = (start + k) % places;
            let key = (tally.partition(), index);
            match slots.get(&key) {
                Some(slot) if slot.active(now) => in_the_way.push(slot.clone()),
                _ => {
                    slots.insert(
                        key,
                        Slot {
                            index,
                            state: SlotState::Reserved,
                            attempt_id: attempt.id.clone(),
                            expires_at: now + RESERVATION_SECONDS,
                            sub: Some(attempt.sub.clone()),
                            location_id: Some(attempt.location_id.clone()),
                            target: Some(attempt.target.clone()),
                        },
                    );
                    return Ok(ReserveOutcome::Taken(Reservation {
                        slot: index,
                        attempt_id: attempt.id.clone(),
                    }));
                }
            }
        }
        Ok(ReserveOutcome::Full { slots: in_the_way })
    }

    async fn mark_failed(
        &self,
        tally: Tally<'_>,
        r: &Reservation,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut slots = self.slots.lock().unwrap();
        if let Some(slot) = slots.get_mut(&(tally.partition(), r.slot))
            && slot.attempt_id == r.attempt_id
        {
            slot.state = SlotState::Failed;
            slot.expires_at = expires_at;
        }
        Ok(())
    }

    async fn release(&self, tally: Tally<'_>, r: &Reservation) -> Result<(), StoreError> {
        let mut slots = self.slots.lock().unwrap();
        let key = (tally.partition(), r.slot);
        if slots
            .get(&key)
            .is_some_and(|s| s.attempt_id == r.attempt_id)
        {
            slots.remove(&key);
        }
        Ok(())
    }

    async fn slots(&self, tally: Tally<'_>) -> Result<Vec<Slot>, StoreError> {
        let slots = self.slots.lock().unwrap();
        let partition = tally.partition();
        Ok(slots
            .iter()
            .filter(|((p, _), _)| *p == partition)
            .map(|(_, v)| v.clone())
            .collect())
    }

    async fn extend_failure(
        &self,
        tally: Tally<'_>,
        slot: &Slot,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut slots = self.slots.lock().unwrap();
        if let Some(current) = slots.get_mut(&(tally.partition(), slot.index))
            && current.attempt_id == slot.attempt_id
            && current.state == SlotState::Failed
        {
            current.expires_at = expires_at;
        }
        Ok(())
    }

    async fn clear_failure(&self, tally: Tally<'_>, slot: &Slot) -> Result<(), StoreError> {
        let mut slots = self.slots.lock().unwrap();
        let key = (tally.partition(), slot.index);
        if slots
            .get(&key)
            .is_some_and(|s| s.attempt_id == slot.attempt_id && s.state == SlotState::Failed)
        {
            slots.remove(&key);
        }
        Ok(())
    }
}

impl MemoryAttempts {
    /// The audit entries of lifted lockouts.
    pub fn lifted(&self) -> Vec<crate::model::AuditEntry> {
        self.lifted.lock().unwrap().clone()
    }
}

#[async_trait]
impl crate::store::LockoutStore for MemoryAttempts {
    async fn lift_lockout(
        &self,
        sub: &str,
        now: Timestamp,
        audit: &crate::model::AuditEntry,
    ) -> Result<u32, StoreError> {
        let partition = Tally::Administrator(sub).partition();
        let mut slots = self.slots.lock().unwrap();
        let before = slots.len();
        slots.retain(|(p, _), slot| {
            !(*p == partition && slot.state == SlotState::Failed && slot.active(now))
        });
        let lifted = (before - slots.len()) as u32;
        if lifted > 0 {
            self.lifted.lock().unwrap().push(audit.clone());
        }
        Ok(lifted)
    }
}
