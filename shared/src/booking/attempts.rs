//! The lockout on repeated failed connection tests, counted per administrator.
//!
//! Each administrator has [`MAX_FAILURES`] attempt slots. A request that will reach a vendor
//! first takes a free slot with a conditional write (a slot is free when it is absent or its
//! `expires_at` has passed), so concurrent requests can never take more than five places.
//! A reservation expires by itself after [`RESERVATION_SECONDS`], so one left behind by an
//! invocation that died frees itself. When the check ends the slot is either released (success,
//! vendor outage, set-up problem) or kept as a failure for [`WINDOW_SECONDS`]. The fifth
//! failure in the window stretches every failure to one hour after itself: that is the lock.
//! DynamoDB deletes expired items late (the emulator never), so expiry is always compared in
//! the conditions, never assumed.

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::store::StoreError;

pub const MAX_FAILURES: u32 = 5;
/// How long a failure counts, and how long the lock lasts after the fifth.
pub const WINDOW_SECONDS: i64 = 3_600;
/// Longer than any check can take (the vendor deadline is under 10 s, the Lambda timeout 30 s).
pub const RESERVATION_SECONDS: i64 = 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotState {
    Reserved,
    Failed,
}

impl SlotState {
    pub fn as_str(self) -> &'static str {
        match self {
            SlotState::Reserved => "reserved",
            SlotState::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "reserved" => Some(SlotState::Reserved),
            "failed" => Some(SlotState::Failed),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub index: u32,
    pub state: SlotState,
    pub attempt_id: String,
    pub expires_at: Timestamp,
}

impl Slot {
    pub fn active(&self, now: Timestamp) -> bool {
        self.expires_at > now
    }
}

/// A place taken for one check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reservation {
    pub slot: u32,
    pub attempt_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    Admitted(Reservation),
    /// Every slot is taken; `slots` are the ones that were found in the way.
    Full {
        slots: Vec<Slot>,
    },
}

/// Conditional writes on one administrator's attempt slots.
#[async_trait]
pub trait AttemptStore: Send + Sync {
    /// Takes one free slot for `attempt_id`, or reports every slot as taken.
    async fn reserve(
        &self,
        sub: &str,
        attempt_id: &str,
        now: Timestamp,
    ) -> Result<Admission, StoreError>;

