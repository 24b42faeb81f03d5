//! The lockout on repeated failed connection tests.
//!
//! Failures are counted in two tallies, and a check reaches the vendor only when it holds a
//! place in both: the administrator's ([`MAX_FAILURES`] places, across all their locations) and
//! the location's ([`LOCATION_MAX_FAILURES`] places, across all its administrators). A request
//! that will reach a vendor first takes a free place in each with a conditional write (a place
//! is free when it is absent or its `expires_at` has passed), so concurrent requests can never
//! take more places than there are. A reservation expires by itself after
//! [`RESERVATION_SECONDS`], so one left behind by an invocation that died frees itself. When
//! the check ends each place is either released (success, vendor outage, set-up problem) or
//! kept as a failure for [`WINDOW_SECONDS`]. The failure that fills a tally stretches every
//! failure in it to one hour after itself: that is the lock.
//!
//! A success forgives only the administrator's failures made on the same location against the
//! same target (system, vendor host and clinic), so a working configuration of one's own never
//! buys more guesses at another. The location's tally is never forgiven: it only expires.
//! DynamoDB deletes expired items late (the emulator never), so expiry is always compared in
//! the conditions, never assumed.

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::store::{StoreError, keys};

/// Failed checks an administrator may make in [`WINDOW_SECONDS`]; the fifth locks them out.
pub const MAX_FAILURES: u32 = 5;
/// Failed checks all administrators together may make on one location in [`WINDOW_SECONDS`].
pub const LOCATION_MAX_FAILURES: u32 = 10;
/// How long a failure counts, and how long the lock lasts after the one that fills a tally.
pub const WINDOW_SECONDS: i64 = 3_600;
/// Longer than any check can take (the vendor deadline is under 10 s, the Lambda timeout 30 s).
pub const RESERVATION_SECONDS: i64 = 60;

/// Whose failures a tally counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tally<'a> {
    /// One administrator (`sub`), on every location.
    Administrator(&'a str),
    /// One location (its id), by every administrator.
    Location(&'a str),
}

impl Tally<'_> {
    pub fn places(self) -> u32 {
        match self {
            Tally::Administrator(_) => MAX_FAILURES,
            Tally::Location(_) => LOCATION_MAX_FAILURES,
        }
    }

    /// The table partition holding the tally's places.
    pub fn partition(self) -> String {
        match self {
            Tally::Administrator(sub) => keys::administrator_attempts(sub),
            Tally::Location(location_id) => keys::location_attempts(location_id),
        }
    }

    pub fn scope(self) -> LockScope {
        match self {
            Tally::Administrator(_) => LockScope::Administrator,
            Tally::Location(_) => LockScope::Location,
        }
    }
}

/// What one check is aimed at; stored with its places, so a success can tell which failures
/// were made against the same thing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub id: String,
    pub sub: String,
    pub location_id: String,
    /// Where the entered key goes and which clinic it opens (`<system>[@host]#<external id>`).
    pub target: String,
}

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
    /// Who made the attempt, on which location, against what (absent on places written before
    /// these were recorded: such a failure is never forgiven early, it expires).
    pub sub: Option<String>,
    pub location_id: Option<String>,
    pub target: Option<String>,
}

impl Slot {
    pub fn active(&self, now: Timestamp) -> bool {
        self.expires_at > now
    }

    fn made_by(&self, attempt: &Attempt) -> bool {
        self.location_id.as_deref() == Some(attempt.location_id.as_str())
            && self.target.as_deref() == Some(attempt.target.as_str())
    }
}

/// A place taken for one check in one tally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reservation {
    pub slot: u32,
    pub attempt_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    Admitted(Reservation),
    /// Every place is taken; `slots` are the ones that were found in the way.
    Full {
        slots: Vec<Slot>,
    },
}

/// Conditional writes on a tally's places.
#[async_trait]
pub trait AttemptStore: Send + Sync {
    /// Takes one free place for `attempt`, or reports every place as taken.
    async fn reserve(
        &self,
        tally: Tally<'_>,
        attempt: &Attempt,
        now: Timestamp,
    ) -> Result<Admission, StoreError>;

