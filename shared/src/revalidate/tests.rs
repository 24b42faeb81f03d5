//! The run against the in-memory store and a scripted vendor: notices, resuming, budgets.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use super::memory::MemoryRevalidation;
use super::*;
use crate::booking::key_store::memory::MemoryKeyStore;
use crate::catalog::{BookingDetails, BookingSystem, FieldId};
use crate::clock::ManualClock;
use crate::mail::RecordingMailer;
use crate::vendors::{CheckCode, CheckReport, CheckStep, StepId, StepStatus};

/// A vendor whose answer for a clinic the test decides, and how long each answer takes on
/// the injected clock (checks run one at a time in the tests that use it).
#[derive(Default)]
struct Scripted {
    answers: Mutex<HashMap<String, CheckCode>>,
    calls: AtomicU32,
    by_clinic: Mutex<HashMap<String, u32>>,
    takes: Mutex<Option<(Arc<ManualClock>, i64)>>,
}

#[async_trait]
impl VendorCheck for Scripted {
    async fn check(&self, system: &BookingSystem, details: &BookingDetails) -> CheckReport {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let clinic = details.external_id.clone().unwrap_or_default();
        *self
            .by_clinic
            .lock()
            .unwrap()
            .entry(clinic.clone())
            .or_default() += 1;
        if let Some((clock, seconds)) = self.takes.lock().unwrap().as_ref() {
            clock.advance(*seconds);
        }
        let code = self
            .answers
            .lock()
            .unwrap()
            .get(&clinic)
            .copied()
            .unwrap_or(CheckCode::Ok);
        let step = |step, code: CheckCode, field| CheckStep {
            step,
            status: if code == CheckCode::Ok {
                StepStatus::Ok
            } else {
                StepStatus::Failed
            },
            code,
            field,
        };
        let steps = match code {
            CheckCode::Ok => vec![step(StepId::VendorReachable, CheckCode::Ok, None)],
            CheckCode::VendorError => vec![step(StepId::VendorReachable, code, None)],
            other => vec![
                step(StepId::VendorReachable, CheckCode::Ok, None),
                step(StepId::KeyAccepted, other, Some(FieldId::ApiKey)),
            ],
        };
        CheckReport {
            system: system.id.to_string(),
            steps,
        }
    }
}

impl Scripted {
    fn answer(&self, clinic: &str, code: CheckCode) {
        self.answers.lock().unwrap().insert(clinic.into(), code);
    }
}

/// One invocation with no limit on its checks.
async fn run_all(deps: &Arc<RevalidateDeps>, run_id: &str) -> RunSummary {
    run(deps.clone(), run_id, &Allowance::unlimited())
        .await
        .unwrap()
}

fn admin(user_sub: &str, email: Option<&str>, invited_by: Option<&str>) -> Membership {
    Membership {
        user_sub: user_sub.into(),
        company_id: "c".into(),
        email: email.map(Into::into),
        name: None,
        created_at: 0,
        invited_by: invited_by.map(Into::into),
    }
}

fn saved(n: u32) -> SavedConfig {
    SavedConfig {
        company_id: "c".into(),
        location_id: format!("l{n:03}"),
        location_name: format!("Lokasjon {n}"),
        booking: BookingConfig {
            system: "hano".into(),
            external_id: Some(format!("clinic-{n}")),
            external_department_id: None,
            booking_url: None,
            key_stored: false,
            secret_version_id: None,
            config_id: Some(format!("config-{n}")),
            health: Some(Health::Ok),
            notice_pending: None,
            last_check: None,
            saved_by: None,
            saved_at: None,
        },
    }
}

fn setup(
    locations: u32,
    page_size: u32,
) -> (
    Arc<RevalidateDeps>,
    Arc<MemoryRevalidation>,
    Arc<Scripted>,
    Arc<RecordingMailer>,
) {
    let (deps, store, vendor, mailer, _) = setup_with_clock(locations, page_size, 3, 2);
    (deps, store, vendor, mailer)
}

type Fixture = (
    Arc<RevalidateDeps>,
    Arc<MemoryRevalidation>,
    Arc<Scripted>,
    Arc<RecordingMailer>,
    Arc<ManualClock>,
);

fn setup_with_clock(
    locations: u32,
    page_size: u32,
    concurrency: usize,
    per_vendor: usize,
) -> Fixture {
    let clock = Arc::new(ManualClock::at(0));
    let store = Arc::new(MemoryRevalidation::default());
    for n in 0..locations {
        store.add(saved(n));
    }
    store.add_admin(admin("ola", Some("ola@fysio.no"), None));
    let vendor = Arc::new(Scripted::default());
    let mailer = Arc::new(RecordingMailer::new());
    let deps = Arc::new(RevalidateDeps {
        store: store.clone(),
        keys: LocationKeys {
            store: Arc::new(MemoryKeyStore::default()),
            prefix: String::new(),
        },
        vendors: vendor.clone(),
        mailer: mailer.clone(),
        clock: clock.clone(),
        settings: Settings {
            concurrency,
            per_vendor,
            page_size,
        },
    });
    (deps, store, vendor, mailer, clock)
}