    /// Turns the caller's own reservation into a failure that counts until `expires_at`.
    async fn mark_failed(
        &self,
        sub: &str,
        reservation: &Reservation,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Gives a reservation back (only if it is still the caller's).
    async fn release(&self, sub: &str, reservation: &Reservation) -> Result<(), StoreError>;

    async fn slots(&self, sub: &str) -> Result<Vec<Slot>, StoreError>;

    /// Sets a failure's expiry, if the slot still holds that failure.
    async fn extend_failure(
        &self,
        sub: &str,
        slot: &Slot,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Removes a failure, if the slot still holds that failure.
    async fn clear_failure(&self, sub: &str, slot: &Slot) -> Result<(), StoreError>;
}

/// Why a request may not reach the vendor now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub retry_at: Timestamp,
    /// True when five failures lock the administrator out; false when other checks of theirs
    /// are still running and hold every place.
    pub locked: bool,
}

pub async fn admit(
    store: &dyn AttemptStore,
    sub: &str,
    attempt_id: &str,
    now: Timestamp,
) -> Result<Result<Reservation, Refusal>, StoreError> {
    match store.reserve(sub, attempt_id, now).await? {
        Admission::Admitted(reservation) => Ok(Ok(reservation)),
        Admission::Full { slots } => {
            let active: Vec<&Slot> = slots.iter().filter(|s| s.active(now)).collect();
            let failures = active
                .iter()
                .filter(|s| s.state == SlotState::Failed)
                .count() as u32;
            let retry_at = active.iter().map(|s| s.expires_at).min().unwrap_or(now + 1);
            Ok(Err(Refusal {
                retry_at,
                locked: failures >= MAX_FAILURES,
            }))
        }
    }
}

/// How a finished check is settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// The details worked: the failures so far are forgiven.
    Success,
    /// The vendor rejected what was entered: counts toward the lockout.
    CountedFailure,
    /// Anything that is not the administrator's doing: does not count.
    NotCounted,
}

/// Settles a reservation and returns how many failed attempts remain before the lock.
///
/// Round trips are kept to what the order requires (the route budgets in the README hold them):
/// writes that do not depend on each other run concurrently, and the count of remaining
/// attempts comes from the slots already read rather than from another query.
pub async fn settle(
    store: &dyn AttemptStore,
    sub: &str,
    reservation: &Reservation,
    settlement: Settlement,
    now: Timestamp,
) -> Result<u32, StoreError> {
    match settlement {
        Settlement::Success => {
            // Giving the place back and reading the failures to forgive are independent; the
            // read may still see our own reservation, which is not a failure.
            let (released, slots) = tokio::join!(store.release(sub, reservation), store.slots(sub));
            released?;
            let forgiven = slots?
                .into_iter()
                .filter(|slot| slot.state == SlotState::Failed);
            futures_util::future::try_join_all(
                forgiven.map(|slot| async move { store.clear_failure(sub, &slot).await }),
            )
            .await?;
            // Every failure seen is forgiven. One settling at this very moment is counted in
            // the next answer, as it would have been by a read after these writes.
            Ok(MAX_FAILURES)
        }
        Settlement::NotCounted => {
            let (released, slots) = tokio::join!(store.release(sub, reservation), store.slots(sub));
            released?;
            Ok(remaining_of(&slots?, now))
        }
        Settlement::CountedFailure => {
            store
                .mark_failed(sub, reservation, now + WINDOW_SECONDS)
                .await?;
            // Read after the write: it must see this failure.
            let slots = store.slots(sub).await?;
            let failures: Vec<Slot> = active_failures(&slots, now);
            if failures.len() as u32 >= MAX_FAILURES {
                // The fifth failure: the lock lasts one hour from now, so every failure that
                // makes it up must last as long.
                futures_util::future::try_join_all(
                    failures
                        .iter()
                        .map(|slot| store.extend_failure(sub, slot, now + WINDOW_SECONDS)),
                )
                .await?;
            }
            // Extending changes no count: the slots read above still tell what remains.
            Ok(remaining_of(&slots, now))
        }
    }
}

fn remaining_of(slots: &[Slot], now: Timestamp) -> u32 {
    MAX_FAILURES.saturating_sub(active_failures(slots, now).len() as u32)
}

pub async fn remaining(
    store: &dyn AttemptStore,
    sub: &str,
    now: Timestamp,
) -> Result<u32, StoreError> {
    Ok(remaining_of(&store.slots(sub).await?, now))
}

fn active_failures(slots: &[Slot], now: Timestamp) -> Vec<Slot> {
    slots
        .iter()
        .filter(|s| s.state == SlotState::Failed && s.active(now))
        .cloned()
        .collect()
}

/// The first slot to try, spread by attempt id so concurrent requests do not all queue on
/// slot 0.
pub fn first_slot(attempt_id: &str) -> u32 {
    attempt_id.bytes().fold(0u32, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u32::from(b))
    }) % MAX_FAILURES
}

pub mod memory {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    pub struct MemoryAttempts {
        slots: Mutex<BTreeMap<(String, u32), Slot>>,
    }

    #[async_trait]
    impl AttemptStore for MemoryAttempts {
        async fn reserve(
            &self,
            sub: &str,
            attempt_id: &str,
            now: Timestamp,
        ) -> Result<Admission, StoreError> {
            let mut slots = self.slots.lock().unwrap();
            let start = first_slot(attempt_id);
            let mut in_the_way = Vec::new();
            for k in 0..MAX_FAILURES {
                let index = (start + k) % MAX_FAILURES;
                let key = (sub.to_string(), index);
                match slots.get(&key) {
                    Some(slot) if slot.active(now) => in_the_way.push(slot.clone()),
                    _ => {
                        slots.insert(
                            key,
                            Slot {
                                index,
                                state: SlotState::Reserved,
                                attempt_id: attempt_id.to_string(),
                                expires_at: now + RESERVATION_SECONDS,
                            },
                        );
                        return Ok(Admission::Admitted(Reservation {
                            slot: index,
                            attempt_id: attempt_id.to_string(),
                        }));
                    }
                }
            }
            Ok(Admission::Full { slots: in_the_way })
        }

