//! "Test kobling" and "Test og lagre": checking a location's booking-system details against
//! the vendor, and saving only what passed — with the key in Secrets Manager, the rest on the
//! location item, and a lockout on repeated failed checks.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::catalog::{self, BookingDetails, BookingSystem, FieldId};
use crate::clock::{self, Clock, Timestamp};
use crate::domain::authorize;
use crate::i18n::Lang;
use crate::identity::Caller;
use crate::messages as msg;
use crate::metrics;
use crate::model::{BookingConfig, CheckSource, CheckStatus, CheckSummary, Health, Location};
use crate::problem::{FieldError, Localized, Problem};
use crate::secret::ApiKey;
use crate::store::Store;
use crate::validate::{self, ObjectReader};
use crate::vendors::{CheckOutcome, CheckReport, VendorCheck};

pub mod api;
pub mod attempts;
pub mod secrets;

use attempts::{Admitted, Attempt, AttemptStore, LockScope, Refusal, Settlement};
use secrets::{SecretError, SecretStore};

pub const DEFAULT_SECRET_PREFIX: &str = "bookinglink/booking/";

/// Everything the two booking functions need, built once per cold start.
pub struct BookingDeps {
    pub store: Arc<dyn Store>,
    pub attempts: Arc<dyn AttemptStore>,
    pub secrets: Arc<dyn SecretStore>,
    pub vendors: Arc<dyn VendorCheck>,
    pub clock: Arc<dyn Clock>,
    pub secret_prefix: String,
}

impl BookingDeps {
    pub fn secret_name(&self, company_id: &str, location_id: &str) -> String {
        format!("{}{company_id}/{location_id}", self.secret_prefix)
    }
}

/// The details an administrator entered in the form.
#[derive(Debug)]
pub struct BookingInput {
    pub system: &'static BookingSystem,
    pub details: BookingDetails,
    /// `None` keeps the location's current setting.
    pub offline: Option<bool>,
    pub version: Option<u64>,
}

const TEXT_LIMIT: validate::TextRule = validate::TextRule { max_chars: 2_048 };

impl BookingInput {
    /// Reads and validates the body against the catalog; nothing here contacts a vendor.
    /// `with_version`: the save route also takes the location's `version`.
    pub fn from_json(
        body: &Map<String, Value>,
        with_version: bool,
        if_match: Option<u64>,
    ) -> Result<Self, Problem> {
        let mut allowed = vec![
            "system",
            "external_id",
            "external_department_id",
            "api_key",
            "booking_url",
            "offline",
        ];
        if with_version {
            allowed.push("version");
        }
        let mut r = ObjectReader::new(body, &allowed)?;
        let system_id = r.text("system", true, validate::SHORT_CODE);
        // Catalog checks give the field-specific limits; these only bound what is read.
        let mut optional = |field: &str| match body.get(field) {
            Some(Value::String(s)) if s.trim().is_empty() => None,
            _ => r.text(field, false, TEXT_LIMIT),
        };
        let details = BookingDetails {
            external_id: optional("external_id"),
            external_department_id: optional("external_department_id"),
            api_key: optional("api_key").map(ApiKey::new),
            booking_url: optional("booking_url"),
        };
        let offline = r.boolean("offline", false);
        let version = if with_version {
            r.version("version")
        } else {
            None
        };
        let mut errors = std::mem::take(&mut r.errors);
        let system = match system_id.as_deref() {
            Some(id) => match catalog::system(id) {
                Some(system) => Some(system),
                None => {
                    errors.push(FieldError::new(
                        "system",
                        "unknown_system",
                        msg::UNKNOWN_SYSTEM,
                    ));
                    None
                }
            },
            None => None,
        };
        if let Some(system) = system {
            // A stored key may stand in for a missing one; whether it may is decided once the
            // location is loaded.
            errors.extend(
                catalog::validate(system, &details, true)
                    .into_iter()
                    .map(|issue| {
                        FieldError::new(
                            issue.field.name(),
                            issue.code,
                            Localized::new(issue.message.nb, issue.message.en),
                        )
                    }),
            );
        }
        if !errors.is_empty() {
            return Err(Problem::validation(errors));
        }
        let version = match (version, if_match) {
            (Some(a), Some(b)) if a != b => {
                return Err(Problem::validation(vec![FieldError::new(
                    "version",
                    "version_mismatch",
                    msg::VERSION_MISMATCH,
                )]));
            }
            (v, m) => v.or(m),
        };
        if with_version && version.is_none() {
            return Err(Problem::version_required());
        }
        Ok(BookingInput {
            system: system.expect("validated above"),
            details: details.trimmed(),
            offline,
            version,
        })
    }
}