#[tokio::test]
async fn a_broken_connection_is_told_once_and_its_recovery_once() {
    let (deps, store, vendor, mailer) = setup(2, 10);
    vendor.answer("clinic-1", CheckCode::ApiKeyRejected);
    for night in ["n1", "n2"] {
        run_all(&deps, night).await;
    }
    assert_eq!(mailer.sent().len(), 1);
    assert!(
        mailer.sent()[0]
            .subject
            .contains("Lokasjon 1 virker ikke lenger")
    );
    // An outage says nothing either way.
    vendor.answer("clinic-1", CheckCode::VendorError);
    run_all(&deps, "n3").await;
    assert_eq!(
        store.config("c", "l001").unwrap().booking.health,
        Some(Health::Failing)
    );
    vendor.answers.lock().unwrap().remove("clinic-1");
    for night in ["n4", "n5"] {
        run_all(&deps, night).await;
    }
    let subjects: Vec<String> = mailer.sent().into_iter().map(|m| m.subject).collect();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(subjects[1].contains("Lokasjon 1 virker igjen"));
}

#[tokio::test]
async fn each_administrator_gets_their_own_notice_at_their_stored_address() {
    let (deps, store, vendor, mailer) = setup(2, 10);
    store.add_admin(admin("kari", Some("kari@fysio.no"), Some("ola@fysio.no")));
    // One without a stored address gets no mail.
    store.add_admin(admin("legacy", None, None));
    vendor.answer("clinic-1", CheckCode::ApiKeyRejected);
    run_all(&deps, "n1").await;
    let mut recipients: Vec<Vec<String>> = mailer.sent().into_iter().map(|m| m.to).collect();
    recipients.sort();
    assert_eq!(
        recipients,
        [
            vec!["kari@fysio.no".to_string()],
            vec!["ola@fysio.no".to_string()]
        ]
    );
    assert!(mailer.sent().iter().all(|m| m.cc.is_empty()));
}

#[tokio::test]
async fn a_notice_that_could_not_be_sent_is_sent_by_the_next_run() {
    let (deps, store, vendor, mailer) = setup(1, 10);
    vendor.answer("clinic-0", CheckCode::ClinicNotFound);
    mailer.fail_with(Some(crate::mail::MailError::Throttled));
    run_all(&deps, "n1").await;
    assert_eq!(
        store.config("c", "l000").unwrap().booking.notice_pending,
        Some(Notice::Broken)
    );
    mailer.fail_with(None);
    run_all(&deps, "n2").await;
    run_all(&deps, "n3").await;
    assert_eq!(mailer.sent().len(), 1);
    assert_eq!(
        store.config("c", "l000").unwrap().booking.notice_pending,
        None
    );
}

