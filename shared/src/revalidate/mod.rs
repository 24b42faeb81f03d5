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
//!
//! `mod.rs` is the run: its store, its budget and settings, and the loop over pages;
//! `check.rs` checks a page and records each location's result; `notice.rs` tells the
//! administrators. The store's DynamoDB and in-memory implementations are `dynamo.rs` and
//! `memory.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;

use crate::booking::key_store::LocationKeys;
use crate::clock::{self, Clock, Timestamp};
use crate::mail::Mailer;
use crate::metrics;
use crate::model::{BookingConfig, CheckSummary, Health, Membership, Notice};
use crate::store::{Result, StoreError};
use crate::vendors::VendorCheck;
use check::{Limits, check_page};

mod check;
#[cfg(feature = "dynamodb")]
pub mod dynamo;
pub mod memory;
mod notice;
#[cfg(test)]
mod tests;

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

/// What a check leaves on a saved configuration: its summary, the connection's health, and
/// the notice still to mail (`None`: nothing to tell).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckRecord {
    pub last_check: CheckSummary,
    pub health: Health,
    pub notice_pending: Option<Notice>,
}

/// A run's lease as an invocation asks for it: which run, the invocation's lease id, and until
/// when the invocation may hold it.
#[derive(Clone, Copy, Debug)]
pub struct RunLease<'a> {
    pub run_id: &'a str,
    pub lease_id: &'a str,
    pub until: Timestamp,
}

#[async_trait]
pub trait RevalidationStore: Send + Sync {
    /// Saved configurations in index order, after the location `after` (`<company>#<location>`).
    async fn saved_configs(&self, after: Option<&str>, limit: u32) -> Result<IndexPage>;

    /// Records a check on the location if its configuration is still `config_id`; false when
    /// a save replaced it meanwhile (the save's own check is newer).
    async fn record_check(&self, config: &SavedConfig, record: &CheckRecord) -> Result<bool>;

    /// Forgets a notice once it is mailed, if the configuration is still the same.
    async fn clear_notice(&self, config: &SavedConfig) -> Result<()>;

    async fn administrators(&self, company_id: &str) -> Result<Vec<Membership>>;

    /// Takes the run's lease until `lease.until`, creating the run if needed. `None` when
    /// another invocation holds a lease unexpired at `now`.
    async fn acquire_run(&self, lease: RunLease<'_>, now: Timestamp) -> Result<Option<RunState>>;

    /// Stores progress (and gives the lease back when `release`), if the lease is still ours.
    async fn save_run(&self, state: &RunState, release: bool, now: Timestamp) -> Result<()>;
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

/// A fixed number of yeses: one before each page and one before each check, with a lease of
/// 15 minutes. A run cut at a place known in advance, whatever the clock says.
pub struct Allowance(AtomicU32);

impl Allowance {
    pub fn new(yeses: u32) -> Self {
        Allowance(AtomicU32::new(yeses))
    }

    pub fn unlimited() -> Self {
        Allowance::new(u32::MAX)
    }
}

impl Budget for Allowance {
    fn may_start_check(&self) -> bool {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    fn lease_until(&self, now: Timestamp) -> Timestamp {
        now + 900
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    /// Checks in flight at once.
    pub concurrency: usize,
    /// Checks in flight at once against one vendor.
    pub per_vendor: usize,
    pub page_size: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            concurrency: 16,
            per_vendor: 8,
            page_size: 128,
        }
    }
}

impl Settings {
    /// `REVALIDATE_CONCURRENCY`, `REVALIDATE_PER_VENDOR`, `REVALIDATE_PAGE_SIZE`.
    pub fn from_env() -> Result<Self, String> {
        let number = |name: &str, default: usize| -> Result<usize, String> {
            Ok(crate::runtime::limit_env(name, default as u32)? as usize)
        };
        let defaults = Settings::default();
        Ok(Settings {
            concurrency: number("REVALIDATE_CONCURRENCY", defaults.concurrency)?,
            per_vendor: number("REVALIDATE_PER_VENDOR", defaults.per_vendor)?,
            page_size: number("REVALIDATE_PAGE_SIZE", defaults.page_size as usize)?.min(1_000)
                as u32,
        })
    }
}

pub struct RevalidateDeps {
    pub store: Arc<dyn RevalidationStore>,
    pub keys: LocationKeys,
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
        .acquire_run(
            RunLease {
                run_id,
                lease_id: &lease_id,
                until: budget.lease_until(now),
            },
            now,
        )
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