/// Where a key would be sent: the system's API, or for systems whose address the
/// administrator types, that address's host. A stored key is reused only for the same target.
fn key_target(system_id: &str, booking_url: Option<&str>) -> String {
    let host = booking_url
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    match (catalog::system(system_id), host) {
        (Some(system), Some(host)) if system.uses(FieldId::BookingUrl) => {
            format!("{system_id}@{host}")
        }
        _ => system_id.to_string(),
    }
}

/// The key for the check: the one entered, or the stored one if the system and the host it
/// would go to are unchanged — so a stored key is never sent anywhere new.
async fn resolve_key(
    deps: &BookingDeps,
    location: &Location,
    input: &BookingInput,
) -> Result<Option<(ApiKey, bool)>, Problem> {
    if !input.system.uses(FieldId::ApiKey) {
        return Ok(None);
    }
    if let Some(key) = &input.details.api_key {
        return Ok(Some((key.clone(), true)));
    }
    let reusable = location.booking.as_ref().filter(|b| {
        b.key_stored
            && b.system == input.system.id
            && key_target(&b.system, b.booking_url.as_deref())
                == key_target(input.system.id, input.details.booking_url.as_deref())
    });
    let Some(stored) = reusable.and_then(|b| b.secret_version_id.as_deref()) else {
        let message = if location.booking.as_ref().is_some_and(|b| b.key_stored) {
            msg::STORED_KEY_NOT_REUSABLE
        } else {
            msg::API_KEY_REQUIRED
        };
        return Err(Problem::validation(vec![FieldError::new(
            "api_key", "required", message,
        )]));
    };
    let name = deps.secret_name(&location.company_id, &location.id);
    let key = deps
        .secrets
        .get(&name, stored)
        .await
        .map_err(secret_problem)?;
    Ok(Some((key, false)))
}

fn secret_problem(err: SecretError) -> Problem {
    match err {
        SecretError::Throttled => Problem::service_unavailable(),
        other => {
            tracing::error!(error = %other, "secrets failure");
            Problem::internal()
        }
    }
}

/// Which failures count is decided by the report (`vendors::report::outcome_of`).
fn settlement(report: &CheckReport) -> Settlement {
    match report.outcome() {
        CheckOutcome::Success => Settlement::Success,
        _ if report.counts_toward_lockout() => Settlement::CountedFailure,
        _ => Settlement::NotCounted,
    }
}

fn refusal_problem(refusal: &Refusal, now: Timestamp) -> Problem {
    let wait = (refusal.retry_at - now).max(1);
    let (oslo, utc) = (
        clock::oslo_hhmm(refusal.retry_at),
        clock::rfc3339(refusal.retry_at),
    );
    let (code, detail) = if refusal.locked {
        let detail = match refusal.scope {
            LockScope::Administrator => msg::too_many_attempts(&oslo, &utc),
            LockScope::Location => msg::location_locked(&oslo, &utc),
        };
        ("too_many_attempts", detail)
    } else {
        (
            "checks_in_progress",
            Localized::from(msg::CHECKS_IN_PROGRESS),
        )
    };
    let problem = Problem::new(429, code, msg::TOO_MANY_ATTEMPTS, detail)
        .with_header("retry-after", wait.to_string())
        .with_extension("retry_at", json!(clock::rfc3339(refusal.retry_at)))
        .with_extension("attempts_remaining", json!(0));
    if refusal.locked {
        problem.with_extension("lock_scope", json!(refusal.scope))
    } else {
        problem
    }
}

