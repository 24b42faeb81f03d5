//! Nightly revalidation of saved booking connections.
//!
//! A run re-checks every saved configuration with its stored key, through the same adapters
//! as "Test kobling", and records the result on the location without touching the
//! administrator's configuration or version. It reads the sparse index of saved configurations
//! page by page, checks a page's locations concurrently (bounded overall and per vendor), and
//! after each page stores how far it got. An invocation takes no new check once the time left
//! is less than the slowest check can take, waits for the checks in flight (each bounded by the
//! vendor deadline) and stores the last location it started as the cursor: every location
//! before it is finished, none after it was started. The next invocation continues there, so a
//! table larger than one invocation can cover is checked completely, each location once per
//! run, and a slow or failing vendor costs at most one deadline per check in flight, never the
//! invocation. A lease on the run, held until the invocation's own deadline, keeps two
//! invocations from working on the same run at once and frees itself when an invocation dies.
//! An item that cannot be read is skipped, counted and logged by key; the run goes on.
//!
//! When a connection goes from working to failing the company's administrators get one e-mail;
//! when it works again, one more. Vendor outages change nothing: the details may still be right.
//! Revalidation never touches the lockout.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::booking::secrets::SecretStore;
use crate::booking::step_codes;
use crate::catalog::{self, BookingDetails, BookingSystem};
use crate::clock::{self, Clock, Timestamp};
use crate::i18n::Lang;
use crate::mail::{Mailer, OutgoingMail};
use crate::messages as msg;
use crate::metrics;
use crate::model::{BookingConfig, CheckSummary, Membership};
use crate::secret::ApiKey;
use crate::store::StoreError;
use crate::vendors::{CheckOutcome, CheckReport, VendorCheck};

#[cfg(feature = "dynamodb")]
pub mod dynamo;
pub mod memory;

/// A location with a saved booking configuration, as the index returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedConfig {
    pub company_id: String,
    pub location_id: String,
    pub location_name: String,
    pub booking: BookingConfig,
}

/// How far a run has come. `cursor` is the last location (`<company>#<location>`) whose check
/// is finished; every location before it is finished too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunState {
    pub run_id: String,
    pub lease_id: String,
    pub cursor: Option<String>,
    pub done: bool,
    pub checked: u64,
    pub invocations: u64,
}

/// One entry of the index of saved configurations, in index order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Config(Box<SavedConfig>),
    /// An item in the index that does not read as a location with a configuration.
    Unreadable {
        /// Its index key (`<company>#<location>`), where a run continues after it.
        index_key: String,
        /// Its table key, for the log.
        item_key: String,
        error: String,
    },
}

/// A page of the index: its entries, and where the next page starts (`None`: this was the
/// last).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexPage {
    pub entries: Vec<Entry>,
    pub next_after: Option<String>,
}

#[async_trait]
pub trait RevalidationStore: Send + Sync {
    /// Saved configurations in index order, after the location `after` (`<company>#<location>`).
    async fn saved_configs(&self, after: Option<&str>, limit: u32)
    -> Result<IndexPage, StoreError>;

    /// Records a check on the location if its configuration is still `config_id`; false when
    /// a save replaced it meanwhile (the save's own check is newer).
    async fn record_check(
        &self,
        config: &SavedConfig,
        check: &CheckSummary,
        health: &str,
        notice_pending: Option<&str>,
    ) -> Result<bool, StoreError>;

    /// Forgets a notice once it is mailed, if the configuration is still the same.
    async fn clear_notice(&self, config: &SavedConfig) -> Result<(), StoreError>;

    async fn administrators(&self, company_id: &str) -> Result<Vec<Membership>, StoreError>;

