//! The records the API works with, and their public JSON views.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::clock::{Timestamp, rfc3339};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Company {
    pub id: String,
    pub name: String,
    pub org_number: String,
    pub invoice_email: Option<String>,
    pub created_at: Timestamp,
    pub created_by: String,
}

impl Company {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "org_number": self.org_number,
            "invoice_email": self.invoice_email,
            "created_at": rfc3339(self.created_at),
        })
    }
}

/// A user's right to administer one company. The only source of authorization: the token says
/// who the caller is, these records say what they may touch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub user_sub: String,
    pub company_id: String,
    /// The address that was invited and verified when the administrator joined: the only
    /// address mail about this company goes to.
    pub email: Option<String>,
    pub name: Option<String>,
    pub created_at: Timestamp,
    /// Who invited them (e-mail, or subject when the inviter had none), if anyone did.
    pub invited_by: Option<String>,
}

impl Membership {
    pub fn to_json(&self) -> Value {
        json!({
            "user_id": self.user_sub,
            "email": self.email,
            "name": self.name,
            "since": rfc3339(self.created_at),
            "invited_by": self.invited_by,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Revoked,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Revoked => "revoked",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pending" => Some(InvitationStatus::Pending),
            "accepted" => Some(InvitationStatus::Accepted),
            "revoked" => Some(InvitationStatus::Revoked),
            _ => None,
        }
    }
}

/// An invitation to administer a company, sent to one address. Only the hash of its token is
/// kept: the token itself exists in the invitation mail and nowhere else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub id: String,
    pub company_id: String,
    /// Lower case: addresses are compared without regard to case.
    pub email: String,
    pub language: crate::i18n::Lang,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    pub status: InvitationStatus,
    pub created_at: Timestamp,
    /// Accepting is possible until then.
    pub valid_until: Timestamp,
    pub invited_by_sub: String,
    pub invited_by_email: Option<String>,
    /// The UTC day (`2026-11-25`) of the last send and how many sends that day had.
    pub sends_day: String,
    pub sends_that_day: u32,
    pub accepted_by: Option<String>,
    pub closed_at: Option<Timestamp>,
}

impl Invitation {
    pub fn is_open(&self, now: Timestamp) -> bool {
        self.status == InvitationStatus::Pending && self.valid_until > now
    }

    pub fn invited_by(&self) -> String {
        self.invited_by_email
            .clone()
            .unwrap_or_else(|| self.invited_by_sub.clone())
    }

    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "company_id": self.company_id,
            "email": self.email,
            "expires_at": rfc3339(self.valid_until),
            "created_at": rfc3339(self.created_at),
            "invited_by": self.invited_by(),
        })
    }
}

/// One change, as the audit trail keeps it: when, who, what and where. Written in the same
/// transaction as the change itself. `details` never holds a key or a token.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    /// Time-ordered (UUID v7), so a company's entries sort by time.
    pub id: String,
    /// `None` for changes that belong to no company (a lockout lifted).
    pub company_id: Option<String>,
    pub at: Timestamp,
    pub actor_sub: String,
    pub actor_email: Option<String>,
    pub action: String,
    pub location_id: Option<String>,
    pub details: Value,
    pub request_id: Option<String>,
    /// When the entry expires ([`AUDIT_RETENTION_SECONDS`] after `at`).
    pub expires_at: Timestamp,
}

/// Audit entries are kept 400 days.
pub const AUDIT_RETENTION_SECONDS: i64 = 400 * 24 * 60 * 60;

impl AuditEntry {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "at": rfc3339(self.at),
            "actor": {"user_id": self.actor_sub, "email": self.actor_email},
            "action": self.action,
            "location_id": self.location_id,
            "details": self.details,
            "request_id": self.request_id,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub street: String,
    pub postal_code: String,
    pub city: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub company_id: String,
    pub id: String,
    pub name: String,
    pub address: Address,
    pub phone: String,
    pub email: String,
    pub offline: bool,
    pub booking: Option<BookingConfig>,
    /// "Forespør detaljer" sent to vendors, the latest per system, in system order. Written
    /// without bumping `version`, so a request never conflicts with an administrator's edit.
    pub details_requests: Vec<DetailsRequest>,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

/// The non-secret part of a saved booking-system connection. The API key itself lives in
/// Secrets Manager; this only records that one is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingConfig {
    pub system: String,
    pub external_id: Option<String>,
    pub external_department_id: Option<String>,
    pub booking_url: Option<String>,
    pub key_stored: bool,
    /// The Secrets Manager version holding this configuration's key. Readers fetch exactly
    /// this version, so a configuration is never paired with another configuration's key.
    #[serde(default)]
    pub secret_version_id: Option<String>,
    /// New on every save. Revalidation records its result only while the configuration it
    /// checked is still the saved one, so it never overwrites a newer save.
    #[serde(default)]
    pub config_id: Option<String>,
    /// The state the administrators were last told about (a save starts at `ok`).
    /// Revalidation mails them only when this changes.
    #[serde(default)]
    pub health: Option<Health>,
    /// A notice decided but not yet mailed; the next run retries it.
    #[serde(default)]
    pub notice_pending: Option<Notice>,
    pub last_check: Option<CheckSummary>,
    pub saved_by: Option<String>,
    pub saved_at: Option<Timestamp>,
}

/// What a saved connection's administrators were last told about it. Stored on the location
/// and answered by the API as `ok` / `failing`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Ok,
    Failing,
}

/// A mail to the administrators about a change of [`Health`]: stored as `broken` /
/// `recovered` while it waits to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    Broken,
    Recovered,
}

/// How the last check of a saved connection ended: `success`, `failure` (the details or the
/// clinic's set-up are wrong), or `unavailable` (the vendor gave no usable answer, which says
/// nothing about the details).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Success,
    Failure,
    Unavailable,
}