/// Runs the vendor check inside the lockout reservation taken by [`load_and_reserve`], then
/// settles it. Returns the report and the attempts left after it.
async fn guarded_check(
    deps: &BookingDeps,
    input: &BookingInput,
    key: Option<ApiKey>,
    admitted: Admitted,
) -> Result<(CheckReport, u32), Problem> {
    let report = vendor_check(deps, input, key).await;
    let remaining = settle_check(deps, input, &admitted, &report).await?;
    Ok((report, remaining))
}

/// The vendor check itself; call it only while holding a reservation, and settle it after.
async fn vendor_check(
    deps: &BookingDeps,
    input: &BookingInput,
    key: Option<ApiKey>,
) -> CheckReport {
    let mut details = input.details.clone();
    details.api_key = key;
    let started = std::time::Instant::now();
    let report = deps.vendors.check(input.system, &details).await;
    metrics::connection_check(input.system, &report, started.elapsed());
    report
}

/// Settles the reservation a check ran under; returns the attempts left.
async fn settle_check(
    deps: &BookingDeps,
    input: &BookingInput,
    admitted: &Admitted,
    report: &CheckReport,
) -> Result<u32, Problem> {
    let settled = settlement(report);
    let remaining =
        attempts::settle(deps.attempts.as_ref(), admitted, settled, deps.clock.now()).await?;
    if settled == Settlement::CountedFailure && remaining == 0 {
        metrics::lockout_started();
    }
    tracing::info!(
        system = input.system.id,
        outcome = ?report.outcome(),
        failed_code = ?report.failed_step().map(|s| s.code),
        attempts_remaining = remaining,
        "connection check"
    );
    Ok(remaining)
}

/// Loads the location for a caller who administers its company (404 otherwise).
async fn load(
    deps: &BookingDeps,
    caller: &Caller,
    company_id: &str,
    location_id: &str,
) -> Result<Location, Problem> {
    let store = deps.store.as_ref();
    let (membership, location) = tokio::join!(
        authorize(store, caller, company_id),
        store.location(company_id, location_id)
    );
    membership?;
    location?.ok_or_else(Problem::not_found)
}

/// The caller's place in the lockout (a reservation, or why there is none) for one check.
type Admission = Result<Admitted, Refusal>;

/// What a check is aimed at, for the lockout: where the key goes and which clinic it opens.
fn attempt_target(input: &BookingInput) -> String {
    format!(
        "{}#{}",
        key_target(input.system.id, input.details.booking_url.as_deref()),
        input.details.external_id.as_deref().unwrap_or_default()
    )
}

/// Loads the location (as [`load`]) and, in the same round trip, reserves an attempt slot for
/// the check: the membership read, the location read and the slot's conditional write run
/// concurrently instead of one after the other.
///
/// The slot is taken before we know whether the check will go ahead, so every path that ends
/// before the vendor call must hand it to [`give_back`]; this function does so itself when the
/// location cannot be loaded. Answers keep their old precedence: 404 before anything, then the
/// caller's own input errors, then the lockout's 429.
async fn load_and_reserve(
    deps: &BookingDeps,
    caller: &Caller,
    company_id: &str,
    location_id: &str,
    input: &BookingInput,
) -> Result<(Location, Admission), Problem> {
    let now = deps.clock.now();
    let attempt = Attempt {
        id: uuid::Uuid::new_v4().to_string(),
        sub: caller.sub.clone(),
        location_id: location_id.to_string(),
        target: attempt_target(input),
    };
    let (location, admission) = tokio::join!(
        load(deps, caller, company_id, location_id),
        attempts::admit(deps.attempts.as_ref(), attempt, now)
    );
    match location {
        Ok(location) => Ok((location, admission?)),
        Err(problem) => {
            if let Ok(admission) = &admission {
                give_back(deps, admission).await;
            }
            Err(problem)
        }
    }
}

/// Releases a reservation that no check will use. A failure only logs: the reservation frees
/// itself after [`attempts::RESERVATION_SECONDS`].
async fn give_back(deps: &BookingDeps, admission: &Admission) {
    let Ok(admitted) = admission else { return };
    let store = deps.attempts.as_ref();
    let (admin, location) = tokio::join!(
        store.release(
            attempts::Tally::Administrator(&admitted.attempt.sub),
            &admitted.administrator
        ),
        store.release(
            attempts::Tally::Location(&admitted.attempt.location_id),
            &admitted.location
        )
    );
    if let Err(e) = admin.and(location) {
        tracing::warn!(error = %e, "unused attempt reservation not released");
    }
}