    /// Turns the caller's own reservation into a failure that counts until `expires_at`.
    async fn mark_failed(
        &self,
        tally: Tally<'_>,
        reservation: &Reservation,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Gives a reservation back (only if it is still the caller's).
    async fn release(&self, tally: Tally<'_>, reservation: &Reservation) -> Result<(), StoreError>;

    async fn slots(&self, tally: Tally<'_>) -> Result<Vec<Slot>, StoreError>;

    /// Sets a failure's expiry, if the place still holds that failure.
    async fn extend_failure(
        &self,
        tally: Tally<'_>,
        slot: &Slot,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Removes a failure, if the place still holds that failure.
    async fn clear_failure(&self, tally: Tally<'_>, slot: &Slot) -> Result<(), StoreError>;
}

/// Which tally is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LockScope {
    Administrator,
    Location,
}

/// Why a request may not reach the vendor now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub retry_at: Timestamp,
    /// True when failures fill a tally (the lock); false when other checks still running hold
    /// every place.
    pub locked: bool,
    pub scope: LockScope,
}

/// The places one check holds: one in each tally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admitted {
    pub attempt: Attempt,
    pub administrator: Reservation,
    pub location: Reservation,
}

impl Admitted {
    fn places(&self) -> [(Tally<'_>, &Reservation); 2] {
        [
            (Tally::Administrator(&self.attempt.sub), &self.administrator),
            (Tally::Location(&self.attempt.location_id), &self.location),
        ]
    }
}

fn refusal_of(tally: Tally<'_>, slots: &[Slot], now: Timestamp) -> Refusal {
    let active: Vec<&Slot> = slots.iter().filter(|s| s.active(now)).collect();
    let failures = active
        .iter()
        .filter(|s| s.state == SlotState::Failed)
        .count() as u32;
    Refusal {
        retry_at: active.iter().map(|s| s.expires_at).min().unwrap_or(now + 1),
        locked: failures >= tally.places(),
        scope: tally.scope(),
    }
}

/// Takes a place in both tallies at once (one round trip), or says why not. A place taken in
/// one tally while the other refuses is given back.
pub async fn admit(
    store: &dyn AttemptStore,
    attempt: Attempt,
    now: Timestamp,
) -> Result<Result<Admitted, Refusal>, StoreError> {
    let admin = Tally::Administrator(&attempt.sub);
    let location = Tally::Location(&attempt.location_id);
    let (by_admin, by_location) = tokio::join!(
        store.reserve(admin, &attempt, now),
        store.reserve(location, &attempt, now)
    );
    match (by_admin, by_location) {
        (Ok(Admission::Admitted(a)), Ok(Admission::Admitted(l))) => Ok(Ok(Admitted {
            administrator: a,
            location: l,
            attempt,
        })),
        (by_admin, by_location) => {
            let mut refusals = Vec::new();
            let mut error = None;
            for (tally, result) in [(admin, by_admin), (location, by_location)] {
                match result {
                    Ok(Admission::Admitted(r)) => {
                        if let Err(e) = store.release(tally, &r).await {
                            tracing::warn!(error = %e, "unused attempt reservation not released");
                        }
                    }
                    Ok(Admission::Full { slots }) => refusals.push(refusal_of(tally, &slots, now)),
                    Err(e) => error = Some(e),
                }
            }
            if let Some(e) = error {
                return Err(e);
            }
            // A lock outranks checks in progress; of two locks, the later end is the answer.
            refusals.sort_by_key(|r| (r.locked, r.retry_at));
            Ok(Err(refusals.pop().expect("one tally refused")))
        }
    }
}

/// How a finished check is settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// The details worked: the administrator's failures on this location and target are
    /// forgiven.
    Success,
    /// The vendor rejected what was entered: counts toward the lockout.
    CountedFailure,
    /// Anything that is not the administrator's doing: does not count.
    NotCounted,
}

/// Settles both places and returns how many failed attempts remain before a lock.
///
/// Round trips are kept to what the order requires (the route budgets in the README hold them):
/// writes that do not depend on each other run concurrently, and the count of remaining
/// attempts comes from the slots already read rather than from another query.
pub async fn settle(
    store: &dyn AttemptStore,
    admitted: &Admitted,
    settlement: Settlement,
    now: Timestamp,
) -> Result<u32, StoreError> {
    let admin = Tally::Administrator(&admitted.attempt.sub);
    let location = Tally::Location(&admitted.attempt.location_id);
    match settlement {
        Settlement::Success | Settlement::NotCounted => {
            // Giving the places back and reading the tallies are independent; the reads may
            // still see our own reservations, which are not failures.
            let release_both = futures_util::future::try_join_all(
                admitted.places().map(|(tally, r)| store.release(tally, r)),
            );
            let (released, admin_slots, location_slots) =
                tokio::join!(release_both, store.slots(admin), store.slots(location));
            released?;
            let mut admin_slots = admin_slots?;
            let location_slots = location_slots?;
            if settlement == Settlement::Success {
                let (forgiven, kept): (Vec<Slot>, Vec<Slot>) = admin_slots
                    .into_iter()
                    .partition(|s| s.state == SlotState::Failed && s.made_by(&admitted.attempt));
                futures_util::future::try_join_all(
                    forgiven.iter().map(|slot| store.clear_failure(admin, slot)),
                )
                .await?;
                admin_slots = kept;
            }
            Ok(remaining_of(admin, &admin_slots, now).min(remaining_of(
                location,
                &location_slots,
                now,
            )))
        }
        Settlement::CountedFailure => {
            futures_util::future::try_join_all(
                admitted
                    .places()
                    .map(|(tally, r)| store.mark_failed(tally, r, now + WINDOW_SECONDS)),
            )
            .await?;
            // Read after the writes: they must see this failure.
            let (admin_slots, location_slots) =
                tokio::join!(store.slots(admin), store.slots(location));
            let (admin_slots, location_slots) = (admin_slots?, location_slots?);
            let mut extend = Vec::new();
            for (tally, slots) in [(admin, &admin_slots), (location, &location_slots)] {
                let failures = active_failures(slots, now);
                if failures.len() as u32 >= tally.places() {
                    // This failure fills the tally: the lock lasts one hour from now, so every
                    // failure that makes it up must last as long.
                    extend.extend(failures.into_iter().map(|slot| (tally, slot)));
                }
            }
            futures_util::future::try_join_all(
                extend
                    .iter()
                    .map(|(tally, slot)| store.extend_failure(*tally, slot, now + WINDOW_SECONDS)),
            )
            .await?;
            // Extending changes no count: the slots read above still tell what remains.
            Ok(remaining_of(admin, &admin_slots, now).min(remaining_of(
                location,
                &location_slots,
                now,
            )))
        }
    }
}

fn remaining_of(tally: Tally<'_>, slots: &[Slot], now: Timestamp) -> u32 {
    tally
        .places()
        .saturating_sub(active_failures(slots, now).len() as u32)
}

/// Failed attempts left before a lock: the administrator's, and when a location is named, the
/// smaller of theirs and the location's.
pub async fn remaining(
    store: &dyn AttemptStore,
    sub: &str,
    location_id: Option<&str>,
    now: Timestamp,
) -> Result<u32, StoreError> {
    let admin = Tally::Administrator(sub);
    match location_id {
        None => Ok(remaining_of(admin, &store.slots(admin).await?, now)),
        Some(location_id) => {
            let location = Tally::Location(location_id);
            let (a, l) = tokio::join!(store.slots(admin), store.slots(location));
            Ok(remaining_of(admin, &a?, now).min(remaining_of(location, &l?, now)))
        }
    }
}

fn active_failures(slots: &[Slot], now: Timestamp) -> Vec<Slot> {
    slots
        .iter()
        .filter(|s| s.state == SlotState::Failed && s.active(now))
        .cloned()
        .collect()
}

/// The first place to try, spread by attempt id so concurrent requests do not all queue on
/// place 0.
pub fn first_slot(attempt_id: &str, places: u32) -> u32 {
    attempt_id.bytes().fold(0u32, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u32::from(b))
    }) % places
}

pub mod memory {
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
        ) -> Result<Admission, StoreError> {
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
                        return Ok(Admission::Admitted(Reservation {
                            slot: index,
                            attempt_id: attempt.id.clone(),
                        }));
                    }
                }
            }
            Ok(Admission::Full { slots: in_the_way })
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
}