        async fn mark_failed(
            &self,
            sub: &str,
            r: &Reservation,
            expires_at: Timestamp,
        ) -> Result<(), StoreError> {
            let mut slots = self.slots.lock().unwrap();
            if let Some(slot) = slots.get_mut(&(sub.to_string(), r.slot))
                && slot.attempt_id == r.attempt_id
            {
                slot.state = SlotState::Failed;
                slot.expires_at = expires_at;
            }
            Ok(())
        }

        async fn release(&self, sub: &str, r: &Reservation) -> Result<(), StoreError> {
            let mut slots = self.slots.lock().unwrap();
            let key = (sub.to_string(), r.slot);
            if slots
                .get(&key)
                .is_some_and(|s| s.attempt_id == r.attempt_id)
            {
                slots.remove(&key);
            }
            Ok(())
        }

        async fn slots(&self, sub: &str) -> Result<Vec<Slot>, StoreError> {
            let slots = self.slots.lock().unwrap();
            Ok(slots
                .iter()
                .filter(|((s, _), _)| s == sub)
                .map(|(_, v)| v.clone())
                .collect())
        }

        async fn extend_failure(
            &self,
            sub: &str,
            slot: &Slot,
            expires_at: Timestamp,
        ) -> Result<(), StoreError> {
            let mut slots = self.slots.lock().unwrap();
            if let Some(current) = slots.get_mut(&(sub.to_string(), slot.index))
                && current.attempt_id == slot.attempt_id
                && current.state == SlotState::Failed
            {
                current.expires_at = expires_at;
            }
            Ok(())
        }

