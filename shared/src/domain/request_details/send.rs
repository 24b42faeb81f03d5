//! Sending "Forespør detaljer" for the administrator, within two limits over a rolling
//! [`WINDOW_SECONDS`]: per location and system ([`SendLimits::per_location`], from all its
//! administrators together) and per administrator on every location of every company
//! ([`SendLimits::per_administrator`], the setting `DETAILS_SENDS_PER_ADMINISTRATOR`).
//!
//! A send holds one slot in each limit until the window has passed. Both are taken in one
//! conditional write (a slot is free when absent or expired), so concurrent sends can never
//! hold more slots than either limit has, and no send is counted in one limit and not in the
//! other. The slots are taken before the mail goes out and given back if the mail service
//! refuses it, so only mails that left count. An invocation that dies between the two keeps
//! its slots until they expire: the limits then err on the side of fewer mails.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::catalog::BookingSystem;
use crate::clock::{self, Clock, Timestamp};
use crate::i18n::Lang;
use crate::identity::Caller;
use crate::mail::{Mailer, OutgoingMail};
use crate::messages as msg;
use crate::metrics;
use crate::model::DetailsRequest;
use crate::problem::Problem;
use crate::store::{DetailsRequestWrite, RequestDetailsStore, SendLimitStore, SendScope, SendSlot};

use super::{PreparedRequest, admin_of, load, prepare};
use crate::domain::audit_entry;

/// Sends per location and system in [`WINDOW_SECONDS`], from all its administrators.
pub const SENDS_PER_LOCATION: u32 = 3;
/// Sends per administrator in [`WINDOW_SECONDS`], on all their locations, unless configured.
pub const DEFAULT_SENDS_PER_ADMINISTRATOR: u32 = 10;
pub const WINDOW_SECONDS: i64 = 24 * 60 * 60;
const PER_ADMINISTRATOR_SETTING: &str = "DETAILS_SENDS_PER_ADMINISTRATOR";
/// Rounds of reading the free slots and taking two of them, for when concurrent sends take
/// the ones just read as free.
const TAKE_TRIES: usize = 6;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendLimits {
    pub per_location: u32,
    pub per_administrator: u32,
}

impl Default for SendLimits {
    fn default() -> Self {
        SendLimits {
            per_location: SENDS_PER_LOCATION,
            per_administrator: DEFAULT_SENDS_PER_ADMINISTRATOR,
        }
    }
}

impl SendLimits {
    /// `DETAILS_SENDS_PER_ADMINISTRATOR` (default 10).
    pub fn from_env() -> Result<Self, String> {
        Self::from_setting(std::env::var(PER_ADMINISTRATOR_SETTING).ok().as_deref())
    }

    /// The limits with `DETAILS_SENDS_PER_ADMINISTRATOR` set to `per_administrator`.
    pub fn from_setting(per_administrator: Option<&str>) -> Result<Self, String> {
        Ok(SendLimits {
            per_administrator: crate::runtime::limit_setting(
                PER_ADMINISTRATOR_SETTING,
                per_administrator,
                DEFAULT_SENDS_PER_ADMINISTRATOR,
            )?,
            ..SendLimits::default()
        })
    }
}

/// Which limit holds a send back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitScope {
    Location,
    Administrator,
}

impl LimitScope {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitScope::Location => "location",
            LimitScope::Administrator => "administrator",
        }
    }
}

/// What the caller may still send for a location and system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowance {
    /// The smaller of what the location and system and the administrator have left.
    pub remaining: u32,
    /// When nothing is left: when the next send is allowed, and which limit holds it back
    /// (of two, the one that frees later).
    pub blocked: Option<(Timestamp, LimitScope)>,
}

impl Allowance {
    /// Adds `sends_remaining`, `sends_available_at` and `send_limit_scope` to an answer.
    pub fn write_to(&self, body: &mut Value) {
        if let Some(body) = body.as_object_mut() {
            body.insert("sends_remaining".into(), json!(self.remaining));
            body.insert(
                "sends_available_at".into(),
                json!(self.blocked.map(|(at, _)| clock::rfc3339(at))),
            );
            body.insert(
                "send_limit_scope".into(),
                json!(self.blocked.map(|(_, scope)| scope.as_str())),
            );
        }
    }
}

/// When a limit of `limit` slots, `held` of them held until the given times, next has one
/// free; `None` while one is free. (More than `limit` can be held after the limit is lowered.)
fn frees_at(held: &[Timestamp], limit: u32) -> Option<Timestamp> {
    let limit = limit as usize;
    if held.len() < limit {
        return None;
    }
    let mut held = held.to_vec();
    held.sort_unstable();
    Some(held[held.len() - limit])
}