/// Who made the last check: "Test og lagre" (`save`) or the nightly run (`revalidation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckSource {
    Save,
    Revalidation,
}

/// The outcome of the last connection check, by "Test og lagre" or by revalidation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckSummary {
    pub status: CheckStatus,
    pub checked_at: Timestamp,
    pub source: CheckSource,
    /// The failing step's code, if any, for the list's short summary.
    pub failed_code: Option<String>,
    /// The steps' codes and statuses (no messages: those are rendered per reader).
    #[serde(default)]
    pub steps: Vec<serde_json::Value>,
}

/// That a location's administrator asked a vendor for the connection details, so the frontend
/// can show the clinic is waiting for the vendor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailsRequest {
    pub system: String,
    pub requested_at: Timestamp,
    pub requested_by: String,
    pub requested_by_name: Option<String>,
    pub requested_by_email: Option<String>,
    /// The vendor's address the request went to.
    pub sent_to: String,
}

impl DetailsRequest {
    pub fn to_json(&self) -> Value {
        json!({
            "system": self.system,
            "requested_at": rfc3339(self.requested_at),
            "requested_by": {"name": self.requested_by_name, "email": self.requested_by_email},
            "sent_to": self.sent_to,
        })
    }
}

impl Location {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "company_id": self.company_id,
            "name": self.name,
            "address": self.address,
            "phone": self.phone,
            "email": self.email,
            "offline": self.offline,
            "booking": self.booking.as_ref().map(BookingConfig::to_json),
            "details_requests": self.details_requests.iter().map(DetailsRequest::to_json).collect::<Vec<_>>(),
            "version": self.version,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
        })
    }

    /// The short form shown in the company's list of locations.
    pub fn to_summary_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "address": self.address,
            "offline": self.offline,
            "booking": booking_summary(self.booking.as_ref()),
            "version": self.version,
        })
    }
}

impl BookingConfig {
    pub fn to_json(&self) -> Value {
        json!({
            "system": self.system,
            "external_id": self.external_id,
            "external_department_id": self.external_department_id,
            "booking_url": self.booking_url,
            "api_key_stored": self.key_stored,
            "last_check": self.last_check.as_ref().map(|c| json!({
                "status": c.status,
                "checked_at": rfc3339(c.checked_at),
                "source": c.source,
                "failed_code": c.failed_code,
                "steps": c.steps,
            })),
            "health": self.health,
            "saved_by": self.saved_by,
            "saved_at": self.saved_at.map(rfc3339),
        })
    }
}

/// `not_configured`, or the system with the state of its last check, so the list can show
/// which locations need attention without opening each one.
fn booking_summary(booking: Option<&BookingConfig>) -> Value {
    match booking {
        None => json!({"state": "not_configured"}),
        Some(b) => {
            let state = match b.last_check.as_ref().map(|c| c.status) {
                Some(CheckStatus::Success) => "connected",
                // The vendor could not answer the last revalidation; the saved details may
                // still be right, so the state the administrators know stands.
                Some(CheckStatus::Unavailable) if b.health != Some(Health::Failing) => {
                    "vendor_unavailable"
                }
                Some(_) => "failing",
                None => "unchecked",
            };
            json!({
                "state": state,
                "system": b.system,
                "last_checked_at": b.last_check.as_ref().map(|c| rfc3339(c.checked_at)),
                "last_check_source": b.last_check.as_ref().map(|c| c.source),
                "failed_code": b.last_check.as_ref().and_then(|c| c.failed_code.as_deref()),
            })
        }
    }
}

/// A page of a list and the opaque cursor for the next one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The id of the last item, when more may follow. Encoded into a cursor by the API layer.
    pub next_after: Option<String>,
}

impl<T> Page<T> {
    /// A page of at most `limit` of `items` (id and value, in id order). Stores read one item
    /// more than the page, so a full last page does not cost a request that returns nothing;
    /// `more_beyond` says the source itself stopped early (DynamoDB's 1 MB page).
    pub fn cut(
        items: impl IntoIterator<Item = (String, T)>,
        limit: u32,
        more_beyond: bool,
    ) -> Page<T> {
        let mut items: Vec<(String, T)> = items.into_iter().take(limit as usize + 1).collect();
        let more = items.len() > limit as usize || (more_beyond && !items.is_empty());
        items.truncate(limit as usize);
        Page {
            next_after: if more {
                items.last().map(|(id, _)| id.clone())
            } else {
                None
            },
            items: items.into_iter().map(|(_, v)| v).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored_as<T>(value: T, stored: &str)
    where
        T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        assert_eq!(serde_json::to_value(&value).unwrap(), json!(stored));
        assert_eq!(serde_json::from_value::<T>(json!(stored)).unwrap(), value);
    }

    /// These values are in DynamoDB items and in API answers: they must never change.
    #[test]
    fn stored_states_keep_their_strings() {
        stored_as(Health::Ok, "ok");
        stored_as(Health::Failing, "failing");
        stored_as(Notice::Broken, "broken");
        stored_as(Notice::Recovered, "recovered");
        stored_as(CheckStatus::Success, "success");
        stored_as(CheckStatus::Failure, "failure");
        stored_as(CheckStatus::Unavailable, "unavailable");
        stored_as(CheckSource::Save, "save");
        stored_as(CheckSource::Revalidation, "revalidation");
        let read: CheckSummary = serde_json::from_value(json!({
            "status": "unavailable", "checked_at": 1, "source": "revalidation",
            "failed_code": null, "steps": []
        }))
        .unwrap();
        assert_eq!(
            (read.status, read.source),
            (CheckStatus::Unavailable, CheckSource::Revalidation)
        );
    }
}