        async fn clear_failure(&self, sub: &str, slot: &Slot) -> Result<(), StoreError> {
            let mut slots = self.slots.lock().unwrap();
            let key = (sub.to_string(), slot.index);
            if slots
                .get(&key)
                .is_some_and(|s| s.attempt_id == slot.attempt_id && s.state == SlotState::Failed)
            {
                slots.remove(&key);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::memory::MemoryAttempts;
    use super::*;

    async fn fail_once(
        store: &MemoryAttempts,
        sub: &str,
        id: &str,
        now: Timestamp,
    ) -> Result<u32, Refusal> {
        let reservation = admit(store, sub, id, now).await.unwrap()?;
        Ok(
            settle(store, sub, &reservation, Settlement::CountedFailure, now)
                .await
                .unwrap(),
        )
    }

    #[tokio::test]
    async fn five_failures_lock_for_an_hour_after_the_fifth() {
        let store = MemoryAttempts::default();
        let mut now = 1_000;
        for i in 0..5 {
            assert_eq!(
                fail_once(&store, "ola", &format!("a{i}"), now)
                    .await
                    .unwrap(),
                4 - i
            );
            now += 600;
        }
        let fifth = now - 600;
        let refusal = admit(&store, "ola", "a5", now).await.unwrap().unwrap_err();
        assert!(refusal.locked);
        assert_eq!(refusal.retry_at, fifth + WINDOW_SECONDS);
        // The first failure is more than an hour old by now, yet the lock holds.
        assert!(
            admit(&store, "ola", "a6", fifth + WINDOW_SECONDS - 1)
                .await
                .unwrap()
                .is_err()
        );
        assert!(
            admit(&store, "ola", "a7", fifth + WINDOW_SECONDS)
                .await
                .unwrap()
                .is_ok()
        );
    }

    #[tokio::test]
    async fn failures_older_than_the_window_no_longer_count() {
        let store = MemoryAttempts::default();
        for i in 0..4 {
            fail_once(&store, "ola", &format!("a{i}"), 0).await.unwrap();
        }
        assert_eq!(
            remaining(&store, "ola", WINDOW_SECONDS - 1).await.unwrap(),
            1
        );
        assert_eq!(remaining(&store, "ola", WINDOW_SECONDS).await.unwrap(), 5);
    }

    #[tokio::test]
    async fn a_success_forgives_earlier_failures() {
        let store = MemoryAttempts::default();
        for i in 0..4 {
            fail_once(&store, "ola", &format!("a{i}"), 0).await.unwrap();
        }
        let r = admit(&store, "ola", "ok", 1).await.unwrap().unwrap();
        assert_eq!(
            settle(&store, "ola", &r, Settlement::Success, 1)
                .await
                .unwrap(),
            5
        );
        assert!(store.slots("ola").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn outages_do_not_count_and_reservations_expire() {
        let store = MemoryAttempts::default();
        let r = admit(&store, "ola", "outage", 0).await.unwrap().unwrap();
        assert_eq!(
            settle(&store, "ola", &r, Settlement::NotCounted, 0)
                .await
                .unwrap(),
            5
        );
        // Five checks in flight hold every place; a sixth is refused but not locked out.
        for i in 0..5 {
            admit(&store, "ola", &format!("r{i}"), 10)
                .await
                .unwrap()
                .unwrap();
        }
        let refusal = admit(&store, "ola", "r5", 10).await.unwrap().unwrap_err();
        assert!(!refusal.locked);
        assert_eq!(refusal.retry_at, 10 + RESERVATION_SECONDS);
        // Invocations that died leave reservations behind; they free themselves.
        assert!(
            admit(&store, "ola", "r6", 10 + RESERVATION_SECONDS)
                .await
                .unwrap()
                .is_ok()
        );
    }

    #[tokio::test]
    async fn one_administrators_failures_do_not_lock_another() {
        let store = MemoryAttempts::default();
        for i in 0..5 {
            fail_once(&store, "ola", &format!("a{i}"), 0).await.unwrap();
        }
        assert!(admit(&store, "ola", "x", 1).await.unwrap().is_err());
        assert!(admit(&store, "kari", "y", 1).await.unwrap().is_ok());
    }
}

/// Attempt slots in the table: `pk = ATTEMPTS#<sub>`, `sk = SLOT#<n>`, with `state`,
/// `attempt_id` and `expires_at` (the table's TTL attribute).
#[cfg(feature = "dynamodb")]
pub mod dynamo {
    use std::collections::HashMap;

    use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

    use super::*;
    use crate::store::dynamo::{
        DynamoStore, Item, SlotClaim, TTL_ATTRIBUTE, get_n, get_s, n, s, sdk,
    };

    fn key(sub: &str, index: u32) -> Item {
        HashMap::from([
            ("pk".to_string(), s(format!("ATTEMPTS#{sub}"))),
            ("sk".to_string(), s(format!("SLOT#{index}"))),
        ])
    }

    fn slot_from(item: &Item) -> Result<Slot, StoreError> {
        Ok(Slot {
            index: get_n(item, "slot")?,
            state: SlotState::parse(&get_s(item, "state")?)
                .ok_or_else(|| StoreError::Backend("unknown attempt slot state".into()))?,
            attempt_id: get_s(item, "attempt_id")?,
            expires_at: get_n(item, TTL_ATTRIBUTE)?,
        })
    }

    /// Settling writes are conditional on the slot still holding the caller's attempt. If the
    /// condition fails, the reservation expired and another attempt owns the slot now: there is
    /// nothing left to settle.
    fn unless_taken_over<O, E, R>(result: Result<O, SdkError<E, R>>) -> Result<(), StoreError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        match result {
            Ok(_) => Ok(()),
            Err(err) if err.code() == Some("ConditionalCheckFailedException") => Ok(()),
            Err(err) => Err(sdk(err)),
        }
    }

    #[async_trait]
    impl AttemptStore for DynamoStore {
        async fn reserve(
            &self,
            sub: &str,
            attempt_id: &str,
            now: Timestamp,
        ) -> Result<Admission, StoreError> {
            let start = first_slot(attempt_id);
            let mut in_the_way = Vec::new();
            for k in 0..MAX_FAILURES {
                let index = (start + k) % MAX_FAILURES;
                let mut item = key(sub, index);
                item.insert("entity".into(), s("attempt_slot"));
                item.insert("slot".into(), n(index));
                item.insert("state".into(), s(SlotState::Reserved.as_str()));
                item.insert("attempt_id".into(), s(attempt_id));
                item.insert(TTL_ATTRIBUTE.into(), n(now + RESERVATION_SECONDS));
                match self.claim_slot(item, now).await? {
                    SlotClaim::Taken => {
                        return Ok(Admission::Admitted(Reservation {
                            slot: index,
                            attempt_id: attempt_id.to_string(),
                        }));
                    }
                    SlotClaim::Held(Some(old)) => in_the_way.push(slot_from(&old)?),
                    SlotClaim::Held(None) => {}
                }
            }
            Ok(Admission::Full { slots: in_the_way })
        }

        async fn mark_failed(
            &self,
            sub: &str,
            r: &Reservation,
            expires_at: Timestamp,
        ) -> Result<(), StoreError> {
            let result = self
                .client()
                .update_item()
                .table_name(self.table())
                .set_key(Some(key(sub, r.slot)))
                .update_expression("SET #state = :failed, #expires_at = :expires")
                .condition_expression("attempt_id = :id")
                .expression_attribute_names("#state", "state")
                .expression_attribute_names("#expires_at", TTL_ATTRIBUTE)
                .expression_attribute_values(":failed", s(SlotState::Failed.as_str()))
                .expression_attribute_values(":expires", n(expires_at))
                .expression_attribute_values(":id", s(&r.attempt_id))
                .send()
                .await;
            unless_taken_over(result)
        }

        async fn release(&self, sub: &str, r: &Reservation) -> Result<(), StoreError> {
            let result = self
                .client()
                .delete_item()
                .table_name(self.table())
                .set_key(Some(key(sub, r.slot)))
                .condition_expression("attempt_id = :id")
                .expression_attribute_values(":id", s(&r.attempt_id))
                .send()
                .await;
            unless_taken_over(result)
        }

        async fn slots(&self, sub: &str) -> Result<Vec<Slot>, StoreError> {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(format!("ATTEMPTS#{sub}")))
                .consistent_read(true)
                .send()
                .await
                .map_err(sdk)?;
            out.items().iter().map(slot_from).collect()
        }

        async fn extend_failure(
            &self,
            sub: &str,
            slot: &Slot,
            expires_at: Timestamp,
        ) -> Result<(), StoreError> {
            let result = self
                .client()
                .update_item()
                .table_name(self.table())
                .set_key(Some(key(sub, slot.index)))
                .update_expression("SET #expires_at = :expires")
                .condition_expression("attempt_id = :id AND #state = :failed")
                .expression_attribute_names("#state", "state")
                .expression_attribute_names("#expires_at", TTL_ATTRIBUTE)
                .expression_attribute_values(":expires", n(expires_at))
                .expression_attribute_values(":id", s(&slot.attempt_id))
                .expression_attribute_values(":failed", s(SlotState::Failed.as_str()))
                .send()
                .await;
            unless_taken_over(result)
        }

        async fn clear_failure(&self, sub: &str, slot: &Slot) -> Result<(), StoreError> {
            let result = self
                .client()
                .delete_item()
                .table_name(self.table())
                .set_key(Some(key(sub, slot.index)))
                .condition_expression("attempt_id = :id AND #state = :failed")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":id", s(&slot.attempt_id))
                .expression_attribute_values(":failed", s(SlotState::Failed.as_str()))
                .send()
                .await;
            unless_taken_over(result)
        }
    }
}