    /// Takes the run's lease until `lease_until`, creating the run if needed. `None` when
    /// another invocation holds an unexpired lease.
    async fn acquire_run(
        &self,
        run_id: &str,
        lease_id: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<RunState>, StoreError>;

    /// Stores progress (and gives the lease back when `release`), if the lease is still ours.
    async fn save_run(
        &self,
        state: &RunState,
        release: bool,
        now: Timestamp,
    ) -> Result<(), StoreError>;
}

/// How much work one invocation may take on.
pub trait Budget: Send + Sync {
    /// Whether a check started now ends, and its result is saved, before the invocation does.
    fn may_start_check(&self) -> bool;
    /// Until when the invocation may hold the run's lease, given the run's clock reads `now`.
    fn lease_until(&self, now: Timestamp) -> Timestamp;
}

/// The Lambda invocation's deadline, and the longest one check can take: the vendor
/// deadline, reading the key and writing the result, with a margin for saving progress.
pub struct Deadline {
    pub clock: Arc<dyn Clock>,
    pub deadline: Timestamp,
    pub slowest_check: i64,
}

impl Budget for Deadline {
    fn may_start_check(&self) -> bool {
        self.clock.now() + self.slowest_check < self.deadline
    }

    fn lease_until(&self, _now: Timestamp) -> Timestamp {
        // The lease ends with the invocation: a run whose invocation died is free for the next.
        self.deadline
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    /// Checks in flight at once.
    pub concurrency: usize,
    /// Checks in flight at once against one vendor.
    pub per_vendor: usize,
    pub page_size: u32,
    pub secret_prefix: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            concurrency: 16,
            per_vendor: 8,
            page_size: 128,
            secret_prefix: crate::booking::DEFAULT_SECRET_PREFIX.to_string(),
        }
    }
}

impl Settings {
    /// `REVALIDATE_CONCURRENCY`, `REVALIDATE_PER_VENDOR`, `REVALIDATE_PAGE_SIZE`,
    /// `SECRET_NAME_PREFIX`.
    pub fn from_env() -> Result<Self, String> {
        let number = |name: &str, default: usize| -> Result<usize, String> {
            match std::env::var(name) {
                Err(_) => Ok(default),
                Ok(v) => v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| format!("{name} must be a positive whole number")),
            }
        };
        let defaults = Settings::default();
        Ok(Settings {
            concurrency: number("REVALIDATE_CONCURRENCY", defaults.concurrency)?,
            per_vendor: number("REVALIDATE_PER_VENDOR", defaults.per_vendor)?,
            page_size: number("REVALIDATE_PAGE_SIZE", defaults.page_size as usize)?.min(1_000)
                as u32,
            secret_prefix: std::env::var("SECRET_NAME_PREFIX").unwrap_or(defaults.secret_prefix),
        })
    }
}

