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
use crate::store::{Result, StoreError, keys};

#[cfg(feature = "dynamodb")]
pub mod dynamo;
pub mod memory;
#[cfg(test)]
mod tests;

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
    /// A reservation of place `index` for `attempt`, taken at `now`.
    fn reserved(attempt: &Attempt, index: u32, now: Timestamp) -> Slot {
        Slot {
            index,
            state: SlotState::Reserved,
            attempt_id: attempt.id.clone(),
            expires_at: now + RESERVATION_SECONDS,
            sub: Some(attempt.sub.clone()),
            location_id: Some(attempt.location_id.clone()),
            target: Some(attempt.target.clone()),
        }
    }

    pub fn active(&self, now: Timestamp) -> bool {
        self.expires_at > now
    }

    fn made_by(&self, attempt: &Attempt) -> bool {
        self.location_id.as_deref() == Some(attempt.location_id.as_str())
            && self.target.as_deref() == Some(attempt.target.as_str())
    }
}

/// What a caller holds in a place, and so what a settling write requires of the place: the
/// reservation it took (whatever became of it since), or a failure it read. A place that no
/// longer holds it expired and another attempt owns it now: there is nothing left to settle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held<'a> {
    Reservation(&'a Reservation),
    Failure(&'a Slot),
}

impl Held<'_> {
    fn index(self) -> u32 {
        match self {
            Held::Reservation(r) => r.slot,
            Held::Failure(slot) => slot.index,
        }
    }

    fn attempt_id(&self) -> &str {
        match self {
            Held::Reservation(r) => &r.attempt_id,
            Held::Failure(slot) => &slot.attempt_id,
        }
    }

    /// Whether `place` still holds it.
    fn still_in(&self, place: &Slot) -> bool {
        place.attempt_id == self.attempt_id()
            && (matches!(self, Held::Reservation(_)) || place.state == SlotState::Failed)
    }
}

/// A place taken for one check in one tally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reservation {
    pub slot: u32,
    pub attempt_id: String,
}

/// What one tally answers a request for a place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReserveOutcome {
    Taken(Reservation),
    /// Every place is taken; `slots` are the ones that were found in the way.
    Full {
        slots: Vec<Slot>,
    },
}

/// What the conditional write of a reservation into its place found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlaceClaim {
    Taken,
    /// The place holds another attempt's unexpired slot (`None`: the store did not say which).
    Held(Option<Slot>),
}

/// Conditional writes on a tally's places.
#[async_trait]
pub trait AttemptStore: Send + Sync {
    /// Takes one free place for `attempt`, or reports every place as taken. The places are
    /// tried one by one from `first_slot`, each with its own conditional write.
    async fn reserve(
        &self,
        tally: Tally<'_>,
        attempt: &Attempt,
        now: Timestamp,
    ) -> Result<ReserveOutcome> {
        let places = tally.places();
        let start = first_slot(&attempt.id, places);
        let mut in_the_way = Vec::new();
        for k in 0..places {
            let slot = Slot::reserved(attempt, (start + k) % places, now);
            match self.claim(tally, &slot, now).await? {
                PlaceClaim::Taken => {
                    return Ok(ReserveOutcome::Taken(Reservation {
                        slot: slot.index,
                        attempt_id: slot.attempt_id,
                    }));
                }
                PlaceClaim::Held(Some(holder)) => in_the_way.push(holder),
                PlaceClaim::Held(None) => {}
            }
        }
        Ok(ReserveOutcome::Full { slots: in_the_way })
    }

    /// Writes `slot` into its place in `tally` if the place is free at `now`: empty, or
    /// holding a slot that has expired.
    async fn claim(&self, tally: Tally<'_>, slot: &Slot, now: Timestamp) -> Result<PlaceClaim>;

    /// Makes the place a failure that counts until `until`, if it still holds what the caller
    /// holds: its own reservation becomes a failure, or a failure it read lasts until then.
    async fn mark_failed(&self, tally: Tally<'_>, held: Held<'_>, until: Timestamp) -> Result<()>;

    /// Empties the place, if it still holds what the caller holds: a reservation given back,
    /// or a failure forgiven.
    async fn release(&self, tally: Tally<'_>, held: Held<'_>) -> Result<()>;

    async fn slots(&self, tally: Tally<'_>) -> Result<Vec<Slot>>;
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

/// A check's place in the lockout: a place in both tallies, or why there is none.
pub type Admission = Result<Admitted, Refusal>;

/// Takes a place in both tallies at once (one round trip), or says why not. A place taken in
/// one tally while the other refuses is given back.
pub async fn admit(
    store: &dyn AttemptStore,
    attempt: Attempt,
    now: Timestamp,
) -> Result<Admission, StoreError> {
    let admin = Tally::Administrator(&attempt.sub);
    let location = Tally::Location(&attempt.location_id);
    let (by_admin, by_location) = tokio::join!(
        store.reserve(admin, &attempt, now),
        store.reserve(location, &attempt, now)
    );
    match (by_admin, by_location) {
        (Ok(ReserveOutcome::Taken(a)), Ok(ReserveOutcome::Taken(l))) => Ok(Ok(Admitted {
            administrator: a,
            location: l,
            attempt,
        })),
        (by_admin, by_location) => {
            let mut refusals = Vec::new();
            let mut error = None;
            for (tally, result) in [(admin, by_admin), (location, by_location)] {
                match result {
                    Ok(ReserveOutcome::Taken(r)) => {
                        if let Err(e) = store.release(tally, Held::Reservation(&r)).await {
                            tracing::warn!(error = %e, "unused attempt reservation not released");
                        }
                    }
                    Ok(ReserveOutcome::Full { slots }) => {
                        refusals.push(refusal_of(tally, &slots, now))
                    }
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
                admitted
                    .places()
                    .map(|(tally, r)| store.release(tally, Held::Reservation(r))),
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
                    forgiven
                        .iter()
                        .map(|slot| store.release(admin, Held::Failure(slot))),
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
            futures_util::future::try_join_all(admitted.places().map(|(tally, r)| {
                store.mark_failed(tally, Held::Reservation(r), now + WINDOW_SECONDS)
            }))
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
            futures_util::future::try_join_all(extend.iter().map(|(tally, slot)| {
                store.mark_failed(*tally, Held::Failure(slot), now + WINDOW_SECONDS)
            }))
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
fn first_slot(attempt_id: &str, places: u32) -> u32 {
    attempt_id.bytes().fold(0u32, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u32::from(b))
    }) % places
}