/// The admitted reservation, or the lockout's 429.
fn admitted(deps: &BookingDeps, admission: Admission) -> Result<Admitted, Problem> {
    admission.map_err(|refusal| refusal_problem(&refusal, deps.clock.now()))
}

pub struct Tested {
    pub report: CheckReport,
    pub attempts_remaining: u32,
}

impl Tested {
    pub fn to_json(&self, lang: Lang) -> Value {
        report_json(&self.report, self.attempts_remaining, lang)
    }
}

fn report_json(report: &CheckReport, attempts_remaining: u32, lang: Lang) -> Value {
    let mut body = report.to_json(lang);
    body["status"] = json!(if report.succeeded() {
        "success"
    } else {
        "failure"
    });
    body["message"] = json!(summary_message(report, lang));
    body["attempts_remaining"] = json!(attempts_remaining);
    body
}

fn summary_message(report: &CheckReport, lang: Lang) -> String {
    if report.succeeded() {
        return msg::SUCCESS.get(lang).to_string();
    }
    match (report.failed_step(), catalog::system(&report.system)) {
        (Some(step), Some(system)) => step.message(system, lang),
        _ => msg::CHECK_FAILED.get(lang).to_string(),
    }
}

/// "Test kobling": checks the entered details; saves nothing.
pub async fn test_connection(
    deps: &BookingDeps,
    caller: &Caller,
    company_id: &str,
    location_id: &str,
    input: BookingInput,
) -> Result<Tested, Problem> {
    let (location, admission) =
        load_and_reserve(deps, caller, company_id, location_id, &input).await?;
    let key = match resolve_key(deps, &location, &input).await {
        Ok(key) => key.map(|(key, _)| key),
        Err(problem) => {
            give_back(deps, &admission).await;
            return Err(problem);
        }
    };
    let admitted = admitted(deps, admission)?;
    let (report, attempts_remaining) = guarded_check(deps, &input, key, admitted).await?;
    Ok(Tested {
        report,
        attempts_remaining,
    })
}

pub struct Saved {
    pub location: Location,
    pub report: Option<CheckReport>,
    pub attempts_remaining: u32,
    /// When the location's old key will be deleted, if this save removed it (a system without
    /// a key).
    pub key_deletion: Option<Timestamp>,
}

impl Saved {
    pub fn to_json(&self, lang: Lang) -> Value {
        let mut body = json!({
            "location": self.location.to_json(),
            "check": self.report.as_ref().map(|r| report_json(r, self.attempts_remaining, lang)),
            "attempts_remaining": self.attempts_remaining,
        });
        if let Some(date) = self.key_deletion {
            body["stored_key_deletion"] = json!({
                "deletion_date": clock::rfc3339(date),
                "recovery_window_days": secrets::RECOVERY_WINDOW_DAYS,
                "message": msg::stored_key_deleted(&clock::oslo_datetime(date), &clock::rfc3339(date)).get(lang),
            });
        }
        body
    }
}