#[tokio::test]
async fn each_invocation_reports_its_counts_and_a_night_completes_once() {
    let (deps, _store, vendor, _mailer) = setup(5, 2);
    let tonight = run_id_for(deps.clock.now());
    vendor.answer("clinic-1", CheckCode::ApiKeyRejected);
    vendor.answer("clinic-2", CheckCode::VendorError);
    let recording = metrics::record();
    // One page of two: once before the page, once per check.
    run(deps.clone(), &tonight, &Allowance::new(3))
        .await
        .unwrap();
    assert_eq!(recording.total(&metrics::REVALIDATION_CHECKED), 2.0);
    assert_eq!(recording.total(&metrics::REVALIDATION_BROKEN), 1.0);
    assert_eq!(recording.total(&metrics::REVALIDATION_RUNS_COMPLETED), 0.0);
    run_all(&deps, &tonight).await;
    // The night is done: later invocations hold the run but complete nothing again.
    run_all(&deps, &tonight).await;
    assert_eq!(recording.total(&metrics::REVALIDATION_CHECKED), 5.0);
    assert_eq!(recording.total(&metrics::REVALIDATION_UNAVAILABLE), 1.0);
    assert_eq!(recording.count(&metrics::REVALIDATION_RUNS_COMPLETED), 1);
    assert_eq!(recording.total(&metrics::REVALIDATION_RUN_LOCATIONS), 5.0);
    assert_eq!(
        recording.count(&metrics::REVALIDATION_DURATION),
        3,
        "one line per invocation that held the run"
    );
    // Every check is counted by system and outcome too.
    let checks = recording.values(&metrics::CONNECTION_CHECKS);
    assert_eq!(checks.len(), 5);
    let outcomes: Vec<&str> = checks
        .iter()
        .map(|(_, dims)| dims["Outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "success").count(), 3);
    assert!(outcomes.contains(&"rejected") && outcomes.contains(&"unavailable"));
    assert!(checks.iter().all(|(_, dims)| dims["System"] == "hano"));

    // A run started by hand: the broken connection works again, which it counts, but its
    // completion is not tonight's.
    vendor.answers.lock().unwrap().clear();
    run_all(&deps, "rerun-1").await;
    assert_eq!(recording.total(&metrics::REVALIDATION_RECOVERED), 1.0);
    assert_eq!(recording.total(&metrics::REVALIDATION_CHECKED), 10.0);
    assert_eq!(recording.count(&metrics::REVALIDATION_RUNS_COMPLETED), 1);
}

#[tokio::test]
async fn runs_resume_after_the_last_finished_page() {
    let (deps, _store, vendor, _mailer) = setup(7, 2);
    // Two pages of two: once before each page, once per check.
    let first = run(deps.clone(), "n1", &Allowance::new(6)).await.unwrap();
    assert_eq!((first.done, first.checked_now), (false, 4));
    let second = run_all(&deps, "n1").await;
    assert_eq!(
        (second.done, second.checked_now, second.checked_in_run),
        (true, 3, 7)
    );
    assert_eq!(vendor.calls.load(Ordering::SeqCst), 7);
}

#[tokio::test]
async fn an_unreadable_item_mid_run_is_skipped_counted_and_passed() {
    let (deps, store, vendor, _mailer) = setup(6, 2);
    // Between l002 and l003 in index order, on the second page.
    store.add_unreadable("c#l002-damaged");
    let first = run_all(&deps, "n1").await;
    assert!(first.done);
    assert_eq!((first.checked_now, first.unreadable), (6, 1));
    assert_eq!(vendor.calls.load(Ordering::SeqCst), 6);
    // The next night meets it again, and again goes past it.
    let second = run_all(&deps, "n2").await;
    assert_eq!(
        (second.done, second.checked_now, second.unreadable),
        (true, 6, 1)
    );
}

/// Every check of the one vendor times out (8 s, the vendor deadline). The invocation takes
/// no check it could not finish before its deadline, so it ends in time with its progress
/// saved, and the next one finishes the run: each location checked exactly once.
#[tokio::test]
async fn a_vendor_timing_out_on_every_check_never_costs_the_invocation() {
    let (deps, store, vendor, _mailer, clock) = setup_with_clock(20, 10, 1, 1);
    for n in 0..20 {
        vendor.answer(&format!("clinic-{n}"), CheckCode::VendorError);
    }
    *vendor.takes.lock().unwrap() = Some((clock.clone(), 8));
    let budget = |from: Timestamp, seconds: i64| Deadline {
        clock: clock.clone(),
        deadline: from + seconds,
        slowest_check: 10,
    };
    let first = run(deps.clone(), "n1", &budget(0, 60)).await.unwrap();
    // Checks start at 0, 8, …, 48 s (12 s left > 10); at 56 s only 4 are left.
    assert!(
        clock.now() <= 60,
        "the invocation ended at {} s",
        clock.now()
    );
    assert_eq!(
        (first.done, first.checked_now, first.unavailable),
        (false, 7, 7)
    );
    // The next scheduled invocation, after this one's deadline, takes the lease and goes on.
    clock.set(900);
    let second = run(deps.clone(), "n1", &budget(900, 900)).await.unwrap();
    assert!(second.done);
    assert_eq!(second.checked_in_run, 20);
    let by_clinic = vendor.by_clinic.lock().unwrap().clone();
    assert_eq!(by_clinic.len(), 20);
    assert!(by_clinic.values().all(|n| *n == 1), "{by_clinic:?}");
    assert!(
        store
            .config("c", "l019")
            .unwrap()
            .booking
            .last_check
            .is_some()
    );
}

/// An invocation whose time runs out in the middle of a page stores the last location it
/// started; the next continues right after it.
#[tokio::test]
async fn an_invocation_cut_mid_page_resumes_without_skipping_or_repeating() {
    let (deps, _store, vendor, _mailer, clock) = setup_with_clock(10, 4, 1, 1);
    *vendor.takes.lock().unwrap() = Some((clock.clone(), 3));
    let until = |deadline: Timestamp| Deadline {
        clock: clock.clone(),
        deadline,
        slowest_check: 5,
    };
    let first = run(deps.clone(), "n1", &until(20)).await.unwrap();
    // Checks start at 0, 3, 6, 9 and 12 s; at 15 s only 5 are left: cut inside page two.
    assert_eq!((first.done, first.checked_now), (false, 5));
    clock.set(20);
    let second = run(deps.clone(), "n1", &until(1_000)).await.unwrap();
    assert_eq!((second.done, second.checked_now), (true, 5));
    let by_clinic = vendor.by_clinic.lock().unwrap().clone();
    assert_eq!(by_clinic.len(), 10, "{by_clinic:?}");
    assert!(by_clinic.values().all(|n| *n == 1), "{by_clinic:?}");
}