#[cfg(test)]
mod tests {
    use super::memory::MemoryAttempts;
    use super::*;

    fn attempt(sub: &str, location: &str, target: &str, id: &str) -> Attempt {
        Attempt {
            id: id.into(),
            sub: sub.into(),
            location_id: location.into(),
            target: target.into(),
        }
    }

    async fn check(
        store: &MemoryAttempts,
        a: Attempt,
        settlement: Settlement,
        now: Timestamp,
    ) -> Result<u32, Refusal> {
        let admitted = admit(store, a, now).await.unwrap()?;
        Ok(settle(store, &admitted, settlement, now).await.unwrap())
    }

    async fn fail_once(
        store: &MemoryAttempts,
        sub: &str,
        id: &str,
        now: Timestamp,
    ) -> Result<u32, Refusal> {
        check(
            store,
            attempt(sub, "loc-a", "pasientsky#clinic-a", id),
            Settlement::CountedFailure,
            now,
        )
        .await
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
        let probe = |id: &str| attempt("ola", "loc-b", "hano#x", id);
        let refusal = admit(&store, probe("a5"), now).await.unwrap().unwrap_err();
        assert!(refusal.locked);
        assert_eq!(refusal.scope, LockScope::Administrator);
        assert_eq!(refusal.retry_at, fifth + WINDOW_SECONDS);
        // The first failure is more than an hour old by now, yet the lock holds.
        assert!(
            admit(&store, probe("a6"), fifth + WINDOW_SECONDS - 1)
                .await
                .unwrap()
                .is_err()
        );
        assert!(
            admit(&store, probe("a7"), fifth + WINDOW_SECONDS)
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
        let remaining = |now| remaining(&store, "ola", Some("loc-a"), now);
        assert_eq!(remaining(WINDOW_SECONDS - 1).await.unwrap(), 1);
        assert_eq!(remaining(WINDOW_SECONDS).await.unwrap(), 5);
    }

    #[tokio::test]
    async fn a_success_forgives_only_failures_on_the_same_location_and_target() {
        let store = MemoryAttempts::default();
        // Two failures on location A, two on location B.
        for i in 0..2 {
            check(
                &store,
                attempt("ola", "loc-a", "pasientsky#clinic-a", &format!("a{i}")),
                Settlement::CountedFailure,
                0,
            )
            .await
            .unwrap();
            check(
                &store,
                attempt("ola", "loc-b", "pasientsky#clinic-b", &format!("b{i}")),
                Settlement::CountedFailure,
                0,
            )
            .await
            .unwrap();
        }
        // A success on B forgives B's two failures; A's still count.
        let left = check(
            &store,
            attempt("ola", "loc-b", "pasientsky#clinic-b", "ok-b"),
            Settlement::Success,
            1,
        )
        .await
        .unwrap();
        assert_eq!(left, 3);
        let failures: Vec<Slot> = store
            .slots(Tally::Administrator("ola"))
            .await
            .unwrap()
            .into_iter()
            .filter(|s| s.state == SlotState::Failed)
            .collect();
        assert_eq!(failures.len(), 2);
        assert!(
            failures
                .iter()
                .all(|s| s.location_id.as_deref() == Some("loc-a"))
        );
        // A success on A with other details (the administrator's own clinic) forgives nothing.
        let left = check(
            &store,
            attempt("ola", "loc-a", "pasientsky#own-clinic", "ok-a"),
            Settlement::Success,
            2,
        )
        .await
        .unwrap();
        assert_eq!(left, 3);
    }

    /// The attack: four wrong keys on A, a passing test on B with one's own working key, four
    /// more on A. The fifth guess at A locks; no more than five guesses reach the vendor.
    #[tokio::test]
    async fn a_success_elsewhere_buys_no_more_guesses() {
        let store = MemoryAttempts::default();
        let guess = |i: u32| attempt("eve", "loc-a", "pasientsky#victim", &format!("g{i}"));
        let mut reached = 0;
        for i in 0..4 {
            if check(&store, guess(i), Settlement::CountedFailure, 10)
                .await
                .is_ok()
            {
                reached += 1;
            }
        }
        check(
            &store,
            attempt("eve", "loc-b", "pasientsky#own", "own"),
            Settlement::Success,
            11,
        )
        .await
        .unwrap();
        for i in 4..8 {
            if check(&store, guess(i), Settlement::CountedFailure, 12)
                .await
                .is_ok()
            {
                reached += 1;
            }
        }
        assert_eq!(reached, 5);
        let refusal = admit(&store, guess(9), 13).await.unwrap().unwrap_err();
        assert!(refusal.locked);
    }

    #[tokio::test]
    async fn guesses_at_one_location_from_several_accounts_are_capped() {
        let store = MemoryAttempts::default();
        let guess =
            |sub: &str, i: u32| attempt(sub, "loc-a", "pasientsky#victim", &format!("{sub}-{i}"));
        // Four administrators, four guesses each (none reaches their own lock of five).
        let mut reached = 0;
        for sub in ["a", "b", "c", "d"] {
            for i in 0..4 {
                if check(&store, guess(sub, i), Settlement::CountedFailure, 100)
                    .await
                    .is_ok()
                {
                    reached += 1;
                }
            }
        }
        assert_eq!(reached, LOCATION_MAX_FAILURES);
        let refusal = admit(&store, guess("e", 0), 101)
            .await
            .unwrap()
            .unwrap_err();
        assert!(refusal.locked);
        assert_eq!(refusal.scope, LockScope::Location);
        assert_eq!(refusal.retry_at, 100 + WINDOW_SECONDS);
        // The refused administrator's own place was given back, and another location is open.
        assert!(
            store
                .slots(Tally::Administrator("e"))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            admit(&store, attempt("e", "loc-b", "hano#x", "e-b"), 101)
                .await
                .unwrap()
                .is_ok()
        );
        // Successes on the location do not reopen it before the hour.
        assert!(
            admit(&store, guess("f", 0), 100 + WINDOW_SECONDS - 1)
                .await
                .unwrap()
                .is_err()
        );
        assert!(
            admit(&store, guess("f", 1), 100 + WINDOW_SECONDS)
                .await
                .unwrap()
                .is_ok()
        );
    }

    #[tokio::test]
    async fn outages_do_not_count_and_reservations_expire() {
        let store = MemoryAttempts::default();
        let a = |id: &str| attempt("ola", "loc-a", "hano#x", id);
        assert_eq!(
            check(&store, a("outage"), Settlement::NotCounted, 0)
                .await
                .unwrap(),
            5
        );
        // Five checks in flight hold every place; a sixth is refused but not locked out.
        for i in 0..5 {
            admit(&store, a(&format!("r{i}")), 10)
                .await
                .unwrap()
                .unwrap();
        }
        let refusal = admit(&store, a("r5"), 10).await.unwrap().unwrap_err();
        assert!(!refusal.locked);
        assert_eq!(refusal.retry_at, 10 + RESERVATION_SECONDS);
        // Invocations that died leave reservations behind; they free themselves.
        assert!(
            admit(&store, a("r6"), 10 + RESERVATION_SECONDS)
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
        let probe = |sub: &str| attempt(sub, "loc-a", "pasientsky#clinic-a", sub);
        assert!(admit(&store, probe("ola"), 1).await.unwrap().is_err());
        assert!(admit(&store, probe("kari"), 1).await.unwrap().is_ok());
    }
}

/// Places in the table, one attempt slot item each (keys in [`crate::store::keys`]), with
/// `state`, `attempt_id`, `sub`, `location_id`, `target` and `expires_at` (the table's TTL
/// attribute).
#[cfg(feature = "dynamodb")]
pub mod dynamo {
    use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

    use super::*;
    use crate::store::dynamo::{
        DynamoStore, Item, SlotClaim, get_n, get_opt_s, get_s, key_item, n, s, sdk,
    };
    use crate::store::keys::TTL_ATTRIBUTE;

    fn key(tally: Tally<'_>, index: u32) -> Item {
        key_item(&keys::Key::attempt_slot(&tally.partition(), index))
    }

    fn slot_from(item: &Item) -> Result<Slot, StoreError> {
        Ok(Slot {
            index: get_n(item, "slot")?,
            state: SlotState::parse(&get_s(item, "state")?)
                .ok_or_else(|| StoreError::Backend("unknown attempt slot state".into()))?,
            attempt_id: get_s(item, "attempt_id")?,
            expires_at: get_n(item, TTL_ATTRIBUTE)?,
            sub: get_opt_s(item, "sub"),
            location_id: get_opt_s(item, "location_id"),
            target: get_opt_s(item, "target"),
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
            tally: Tally<'_>,
            attempt: &Attempt,
            now: Timestamp,
        ) -> Result<Admission, StoreError> {
            let places = tally.places();
            let start = first_slot(&attempt.id, places);
            let mut in_the_way = Vec::new();
            for k in 0..places {
                let index = (start + k) % places;
                let mut item = key(tally, index);
                item.insert("entity".into(), s("attempt_slot"));
                item.insert("slot".into(), n(index));
                item.insert("state".into(), s(SlotState::Reserved.as_str()));
                item.insert("attempt_id".into(), s(&attempt.id));
                item.insert("sub".into(), s(&attempt.sub));
                item.insert("location_id".into(), s(&attempt.location_id));
                item.insert("target".into(), s(&attempt.target));
                item.insert(TTL_ATTRIBUTE.into(), n(now + RESERVATION_SECONDS));
                match self.claim_slot(item, now).await? {
                    SlotClaim::Taken => {
                        return Ok(Admission::Admitted(Reservation {
                            slot: index,
                            attempt_id: attempt.id.clone(),
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
            tally: Tally<'_>,
            r: &Reservation,
            expires_at: Timestamp,
        ) -> Result<(), StoreError> {
            let result = self
                .client()
                .update_item()
                .table_name(self.table())
                .set_key(Some(key(tally, r.slot)))
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

        async fn release(&self, tally: Tally<'_>, r: &Reservation) -> Result<(), StoreError> {
            let result = self
                .client()
                .delete_item()
                .table_name(self.table())
                .set_key(Some(key(tally, r.slot)))
                .condition_expression("attempt_id = :id")
                .expression_attribute_values(":id", s(&r.attempt_id))
                .send()
                .await;
            unless_taken_over(result)
        }

        async fn slots(&self, tally: Tally<'_>) -> Result<Vec<Slot>, StoreError> {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(tally.partition()))
                .consistent_read(true)
                .send()
                .await
                .map_err(sdk)?;
            out.items().iter().map(slot_from).collect()
        }

        async fn extend_failure(
            &self,
            tally: Tally<'_>,
            slot: &Slot,
            expires_at: Timestamp,
        ) -> Result<(), StoreError> {
            let result = self
                .client()
                .update_item()
                .table_name(self.table())
                .set_key(Some(key(tally, slot.index)))
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

        async fn clear_failure(&self, tally: Tally<'_>, slot: &Slot) -> Result<(), StoreError> {
            let result = self
                .client()
                .delete_item()
                .table_name(self.table())
                .set_key(Some(key(tally, slot.index)))
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
