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

/// Whether `a` may reach the vendor at `now` (its places are left taken).
async fn admits(store: &MemoryAttempts, a: Attempt, now: Timestamp) -> bool {
    admit(store, a, now).await.unwrap().is_ok()
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

/// A check that failed in a way that counts (a wrong key, say).
async fn fail(store: &MemoryAttempts, a: Attempt, now: Timestamp) -> Result<u32, Refusal> {
    check(store, a, Settlement::CountedFailure, now).await
}

async fn fail_once(
    store: &MemoryAttempts,
    sub: &str,
    id: &str,
    now: Timestamp,
) -> Result<u32, Refusal> {
    fail(store, attempt(sub, "loc-a", "pasientsky#clinic-a", id), now).await
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
    assert!(!admits(&store, probe("a6"), fifth + WINDOW_SECONDS - 1).await);
    assert!(admits(&store, probe("a7"), fifth + WINDOW_SECONDS).await);
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
    let on_a = |id: &str| attempt("ola", "loc-a", "pasientsky#clinic-a", id);
    let on_b = |id: &str| attempt("ola", "loc-b", "pasientsky#clinic-b", id);
    // Two failures on location A, two on location B.
    for i in 0..2 {
        fail(&store, on_a(&format!("a{i}")), 0).await.unwrap();
        fail(&store, on_b(&format!("b{i}")), 0).await.unwrap();
    }
    // A success on B forgives B's two failures; A's still count.
    let left = check(&store, on_b("ok-b"), Settlement::Success, 1)
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
    let own = attempt("ola", "loc-a", "pasientsky#own-clinic", "ok-a");
    let left = check(&store, own, Settlement::Success, 2).await.unwrap();
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
        if fail(&store, guess(i), 10).await.is_ok() {
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
        if fail(&store, guess(i), 12).await.is_ok() {
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
            if fail(&store, guess(sub, i), 100).await.is_ok() {
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
    assert!(admits(&store, attempt("e", "loc-b", "hano#x", "e-b"), 101).await);
    // Successes on the location do not reopen it before the hour.
    assert!(!admits(&store, guess("f", 0), 100 + WINDOW_SECONDS - 1).await);
    assert!(admits(&store, guess("f", 1), 100 + WINDOW_SECONDS).await);
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
    assert!(admits(&store, a("r6"), 10 + RESERVATION_SECONDS).await);
}

#[tokio::test]
async fn one_administrators_failures_do_not_lock_another() {
    let store = MemoryAttempts::default();
    for i in 0..5 {
        fail_once(&store, "ola", &format!("a{i}"), 0).await.unwrap();
    }
    let probe = |sub: &str| attempt(sub, "loc-a", "pasientsky#clinic-a", sub);
    assert!(!admits(&store, probe("ola"), 1).await);
    assert!(admits(&store, probe("kari"), 1).await);
}
