//! One page of the run: its checks, bounded overall and per vendor, and for each location the
//! check with its stored key, the result recorded and the notice decided.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::notice::notify;
use super::{Budget, CheckRecord, Entry, RevalidateDeps, RunSummary, SavedConfig, Settings};
use crate::api_key::ApiKey;
use crate::booking::step_codes;
use crate::catalog::{self, BookingDetails, BookingSystem};
use crate::metrics;
use crate::model::{BookingConfig, CheckSource, CheckStatus, CheckSummary, Health, Notice};
use crate::vendors::CheckOutcome;

pub(super) struct Limits {
    all: Arc<Semaphore>,
    by_vendor: HashMap<&'static str, Arc<Semaphore>>,
}

impl Limits {
    pub(super) fn new(settings: &Settings) -> Self {
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
pub(super) async fn check_page(
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
            let stored = deps
                .keys
                .stored(&config.company_id, &config.location_id, version);
            match stored.await {
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
    let previous = booking.health.unwrap_or(Health::Ok);
    let (status, health) = match report.outcome() {
        CheckOutcome::Success => {
            tally.succeeded = 1;
            (CheckStatus::Success, Health::Ok)
        }
        CheckOutcome::Rejected | CheckOutcome::InputRefused | CheckOutcome::SetupIncomplete => {
            tally.failed = 1;
            (CheckStatus::Failure, Health::Failing)
        }
        CheckOutcome::Unavailable => {
            tally.unavailable = 1;
            (CheckStatus::Unavailable, previous)
        }
    };
    let notice = if health != previous {
        Some(match health {
            Health::Failing => Notice::Broken,
            Health::Ok => Notice::Recovered,
        })
    } else {
        booking.notice_pending
    };
    let check = CheckSummary {
        status,
        checked_at: deps.clock.now(),
        source: CheckSource::Revalidation,
        failed_code: report
            .failed_step()
            .and_then(|s| serde_json::to_value(s.code).ok())
            .and_then(|v| v.as_str().map(str::to_string)),
        steps: step_codes(&report),
    };
    let record = CheckRecord {
        last_check: check,
        health,
        notice_pending: notice,
    };
    match deps.store.record_check(&config, &record).await {
        Ok(true) if health != previous => match health {
            Health::Failing => tally.broken = 1,
            Health::Ok => tally.recovered = 1,
        },
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