/// "Test og lagre": checks the details and, only if every step passed, saves them.
///
/// Write order: the new key as a pending secret version; then the location item naming that
/// version (conditional on the version the administrator edited); then the version is promoted
/// to current. A failure before the item is committed leaves the old configuration and its key
/// in use; a failure after it leaves the new pair, whose key readers fetch by version id.
pub async fn test_and_save(
    deps: &BookingDeps,
    caller: &Caller,
    company_id: &str,
    location_id: &str,
    input: BookingInput,
) -> Result<Saved, Problem> {
    let expected_version = input.version.ok_or_else(Problem::version_required)?;
    let (location, admission) =
        load_and_reserve(deps, caller, company_id, location_id, &input).await?;
    if location.version != expected_version {
        give_back(deps, &admission).await;
        if let Some(saved) =
            replayed_save(deps, caller, &location, &input, expected_version).await?
        {
            return Ok(saved);
        }
        return Err(Problem::version_conflict(location.version));
    }
    let resolved = match resolve_key(deps, &location, &input).await {
        Ok(resolved) => resolved,
        Err(problem) => {
            give_back(deps, &admission).await;
            return Err(problem);
        }
    };
    let admitted = admitted(deps, admission)?;
    let report = vendor_check(deps, &input, resolved.as_ref().map(|(k, _)| k.clone())).await;
    if !report.succeeded() {
        let attempts_remaining = settle_check(deps, &input, &admitted, &report).await?;
        let steps = |lang| report_json(&report, attempts_remaining, lang)["steps"].clone();
        return Err(Problem::new(
            422,
            "connection_test_failed",
            msg::CONNECTION_TEST_FAILED,
            Localized::new(
                summary_message(&report, Lang::Nb),
                summary_message(&report, Lang::En),
            ),
        )
        .with_localized_extension("steps", steps(Lang::Nb), steps(Lang::En))
        // `status` is the HTTP status (RFC 9457); what kind of failure it was is `outcome`.
        .with_extension("outcome", json!(report.outcome()))
        .with_extension("attempts_remaining", json!(attempts_remaining)));
    }

    let name = deps.secret_name(company_id, location_id);
    let committed = location
        .booking
        .as_ref()
        .filter(|b| b.key_stored)
        .and_then(|b| b.secret_version_id.clone());
    // The check passed. Settling its attempt and writing the new key as a pending version do not
    // depend on each other, so they share one round trip.
    let store_key = async {
        // What an earlier save left half done (a lost promotion or clean-up) is repaired first,
        // so the pending version written next never takes the committed key's last label.
        let mut current = match (&committed, &resolved) {
            (Some(committed), Some(_)) => secrets::repair(deps.secrets.as_ref(), &name, committed)
                .await
                .map_err(secret_problem)?,
            // A configuration without a key before this one: its old key may be awaiting
            // deletion, and comes back to hold the new one.
            (None, Some((_, true))) if location.booking.is_some() => {
                secrets::revive(deps.secrets.as_ref(), &name)
                    .await
                    .map_err(secret_problem)?;
                None
            }
            _ => None,
        };
        let version_id = match &resolved {
            None => None,
            Some((key, true)) => {
                let version_id = uuid::Uuid::new_v4().to_string();
                let created = deps
                    .secrets
                    .put_pending(
                        &name,
                        &version_id,
                        key,
                        &[("company", company_id), ("location", location_id)],
                    )
                    .await
                    .map_err(secret_problem)?;
                if created {
                    // A secret's first version is current from the start.
                    current = Some(version_id.clone());
                }
                Some(version_id)
            }
            Some((_, false)) => committed.clone(),
        };
        Ok::<_, Problem>((version_id, current))
    };
    let (settled, stored) = tokio::join!(settle_check(deps, &input, &admitted, &report), store_key);
    let (secret_version_id, current) = stored?;
    // A key written now is new only if this save wrote it; it waits under the pending label
    // until the commit, and loses it if the save goes no further.
    let fresh = match (&secret_version_id, &resolved) {
        (Some(version_id), Some((_, true))) => Some(version_id.clone()),
        _ => None,
    };
    let attempts_remaining = match settled {
        Ok(remaining) => remaining,
        Err(problem) => {
            if let Some(version_id) = &fresh {
                secrets::discard(deps.secrets.as_ref(), &name, version_id).await;
            }
            return Err(problem);
        }
    };
    let now = deps.clock.now();
    let booking = BookingConfig {
        system: input.system.id.to_string(),
        external_id: input.details.external_id.clone(),
        external_department_id: input.details.external_department_id.clone(),
        booking_url: input.details.booking_url.clone(),
        key_stored: secret_version_id.is_some(),
        secret_version_id: secret_version_id.clone(),
        config_id: Some(uuid::Uuid::new_v4().to_string()),
        health: Some(Health::Ok),
        notice_pending: None,
        last_check: Some(CheckSummary {
            status: CheckStatus::Success,
            checked_at: now,
            source: CheckSource::Save,
            failed_code: None,
            steps: step_codes(&report),
        }),
        saved_by: Some(caller.email.clone().unwrap_or_else(|| caller.sub.clone())),
        saved_at: Some(now),
    };
    let offline = input.offline.unwrap_or(location.offline);
    // What was saved, never the key: only whether a new one was stored.
    let audit = crate::domain::audit_entry(
        caller,
        Some(company_id),
        "booking_saved",
        Some(location_id),
        json!({
            "system": booking.system,
            "external_id": booking.external_id,
            "external_department_id": booking.external_department_id,
            "booking_url": booking.booking_url,
            "offline": offline,
            "new_key_stored": matches!(resolved, Some((_, true))),
        }),
        now,
    );
    let saved = match deps
        .store
        .save_booking(
            company_id,
            location_id,
            expected_version,
            &booking,
            offline,
            now,
            &caller.sub,
            &audit,
        )
        .await
    {
        Ok(saved) => saved,
        Err(e) => {
            if let Some(version_id) = &fresh {
                secrets::discard(deps.secrets.as_ref(), &name, version_id).await;
            }
            return Err(e.into());
        }
    };
    if let Some(version_id) = &fresh {
        // The configuration is committed and names its key version, so readers use it already;
        // a lost promotion is repaired by the next save.
        if let Err(e) =
            secrets::promote(deps.secrets.as_ref(), &name, version_id, current.as_deref()).await
        {
            tracing::warn!(error = %e, "secret version committed but not promoted");
        }
    }
    // A system without a key: the old key has no use left and is removed, recoverably.
    let key_deletion = match &committed {
        Some(_) if secret_version_id.is_none() => {
            match deps
                .secrets
                .schedule_deletion(&name, secrets::RECOVERY_WINDOW_DAYS, now)
                .await
            {
                Ok(date) => date,
                Err(e) => {
                    tracing::error!(error = %e, "the stored key of a location without a key system was not removed");
                    None
                }
            }
        }
        _ => None,
    };
    tracing::info!(
        company_id,
        location_id,
        system = input.system.id,
        version = saved.version,
        "booking configuration saved"
    );
    Ok(Saved {
        location: saved,
        report: Some(report),
        attempts_remaining,
        key_deletion,
    })
}