fn allowance(limits: SendLimits, location: &[Timestamp], administrator: &[Timestamp]) -> Allowance {
    let left = |held: &[Timestamp], limit: u32| limit.saturating_sub(held.len() as u32);
    let blocked = [
        frees_at(location, limits.per_location).map(|at| (at, LimitScope::Location)),
        frees_at(administrator, limits.per_administrator).map(|at| (at, LimitScope::Administrator)),
    ]
    .into_iter()
    .flatten()
    .max_by_key(|(at, _)| *at);
    Allowance {
        remaining: left(location, limits.per_location)
            .min(left(administrator, limits.per_administrator)),
        blocked,
    }
}

/// The two limits a send by `caller` on a location and system counts against.
fn scopes(caller: &Caller, location_id: &str, system: &BookingSystem) -> [SendScope; 2] {
    [
        SendScope::Location {
            location_id: location_id.to_string(),
            system: system.id.to_string(),
        },
        SendScope::Administrator {
            sub: caller.sub.clone(),
        },
    ]
}

async fn held_slots(
    store: &dyn SendLimitStore,
    scopes: &[SendScope; 2],
    now: Timestamp,
) -> Result<[Vec<SendSlot>; 2], Problem> {
    let (location, administrator) = tokio::join!(
        store.held_send_slots(&scopes[0], now),
        store.held_send_slots(&scopes[1], now)
    );
    Ok([location?, administrator?])
}

fn expiries(held: &[SendSlot]) -> Vec<Timestamp> {
    held.iter().map(|s| s.expires_at).collect()
}

/// What the caller may still send, read at the same time as [`load`] authorizes them.
pub(super) async fn allowance_of(
    store: &dyn SendLimitStore,
    limits: SendLimits,
    caller: &Caller,
    location_id: &str,
    system: &BookingSystem,
    now: Timestamp,
) -> Result<Allowance, Problem> {
    let [location, administrator] =
        held_slots(store, &scopes(caller, location_id, system), now).await?;
    Ok(allowance(
        limits,
        &expiries(&location),
        &expiries(&administrator),
    ))
}

/// A free slot of `scope`, picked by `token` among the free ones so that concurrent senders
/// rarely reach for the same one.
fn free_slot(
    scope: &SendScope,
    held: &[SendSlot],
    limit: u32,
    token: &str,
    now: Timestamp,
) -> SendSlot {
    let taken: BTreeSet<u32> = held.iter().map(|s| s.number).collect();
    let free: Vec<u32> = (1..=limit).filter(|n| !taken.contains(n)).collect();
    let spread = token.bytes().fold(0usize, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(usize::from(b))
    });
    SendSlot {
        scope: scope.clone(),
        number: free.get(spread % free.len().max(1)).copied().unwrap_or(1),
        token: token.to_string(),
        expires_at: now + WINDOW_SECONDS,
    }
}

/// Takes a slot in both limits at once, or answers 429 with the limit that holds the send
/// back. Returns the slots and what is left after this send.
async fn take_slots(
    store: &dyn SendLimitStore,
    limits: SendLimits,
    scopes: &[SendScope; 2],
    mut held: [Vec<SendSlot>; 2],
    system: &BookingSystem,
    now: Timestamp,
) -> Result<(Vec<SendSlot>, Allowance), Problem> {
    for attempt in 0..TAKE_TRIES {
        if attempt > 0 {
            held = held_slots(store, scopes, now).await?;
        }
        let [mut location, mut administrator] = [expiries(&held[0]), expiries(&held[1])];
        if let Some((retry_at, scope)) = allowance(limits, &location, &administrator).blocked {
            tracing::info!(
                limit = ?scopes[0],
                system = system.id,
                scope = scope.as_str(),
                "details request limit reached"
            );
            return Err(limit_reached(system, limits, scope, now, retry_at));
        }
        let token = uuid::Uuid::new_v4().to_string();
        let slots = vec![
            free_slot(&scopes[0], &held[0], limits.per_location, &token, now),
            free_slot(&scopes[1], &held[1], limits.per_administrator, &token, now),
        ];
        if store.take_send_slots(&slots, now).await? {
            location.push(now + WINDOW_SECONDS);
            administrator.push(now + WINDOW_SECONDS);
            return Ok((slots, allowance(limits, &location, &administrator)));
        }
    }
    tracing::warn!("send slots taken by concurrent sends on every try");
    Err(Problem::service_unavailable())
}

