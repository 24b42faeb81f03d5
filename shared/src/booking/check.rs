//! "Test kobling", and the check both booking routes run: the key is resolved (entered, or the
//! stored one when it would go to the same place), a place is taken in the lockout
//! (`attempts.rs`), the vendor's adapter is called (`vendors/`), and the place is settled by
//! what the report says.

use serde_json::json;

use super::BookingDeps;
use super::attempts::{self, Admission, Admitted, Attempt, Held, LockScope, Refusal, Settlement};
use super::input::BookingInput;
use super::views::Tested;
use crate::api_key::ApiKey;
use crate::catalog::{self, FieldId};
use crate::clock::{self, Timestamp};
use crate::domain::authorize;
use crate::identity::Caller;
use crate::messages as msg;
use crate::metrics;
use crate::model::Location;
use crate::problem::{FieldError, Problem};
use crate::vendors::{CheckOutcome, CheckReport};

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
        Ok(key) => key.map(ResolvedKey::into_key),
        Err(problem) => {
            give_back(deps, &admission).await;
            return Err(problem);
        }
    };
    let admitted = admitted(deps, admission)?;
    let report = vendor_check(deps, &input, key).await;
    let attempts_remaining = settle_check(deps, &input, &admitted, &report).await?;
    Ok(Tested {
        report,
        attempts_remaining,
    })
}

/// The key a check sends.
#[derive(Clone, Debug)]
pub(super) enum ResolvedKey {
    /// Typed into the form: a save stores it as a new version.
    Entered(ApiKey),
    /// The location's stored key, reused as it is.
    Stored(ApiKey),
}

impl ResolvedKey {
    pub(super) fn key(&self) -> &ApiKey {
        match self {
            ResolvedKey::Entered(key) | ResolvedKey::Stored(key) => key,
        }
    }

    fn into_key(self) -> ApiKey {
        match self {
            ResolvedKey::Entered(key) | ResolvedKey::Stored(key) => key,
        }
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
pub(super) async fn resolve_key(
    deps: &BookingDeps,
    location: &Location,
    input: &BookingInput,
) -> Result<Option<ResolvedKey>, Problem> {
    if !input.system.uses(FieldId::ApiKey) {
        return Ok(None);
    }
    if let Some(key) = &input.details.api_key {
        return Ok(Some(ResolvedKey::Entered(key.clone())));
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
    let key = deps
        .keys
        .stored(&location.company_id, &location.id, stored)
        .await?;
    Ok(Some(ResolvedKey::Stored(key)))
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
    if !refusal.locked {
        return Problem::checks_in_progress(refusal.retry_at, now);
    }
    let (oslo, utc) = (
        clock::oslo_hhmm(refusal.retry_at),
        clock::rfc3339(refusal.retry_at),
    );
    let detail = match refusal.scope {
        LockScope::Administrator => msg::too_many_attempts(&oslo, &utc),
        LockScope::Location => msg::location_locked(&oslo, &utc),
    };
    Problem::too_many_attempts(detail, json!(refusal.scope), refusal.retry_at, now)
}

/// The vendor check itself; call it only while holding a reservation, and settle it after.
pub(super) async fn vendor_check(
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
pub(super) async fn settle_check(
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

/// What a check is aimed at, for the lockout: where the key goes and which clinic it opens.
fn attempt_target(input: &BookingInput) -> String {
    format!(
        "{}#{}",
        key_target(input.system.id, input.details.booking_url.as_deref()),
        input.details.external_id.as_deref().unwrap_or_default()
    )
}

/// Loads the location (as `load`) and, in the same round trip, reserves an attempt slot for
/// the check: the membership read, the location read and the slot's conditional write run
/// concurrently instead of one after the other.
///
/// The slot is taken before we know whether the check will go ahead, so every path that ends
/// before the vendor call must hand it to [`give_back`]; this function does so itself when the
/// location cannot be loaded. Answers keep their old precedence: 404 before anything, then the
/// caller's own input errors, then the lockout's 429.
pub(super) async fn load_and_reserve(
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
pub(super) async fn give_back(deps: &BookingDeps, admission: &Admission) {
    let Ok(admitted) = admission else { return };
    let store = deps.attempts.as_ref();
    let (admin, location) = tokio::join!(
        store.release(
            attempts::Tally::Administrator(&admitted.attempt.sub),
            Held::Reservation(&admitted.administrator)
        ),
        store.release(
            attempts::Tally::Location(&admitted.attempt.location_id),
            Held::Reservation(&admitted.location)
        )
    );
    if let Err(e) = admin.and(location) {
        tracing::warn!(error = %e, "unused attempt reservation not released");
    }
}

/// The admitted reservation, or the lockout's 429.
pub(super) fn admitted(deps: &BookingDeps, admission: Admission) -> Result<Admitted, Problem> {
    admission.map_err(|refusal| refusal_problem(&refusal, deps.clock.now()))
}

/// Adds `attempts_remaining` to a problem of the booking routes that does not carry it yet, so
/// every answer tells the administrator where they stand.
pub(super) async fn with_attempts_remaining(
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
        assert_eq!(key_target("pasientsky", None), "pasientsky");
        assert_eq!(
            key_target("pasientsky", Some("https://a.extensor.no/booking")),
            "pasientsky"
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
}