/// A save whose answer was lost and is sent again finds the location one version further,
/// holding exactly what it asked for. Answer it as the save it was instead of a conflict.
async fn replayed_save(
    deps: &BookingDeps,
    caller: &Caller,
    location: &Location,
    input: &BookingInput,
    expected_version: u64,
) -> Result<Option<Saved>, Problem> {
    let Some(booking) = &location.booking else {
        return Ok(None);
    };
    let same_config = location.version == expected_version + 1
        && location.updated_by == caller.sub
        && booking.system == input.system.id
        && booking.external_id == input.details.external_id
        && booking.external_department_id == input.details.external_department_id
        && booking.booking_url == input.details.booking_url
        && input.offline.is_none_or(|o| o == location.offline);
    if !same_config {
        return Ok(None);
    }
    if let Some(key) = &input.details.api_key {
        let Some(version_id) = &booking.secret_version_id else {
            return Ok(None);
        };
        let name = deps.secret_name(&location.company_id, &location.id);
        let stored = deps
            .secrets
            .get(&name, version_id)
            .await
            .map_err(secret_problem)?;
        if !constant_time_eq(stored.expose().as_bytes(), key.expose().as_bytes()) {
            return Ok(None);
        }
        if let Err(e) = secrets::repair(deps.secrets.as_ref(), &name, version_id).await {
            tracing::warn!(error = %e, "secret version committed but not promoted");
        }
    }
    let attempts_remaining = attempts::remaining(
        deps.attempts.as_ref(),
        &caller.sub,
        Some(&location.id),
        deps.clock.now(),
    )
    .await?;
    Ok(Some(Saved {
        location: location.clone(),
        report: None,
        attempts_remaining,
        key_deletion: None,
    }))
}

