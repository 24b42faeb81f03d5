use std::collections::BTreeMap;
use std::collections::btree_map::{Entry, OccupiedEntry};
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
    async fn claim(&self, tally: Tally<'_>, slot: &Slot, now: Timestamp) -> Result<PlaceClaim> {
        let mut slots = self.slots.lock().unwrap();
        let key = (tally.partition(), slot.index);
        match slots.get(&key) {
            Some(holder) if holder.active(now) => Ok(PlaceClaim::Held(Some(holder.clone()))),
            _ => {
                slots.insert(key, slot.clone());
                Ok(PlaceClaim::Taken)
            }
        }
    }

    async fn mark_failed(&self, tally: Tally<'_>, held: Held<'_>, until: Timestamp) -> Result<()> {
        self.settle(tally, held, |mut place| {
            let slot = place.get_mut();
            slot.state = SlotState::Failed;
            slot.expires_at = until;
        });
        Ok(())
    }

    async fn release(&self, tally: Tally<'_>, held: Held<'_>) -> Result<()> {
        self.settle(tally, held, |place| {
            place.remove();
        });
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
}

impl MemoryAttempts {
    /// A settling write to the place, made only if it still holds what the caller holds.
    fn settle(
        &self,
        tally: Tally<'_>,
        held: Held<'_>,
        write: impl FnOnce(OccupiedEntry<'_, (String, u32), Slot>),
    ) {
        let mut slots = self.slots.lock().unwrap();
        if let Entry::Occupied(place) = slots.entry((tally.partition(), held.index()))
            && held.still_in(place.get())
        {
            write(place);
        }
    }

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