pub struct RevalidateDeps {
    pub store: Arc<dyn RevalidationStore>,
    pub secrets: Arc<dyn SecretStore>,
    pub vendors: Arc<dyn VendorCheck>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunSummary {
    pub run_id: String,
    /// False when another invocation held the run.
    pub ran: bool,
    pub done: bool,
    pub checked_now: u64,
    pub checked_in_run: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub unavailable: u64,
    pub skipped: u64,
    /// Items in the index that could not be read (logged by key) and were passed over.
    pub unreadable: u64,
    /// Connections that went from working to failing, and back.
    pub broken: u64,
    pub recovered: u64,
    pub notices_sent: u64,
}

/// The run's id: the date in Oslo, so each night is one run.
pub fn run_id_for(now: Timestamp) -> String {
    let (y, m, d, ..) = clock::civil(now + clock::oslo_offset(now));
    format!("{y:04}-{m:02}-{d:02}")
}

pub async fn run(
    deps: Arc<RevalidateDeps>,
    run_id: &str,
    budget: &dyn Budget,
) -> Result<RunSummary, StoreError> {
    let now = deps.clock.now();
    let lease_id = uuid::Uuid::new_v4().to_string();
    let mut summary = RunSummary {
        run_id: run_id.to_string(),
        ..RunSummary::default()
    };
    let Some(mut state) = deps
        .store
        .acquire_run(run_id, &lease_id, now, budget.lease_until(now))
        .await?
    else {
        tracing::info!(run_id, "another invocation is working on this run");
        return Ok(summary);
    };
    summary.ran = true;
    let started = std::time::Instant::now();
    let was_done = state.done;
    state.invocations += 1;
    let limits = Limits::new(&deps.settings);
    while !state.done && budget.may_start_check() {
        let page = deps
            .store
            .saved_configs(state.cursor.as_deref(), deps.settings.page_size)
            .await?;
        let (tally, cut) = check_page(&deps, &limits, budget, page.entries).await;
        summary.add(&tally);
        state.checked += tally.checked_now;
        match (&cut, page.next_after) {
            // Cut inside the page: continue after the last entry taken.
            (Some(Some(last_taken)), _) => state.cursor = Some(last_taken.clone()),
            (Some(None), _) => {}
            (None, Some(next)) => state.cursor = Some(next),
            (None, None) => state.done = true,
        }
        deps.store.save_run(&state, false, deps.clock.now()).await?;
        if cut.is_some() {
            break;
        }
    }
    deps.store.save_run(&state, true, deps.clock.now()).await?;
    summary.done = state.done;
    summary.checked_in_run = state.checked;
    metrics::revalidation_invocation(&summary, started.elapsed());
    // The nightly alarm waits for tonight's run; a run started by hand under another name
    // completing must not stand in for it.
    if state.done && !was_done && run_id == run_id_for(deps.clock.now()) {
        metrics::revalidation_run_completed(state.checked);
    }
    tracing::info!(?summary, "revalidation invocation finished");
    Ok(summary)
}

impl RunSummary {
    fn add(&mut self, other: &RunSummary) {
        self.checked_now += other.checked_now;
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        self.unavailable += other.unavailable;
        self.skipped += other.skipped;
        self.unreadable += other.unreadable;
        self.broken += other.broken;
        self.recovered += other.recovered;
        self.notices_sent += other.notices_sent;
    }
}

struct Limits {
    all: Arc<Semaphore>,
    by_vendor: HashMap<&'static str, Arc<Semaphore>>,
}

impl Limits {
    fn new(settings: &Settings) -> Self {
        Limits {
            all: Arc::new(Semaphore::new(settings.concurrency)),
            by_vendor: catalog::systems()
                .iter()
                .map(|s| (s.id, Arc::new(Semaphore::new(settings.per_vendor))))
                .collect(),
        }
    }
}

/// Checks one page with bounded concurrency, in index order, and waits for every check it
/// started, so the cursor stored after it never passes a location that was not checked. Stops
/// taking checks when the budget says a check would not end in time: then `Some` of the index
/// key of the last entry it took (`Some(None)`: none); `None` when it took the whole page.
async fn check_page(
    deps: &Arc<RevalidateDeps>,
    limits: &Limits,
    budget: &dyn Budget,
    entries: Vec<Entry>,
) -> (RunSummary, Option<Option<String>>) {
    let mut tasks = JoinSet::new();
    let mut tally = RunSummary::default();
    let mut last_taken: Option<String> = None;
    let mut cut = false;
    for entry in entries {
        let config = match entry {
            Entry::Unreadable {
                index_key,
                item_key,
                error,
            } => {
                tracing::error!(item = %item_key, %error, "unreadable item in the index of saved configurations; skipped");
                tally.unreadable += 1;
                last_taken = Some(index_key);
                continue;
            }
            Entry::Config(config) => *config,
        };
        let index_key = format!("{}#{}", config.company_id, config.location_id);
        let Some(system) = catalog::system(&config.booking.system) else {
            tracing::warn!(location_id = %config.location_id, "saved configuration names an unknown system");
            tally.skipped += 1;
            last_taken = Some(index_key);
            continue;
        };
        let vendor = limits.by_vendor[system.id].clone();
        // Taking the vendor's place first keeps a busy vendor from holding overall places
        // that other vendors' checks could use.
        let Ok(vendor_permit) = vendor.acquire_owned().await else {
            continue;
        };
        let Ok(permit) = limits.all.clone().acquire_owned().await else {
            continue;
        };
        // Waiting for a place takes time: ask only once one is free.
        if !budget.may_start_check() {
            cut = true;
            break;
        }
        last_taken = Some(index_key);
        let deps = deps.clone();
        tasks.spawn(async move {
            let _permits = (vendor_permit, permit);
            revalidate_one(&deps, system, config).await
        });
    }
    while let Some(result) = tasks.join_next().await {
        match result {
            Ok(one) => tally.add(&one),
            Err(e) => tracing::error!(error = %e, "a revalidation task failed"),
        }
    }
    (tally, cut.then_some(last_taken))
}

async fn revalidate_one(
    deps: &RevalidateDeps,
    system: &'static BookingSystem,
    config: SavedConfig,
) -> RunSummary {
    let mut tally = RunSummary::default();
    let booking = &config.booking;
    let key = match (booking.key_stored, booking.secret_version_id.as_deref()) {
        (true, Some(version)) => {
            let name = format!(
                "{}{}/{}",
                deps.settings.secret_prefix, config.company_id, config.location_id
            );
            match deps.secrets.get(&name, version).await {
                Ok(key) => Some(key),
                Err(e) => {
                    tracing::error!(location_id = %config.location_id, error = %e, "stored key unreadable");
                    tally.skipped += 1;
                    return tally;
                }
            }
        }
        _ => None,
    };
    let details = details_of(booking, key);
    let started = std::time::Instant::now();
    let report = deps.vendors.check(system, &details).await;
    metrics::connection_check(system, &report, started.elapsed());
    tally.checked_now = 1;
    let previous = booking.health.as_deref().unwrap_or("ok");
    let (status, health) = match report.outcome() {
        CheckOutcome::Success => {
            tally.succeeded = 1;
            ("success", "ok")
        }
        CheckOutcome::Rejected | CheckOutcome::InputRefused | CheckOutcome::SetupIncomplete => {
            tally.failed = 1;
            ("failure", "failing")
        }
        CheckOutcome::Unavailable => {
            tally.unavailable = 1;
            ("unavailable", previous)
        }
    };
    let notice = if health != previous {
        Some(if health == "failing" {
            "broken"
        } else {
            "recovered"
        })
    } else {
        booking.notice_pending.as_deref()
    };
    let check = CheckSummary {
        status: status.into(),
        checked_at: deps.clock.now(),
        source: "revalidation".into(),
        failed_code: report
            .failed_step()
            .and_then(|s| serde_json::to_value(s.code).ok())
            .and_then(|v| v.as_str().map(str::to_string)),
        steps: step_codes(&report),
    };
    match deps
        .store
        .record_check(&config, &check, health, notice)
        .await
    {
        Ok(true) if health != previous => {
            if health == "failing" {
                tally.broken = 1;
            } else {
                tally.recovered = 1;
            }
        }
        Ok(true) => {}
        Ok(false) => {
            tracing::info!(location_id = %config.location_id, "configuration saved meanwhile; result not recorded");
            return tally;
        }
        Err(e) => {
            tracing::error!(location_id = %config.location_id, error = %e, "could not record the check");
            return tally;
        }
    }
    if let Some(kind) = notice {
        match notify(deps, system, &config, kind, &report).await {
            Ok(sent) => {
                tally.notices_sent = u64::from(sent);
                if let Err(e) = deps.store.clear_notice(&config).await {
                    tracing::warn!(error = %e, "notice sent but not cleared; it may be sent again");
                }
            }
            Err(e) => {
                tracing::warn!(location_id = %config.location_id, error = %e, "notice not sent; the next run retries")
            }
        }
    }
    tally
}

fn details_of(booking: &BookingConfig, key: Option<ApiKey>) -> BookingDetails {
    BookingDetails {
        external_id: booking.external_id.clone(),
        external_department_id: booking.external_department_id.clone(),
        api_key: key,
        booking_url: booking.booking_url.clone(),
    }
}

/// Mails each of the company's administrators separately, at the address stored on their
/// membership (invited and verified), so no administrator sees another's address. False when
/// there was nobody to tell. An error only when no mail could be sent: the next run retries
/// then, and a partial send is not repeated to those who got it.
async fn notify(
    deps: &RevalidateDeps,
    system: &BookingSystem,
    config: &SavedConfig,
    kind: &str,
    report: &CheckReport,
) -> Result<bool, String> {
    let admins = deps
        .store
        .administrators(&config.company_id)
        .await
        .map_err(|e| e.to_string())?;
    let mut recipients: Vec<String> = admins.into_iter().filter_map(|a| a.email).collect();
    recipients.sort();
    recipients.dedup();
    if recipients.is_empty() {
        tracing::warn!(company_id = %config.company_id, "no administrator with an e-mail address to notify");
        return Ok(false);
    }
    let (subject, text) = if kind == "broken" {
        let step = report
            .failed_step()
            .map(|s| s.message(system, Lang::Nb))
            .unwrap_or_default();
        msg::connection_broken_mail(&config.location_name, system.name, &step)
    } else {
        msg::connection_recovered_mail(&config.location_name, system.name)
    };
    let mut sent = 0usize;
    let mut last_error = None;
    for to in recipients {
        let mail = OutgoingMail {
            to: vec![to],
            cc: Vec::new(),
            reply_to: Vec::new(),
            subject: subject.clone(),
            text: text.clone(),
        };
        match deps.mailer.send(&mail).await {
            Ok(_) => sent += 1,
            Err(e) => {
                tracing::warn!(company_id = %config.company_id, error = %e, "notice to one administrator not sent");
                last_error = Some(e.to_string());
            }
        }
    }
    match (sent, last_error) {
        (0, Some(error)) => Err(error),
        _ => Ok(true),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::memory::MemoryRevalidation;
    use super::*;
    use crate::booking::secrets::memory::MemorySecrets;
    use crate::catalog::FieldId;
    use crate::clock::ManualClock;
    use crate::mail::RecordingMailer;
    use crate::vendors::{CheckCode, CheckStep, StepId, StepStatus};

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

    /// Says yes a fixed number of times: once before each page and once before each check.
    struct Checks(AtomicU32);

    impl Budget for Checks {
        fn may_start_check(&self) -> bool {
            self.0
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        }

        fn lease_until(&self, now: Timestamp) -> Timestamp {
            now + 900
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
                health: Some("ok".into()),
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
        store.add_admin(Membership {
            user_sub: "ola".into(),
            company_id: "c".into(),
            email: Some("ola@fysio.no".into()),
            name: None,
            created_at: 0,
            invited_by: None,
        });
        let vendor = Arc::new(Scripted::default());
        let mailer = Arc::new(RecordingMailer::new());
        let deps = Arc::new(RevalidateDeps {
            store: store.clone(),
            secrets: Arc::new(MemorySecrets::default()),
            vendors: vendor.clone(),
            mailer: mailer.clone(),
            clock: clock.clone(),
            settings: Settings {
                concurrency,
                per_vendor,
                page_size,
                secret_prefix: String::new(),
            },
        });
        (deps, store, vendor, mailer, clock)
    }

    fn all() -> Checks {
        Checks(AtomicU32::new(u32::MAX))
    }

    #[tokio::test]
    async fn a_broken_connection_is_told_once_and_its_recovery_once() {
        let (deps, store, vendor, mailer) = setup(2, 10);
        vendor
            .answers
            .lock()
            .unwrap()
            .insert("clinic-1".into(), CheckCode::ApiKeyRejected);
        for night in ["n1", "n2"] {
            run(deps.clone(), night, &all()).await.unwrap();
        }
        assert_eq!(mailer.sent().len(), 1);
        assert!(
            mailer.sent()[0]
                .subject
                .contains("Lokasjon 1 virker ikke lenger")
        );
        // An outage says nothing either way.
        vendor
            .answers
            .lock()
            .unwrap()
            .insert("clinic-1".into(), CheckCode::VendorError);
        run(deps.clone(), "n3", &all()).await.unwrap();
        assert_eq!(
            store.config("c", "l001").unwrap().booking.health.as_deref(),
            Some("failing")
        );
        vendor.answers.lock().unwrap().remove("clinic-1");
        for night in ["n4", "n5"] {
            run(deps.clone(), night, &all()).await.unwrap();
        }
        let subjects: Vec<String> = mailer.sent().into_iter().map(|m| m.subject).collect();
        assert_eq!(subjects.len(), 2, "{subjects:?}");
        assert!(subjects[1].contains("Lokasjon 1 virker igjen"));
    }

    #[tokio::test]
    async fn each_administrator_gets_their_own_notice_at_their_stored_address() {
        let (deps, store, vendor, mailer) = setup(2, 10);
        store.add_admin(Membership {
            user_sub: "kari".into(),
            company_id: "c".into(),
            email: Some("kari@fysio.no".into()),
            name: None,
            created_at: 0,
            invited_by: Some("ola@fysio.no".into()),
        });
        store.add_admin(Membership {
            user_sub: "legacy".into(),
            company_id: "c".into(),
            email: None,
            name: None,
            created_at: 0,
            invited_by: None,
        });
        vendor
            .answers
            .lock()
            .unwrap()
            .insert("clinic-1".into(), CheckCode::ApiKeyRejected);
        run(deps.clone(), "n1", &all()).await.unwrap();
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
        vendor
            .answers
            .lock()
            .unwrap()
            .insert("clinic-0".into(), CheckCode::ClinicNotFound);
        mailer.fail_with(Some(crate::mail::MailError::Throttled));
        run(deps.clone(), "n1", &all()).await.unwrap();
        assert_eq!(
            store
                .config("c", "l000")
                .unwrap()
                .booking
                .notice_pending
                .as_deref(),
            Some("broken")
        );
        mailer.fail_with(None);
        run(deps.clone(), "n2", &all()).await.unwrap();
        run(deps.clone(), "n3", &all()).await.unwrap();
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
        vendor
            .answers
            .lock()
            .unwrap()
            .insert("clinic-1".into(), CheckCode::ApiKeyRejected);
        vendor
            .answers
            .lock()
            .unwrap()
            .insert("clinic-2".into(), CheckCode::VendorError);
        let recording = metrics::record();
        // One page of two: once before the page, once per check.
        run(deps.clone(), &tonight, &Checks(AtomicU32::new(3)))
            .await
            .unwrap();
        assert_eq!(recording.total(&metrics::REVALIDATION_CHECKED), 2.0);
        assert_eq!(recording.total(&metrics::REVALIDATION_BROKEN), 1.0);
        assert_eq!(recording.total(&metrics::REVALIDATION_RUNS_COMPLETED), 0.0);
        run(deps.clone(), &tonight, &all()).await.unwrap();
        // The night is done: later invocations hold the run but complete nothing again.
        run(deps.clone(), &tonight, &all()).await.unwrap();
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
        run(deps.clone(), "rerun-1", &all()).await.unwrap();
        assert_eq!(recording.total(&metrics::REVALIDATION_RECOVERED), 1.0);
        assert_eq!(recording.total(&metrics::REVALIDATION_CHECKED), 10.0);
        assert_eq!(recording.count(&metrics::REVALIDATION_RUNS_COMPLETED), 1);
    }

    #[tokio::test]
    async fn runs_resume_after_the_last_finished_page() {
        let (deps, _store, vendor, _mailer) = setup(7, 2);
        // Two pages of two: once before each page, once per check.
        let first = run(deps.clone(), "n1", &Checks(AtomicU32::new(6)))
            .await
            .unwrap();
        assert_eq!((first.done, first.checked_now), (false, 4));
        let second = run(deps.clone(), "n1", &all()).await.unwrap();
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
        let first = run(deps.clone(), "n1", &all()).await.unwrap();
        assert!(first.done);
        assert_eq!((first.checked_now, first.unreadable), (6, 1));
        assert_eq!(vendor.calls.load(Ordering::SeqCst), 6);
        // The next night meets it again, and again goes past it.
        let second = run(deps.clone(), "n2", &all()).await.unwrap();
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
            vendor
                .answers
                .lock()
                .unwrap()
                .insert(format!("clinic-{n}"), CheckCode::VendorError);
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
        let first = run(
            deps.clone(),
            "n1",
            &Deadline {
                clock: clock.clone(),
                deadline: 20,
                slowest_check: 5,
            },
        )
        .await
        .unwrap();
        // Checks start at 0, 3, 6, 9 and 12 s; at 15 s only 5 are left: cut inside page two.
        assert_eq!((first.done, first.checked_now), (false, 5));
        clock.set(20);
        let second = run(
            deps.clone(),
            "n1",
            &Deadline {
                clock: clock.clone(),
                deadline: 1_000,
                slowest_check: 5,
            },
        )
        .await
        .unwrap();
        assert_eq!((second.done, second.checked_now), (true, 5));
        let by_clinic = vendor.by_clinic.lock().unwrap().clone();
        assert_eq!(by_clinic.len(), 10, "{by_clinic:?}");
        assert!(by_clinic.values().all(|n| *n == 1), "{by_clinic:?}");
    }
}