/// A report's steps without messages, as stored with the last check.
pub fn step_codes(report: &CheckReport) -> Vec<Value> {
    report
        .steps
        .iter()
        .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
        .collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Adds `attempts_remaining` to a problem of the booking routes that does not carry it yet, so
/// every answer tells the administrator where they stand.
pub async fn with_attempts_remaining(
    deps: &BookingDeps,
    caller: Option<&Caller>,
    location_id: Option<&str>,
    mut problem: Problem,
) -> Problem {
    if problem.extensions.contains_key("attempts_remaining") {
        return problem;
    }
    if let Some(caller) = caller
        && let Ok(remaining) = attempts::remaining(
            deps.attempts.as_ref(),
            &caller.sub,
            location_id,
            deps.clock.now(),
        )
        .await
    {
        problem = problem.with_extension("attempts_remaining", json!(remaining));
    }
    problem
}

#[cfg(all(feature = "dynamodb", feature = "secretsmanager"))]
impl BookingDeps {
    /// Production wiring: DynamoDB, Secrets Manager and the vendor adapters from the
    /// environment (`TABLE_NAME`, `SECRET_NAME_PREFIX`, vendor settings).
    pub async fn from_env() -> Result<Self, String> {
        let table = crate::runtime::required_env("TABLE_NAME")?;
        let config = crate::aws::config()?;
        let store = Arc::new(crate::store::dynamo::DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&config),
            table,
        ));
        let vendors = crate::vendors::Vendors::from_env().map_err(|e| e.to_string())?;
        Ok(BookingDeps {
            store: store.clone(),
            attempts: store,
            // Built when a request first stores or reads a key.
            secrets: Arc::new(secrets::aws::SecretsManager::new(
                crate::aws::LazyClient::on_first_use(&config, aws_sdk_secretsmanager::Client::new),
            )),
            vendors: Arc::new(vendors),
            clock: Arc::new(crate::clock::SystemClock),
            secret_prefix: std::env::var("SECRET_NAME_PREFIX")
                .unwrap_or_else(|_| DEFAULT_SECRET_PREFIX.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lockout table (`vendors::report::outcome_of`), row by row, as the booking routes
    /// settle an attempt: only a vendor's rejection is a counted failure.
    #[test]
    fn each_failure_code_settles_as_the_lockout_table_says() {
        use crate::vendors::{CheckCode, CheckStep, StepId, StepStatus};
        let step = |step, status, code| CheckStep {
            step,
            status,
            code,
            field: None,
        };
        let counted = [
            CheckCode::ApiKeyRejected,
            CheckCode::ClinicNotFound,
            CheckCode::DepartmentNotFound,
            CheckCode::BookingPageNotFound,
        ];
        for code in CheckCode::ALL {
            let report = CheckReport {
                system: "pasientsky".into(),
                steps: vec![
                    step(StepId::VendorReachable, StepStatus::Ok, CheckCode::Ok),
                    step(StepId::KeyAccepted, StepStatus::Failed, code),
                ],
            };
            let expected = if counted.contains(&code) {
                Settlement::CountedFailure
            } else {
                Settlement::NotCounted
            };
            assert_eq!(settlement(&report), expected, "{code:?}");
        }
        // A check whose calendar step cannot be verified (Extensor) is a success.
        let page = CheckReport {
            system: "extensor".into(),
            steps: vec![
                step(StepId::VendorReachable, StepStatus::Ok, CheckCode::Ok),
                step(StepId::ClinicFound, StepStatus::Ok, CheckCode::Ok),
                step(
                    StepId::OnlineBookingOpen,
                    StepStatus::NotVerifiable,
                    CheckCode::NotVerifiable,
                ),
            ],
        };
        assert_eq!(settlement(&page), Settlement::Success);
    }

    #[test]
    fn a_stored_key_follows_the_system_and_the_host_it_is_sent_to() {
        // Systems with a fixed API: the system alone decides where a key goes.
        assert_eq!(
            key_target("pasientsky", None),
            key_target("pasientsky", None)
        );
        assert_ne!(key_target("pasientsky", None), key_target("hano", None));
        // Systems whose address the administrator types: the host decides too.
        let a = key_target("extensor", Some("https://a.extensor.no/booking"));
        assert_eq!(
            a,
            key_target("extensor", Some("https://A.extensor.no/other-path"))
        );
        assert_ne!(
            a,
            key_target("extensor", Some("https://b.extensor.no/booking"))
        );
    }

    #[test]
    fn comparing_keys_needs_equal_length_and_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
