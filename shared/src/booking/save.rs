//! "Test og lagre": the same check as "Test kobling" (`check.rs`), then a save of exactly what
//! passed: the key in the key store (`key_store.rs`), the rest on the location item, in the
//! order that never pairs a configuration with a key that is not its own. A save sent again
//! after its answer was lost is recognised and answered as the save it was.

use crate::api_key::constant_time_eq;
use serde_json::json;

use super::BookingDeps;
use super::attempts;
use super::check::{
    ResolvedKey, admitted, give_back, load_and_reserve, resolve_key, settle_check, vendor_check,
};
use super::input::BookingInput;
use super::key_store::{self, NewVersion};
use super::views::{Saved, failed_check_problem, step_codes};
use crate::identity::Caller;
use crate::model::{BookingConfig, CheckSource, CheckStatus, CheckSummary, Health, Location};
use crate::problem::Problem;
use crate::store::{BookingSave, LocationWrite};

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
    let report = vendor_check(deps, &input, resolved.as_ref().map(|k| k.key().clone())).await;
    if !report.succeeded() {
        let attempts_remaining = settle_check(deps, &input, &admitted, &report).await?;
        return Err(failed_check_problem(&report, attempts_remaining));
    }

    let name = deps.keys.name(company_id, location_id);
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
            (Some(committed), Some(_)) => {
                key_store::repair(deps.keys.store.as_ref(), &name, committed)
                    .await
                    .map_err(Problem::from)?
            }
            // A configuration without a key before this one: its old key may be awaiting
            // deletion, and comes back to hold the new one.
            (None, Some(ResolvedKey::Entered(_))) if location.booking.is_some() => {
                key_store::revive(deps.keys.store.as_ref(), &name)
                    .await
                    .map_err(Problem::from)?;
                None
            }
            _ => None,
        };
        let version_id = match &resolved {
            None => None,
            Some(ResolvedKey::Entered(key)) => {
                let version_id = uuid::Uuid::new_v4().to_string();
                let created = deps
                    .keys
                    .store
                    .put_pending(
                        &name,
                        NewVersion {
                            id: &version_id,
                            key,
                            tags: &[("company", company_id), ("location", location_id)],
                        },
                    )
                    .await
                    .map_err(Problem::from)?;
                if created {
                    // A secret's first version is current from the start.
                    current = Some(version_id.clone());
                }
                Some(version_id)
            }
            Some(ResolvedKey::Stored(_)) => committed.clone(),
        };
        Ok::<_, Problem>((version_id, current))
    };
    let (settled, stored) = tokio::join!(settle_check(deps, &input, &admitted, &report), store_key);
    let (secret_version_id, current) = stored?;
    // A key written now is new only if this save wrote it; it waits under the pending label
    // until the commit, and loses it if the save goes no further.
    let fresh = match (&secret_version_id, &resolved) {
        (Some(version_id), Some(ResolvedKey::Entered(_))) => Some(version_id.clone()),
        _ => None,
    };
    let attempts_remaining = match settled {
        Ok(remaining) => remaining,
        Err(problem) => {
            if let Some(version_id) = &fresh {
                key_store::discard(deps.keys.store.as_ref(), &name, version_id).await;
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
            "new_key_stored": matches!(resolved, Some(ResolvedKey::Entered(_))),
        }),
        now,
    );
    let saved = match deps
        .store
        .save_booking(BookingSave {
            write: LocationWrite {
                company_id,
                location_id,
                expected_version,
                now,
                by: &caller.sub,
                audit: &audit,
            },
            booking: &booking,
            offline,
        })
        .await
    {
        Ok(saved) => saved,
        Err(e) => {
            if let Some(version_id) = &fresh {
                key_store::discard(deps.keys.store.as_ref(), &name, version_id).await;
            }
            return Err(e.into());
        }
    };
    if let Some(version_id) = &fresh {
        // The configuration is committed and names its key version, so readers use it already;
        // a lost promotion is repaired by the next save.
        if let Err(e) = key_store::promote(
            deps.keys.store.as_ref(),
            &name,
            version_id,
            current.as_deref(),
        )
        .await
        {
            tracing::warn!(error = %e, "secret version committed but not promoted");
        }
    }
    // A system without a key: the old key has no use left and is removed, recoverably.
    let key_deletion = match &committed {
        Some(_) if secret_version_id.is_none() => {
            match deps
                .keys
                .store
                .schedule_deletion(&name, key_store::RECOVERY_WINDOW_DAYS, now)
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
        let name = deps.keys.name(&location.company_id, &location.id);
        let stored = deps.keys.store.get(&name, version_id).await?;
        if !constant_time_eq(stored.expose().as_bytes(), key.expose().as_bytes()) {
            return Ok(None);
        }
        if let Err(e) = key_store::repair(deps.keys.store.as_ref(), &name, version_id).await {
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
