//! Use cases. Each takes the small traits it needs and returns a domain value or the
//! [`Problem`] to answer with; handlers only parse, call and map.

use serde_json::Value;

use crate::clock::Timestamp;
use crate::identity::Caller;
use crate::model::{AUDIT_RETENTION_SECONDS, AuditEntry, Membership};
use crate::problem::Problem;
use crate::store::CompanyStore;

pub mod access;
pub mod companies;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod locations;
pub mod request_details;

/// The caller's membership of a company, or 404: a company the caller does not administer
/// looks exactly like one that does not exist.
pub async fn authorize(
    store: &dyn CompanyStore,
    caller: &Caller,
    company_id: &str,
) -> Result<Membership, Problem> {
    store
        .membership(&caller.sub, company_id)
        .await?
        .ok_or_else(Problem::not_found)
}

/// How a caller reaches a company: as one of its administrators, or as a platform operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    Administrator(Membership),
    Operator,
}

impl Access {
    pub fn is_operator(&self) -> bool {
        matches!(self, Access::Operator)
    }
}

/// Administrators reach their own companies; operators reach every company that exists.
/// Anyone else gets the same 404 as for a company that does not exist.
pub async fn authorize_or_operator(
    store: &dyn CompanyStore,
    caller: &Caller,
    company_id: &str,
) -> Result<Access, Problem> {
    if caller.operator {
        return match store.company(company_id).await? {
            Some(_) => Ok(Access::Operator),
            None => Err(Problem::not_found()),
        };
    }
    authorize(store, caller, company_id)
        .await
        .map(Access::Administrator)
}

/// 403 `operator_only` unless the caller is a platform operator.
pub fn require_operator(caller: &Caller) -> Result<(), Problem> {
    if caller.operator {
        Ok(())
    } else {
        Err(Problem::operator_only())
    }
}

/// The audit entry of a change the caller makes now. `details` must never hold a key or a
/// token: it is stored and shown as it is.
pub fn audit_entry(
    caller: &Caller,
    company_id: Option<&str>,
    action: &str,
    location_id: Option<&str>,
    details: Value,
    now: Timestamp,
) -> AuditEntry {
    AuditEntry {
        id: new_id(),
        company_id: company_id.map(str::to_string),
        at: now,
        actor_sub: caller.sub.clone(),
        actor_email: caller.email.clone(),
        action: action.to_string(),
        location_id: location_id.map(str::to_string),
        details,
        request_id: caller.request_id.clone(),
        expires_at: now + AUDIT_RETENTION_SECONDS,
    }
}

/// A new, time-ordered id, so lists come back in creation order.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub const DEFAULT_PAGE_SIZE: u32 = 25;
pub const MAX_PAGE_SIZE: u32 = 100;