#[derive(Clone, Debug)]
pub struct SentRequest {
    pub message_id: String,
    pub request: PreparedRequest,
    pub record: DetailsRequest,
    /// What is left after this send.
    pub allowance: Allowance,
}

impl SentRequest {
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "message_id": self.message_id,
            "system": self.request.system.id,
            "to": self.request.to,
            "cc": self.request.admin_email,
            "reply_to": self.request.admin_email,
            "subject": self.request.subject,
            "requested_at": clock::rfc3339(self.record.requested_at),
        });
        self.allowance.write_to(&mut body);
        body
    }
}

/// What [`send`] and [`super::preview`] work with.
#[derive(Clone, Copy)]
pub struct Services<'a> {
    pub store: &'a dyn RequestDetailsStore,
    pub mailer: &'a dyn Mailer,
    pub clock: &'a dyn Clock,
    pub limits: SendLimits,
}

/// Sends the request to the vendor, with the administrator in Cc and as Reply-To so the vendor
/// answers them directly.
pub async fn send(
    Services {
        store,
        mailer,
        clock,
        limits,
    }: Services<'_>,
    caller: &Caller,
    company_id: &str,
    location_id: &str,
    system: &'static BookingSystem,
    lang: Lang,
) -> Result<SentRequest, Problem> {
    let now = clock.now();
    let scopes = scopes(caller, location_id, system);
    let (loaded, held) = tokio::join!(
        load(store, caller, company_id, location_id),
        held_slots(store, &scopes, now)
    );
    let (membership, company, location) = loaded?;
    let (name, email) = admin_of(caller, &membership);
    let email = email.ok_or_else(Problem::admin_email_missing)?;
    let request = prepare(
        system,
        lang,
        &company,
        &location,
        name.as_deref(),
        Some(&email),
    );
    let (slots, allowance) = take_slots(store, limits, &scopes, held?, system, now).await?;

    let mail = OutgoingMail {
        to: vec![request.to.clone()],
        cc: vec![email.clone()],
        reply_to: vec![email.clone()],
        subject: request.subject.clone(),
        text: request.body.clone(),
    };
    let message_id = match mailer.send(&mail).await {
        Ok(id) => {
            metrics::details_mail_sent();
            id
        }
        Err(err) => {
            metrics::details_mail_refused(&err);
            if let Err(release) = store.release_send_slots(&slots).await {
                // The slots then free themselves when they expire; the answer is the mail's.
                tracing::error!(error = %release, "could not release the send slots");
            }
            return Err(Problem::from(&err));
        }
    };

    let record = DetailsRequest {
        system: system.id.to_string(),
        requested_at: now,
        requested_by: caller.sub.clone(),
        requested_by_name: name,
        requested_by_email: Some(email),
        sent_to: request.to.clone(),
    };
    let audit = audit_entry(
        caller,
        Some(company_id),
        "details_requested",
        Some(location_id),
        json!({"system": system.id, "sent_to": record.sent_to, "message_id": message_id}),
        now,
    );
    // The mail has left: failing the call now would invite a second send. The record only
    // feeds the "waiting for the vendor" hint, so a failure is logged, not answered.
    if let Err(err) = store
        .record_details_request(DetailsRequestWrite {
            company_id,
            location_id,
            request: &record,
            audit: &audit,
        })
        .await
    {
        tracing::error!(error = %err, company_id, location_id, "details request sent but not recorded");
    }
    tracing::info!(company_id, location_id, system = system.id, message_id = %message_id, "details request sent");
    Ok(SentRequest {
        message_id,
        request,
        record,
        allowance,
    })
}

fn limit_reached(
    system: &BookingSystem,
    limits: SendLimits,
    scope: LimitScope,
    now: Timestamp,
    retry_at: Timestamp,
) -> Problem {
    let (y, m, d, hh, mm, _) = clock::civil(retry_at + clock::oslo_offset(retry_at));
    let when_en = format!("{d:02}.{m:02}.{y:04} at {hh:02}:{mm:02} (Oslo time)");
    let when_nb = clock::oslo_datetime(retry_at);
    let detail = match scope {
        LimitScope::Location => {
            msg::details_send_limit_detail(system.name, limits.per_location, &when_nb, &when_en)
        }
        LimitScope::Administrator => {
            msg::details_sender_limit_detail(limits.per_administrator, &when_nb, &when_en)
        }
    };
    Problem::details_request_limit(detail, retry_at, now)
        .with_extension("sends_remaining", json!(0))
        .with_extension("send_limit_scope", json!(scope.as_str()))
}
