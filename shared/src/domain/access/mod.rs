//! The use cases of the `admins` function: who administers which company. Invitations
//! (`invitations`), the administrators list, removing an administrator, the caller's own view
//! (`GET /v1/me`), lifting a lockout and reading the audit trail. Every change writes its audit
//! entry in the same transaction.

use serde_json::{Value, json};

use crate::clock::{self, Clock};
use crate::identity::Caller;
use crate::mail::Mailer;
use crate::model::{AuditEntry, Invitation, Membership, Page};
use crate::problem::Problem;
use crate::store::{
    AdminStore, AdministratorRemoval, LastAdministrator, LockoutStore, PageRequest,
};

use super::{Access, audit_entry, authorize_or_operator, require_operator};

mod invitations;
#[cfg(test)]
mod tests;

pub use invitations::{
    Accepted, INVITATION_VALID_SECONDS, Invited, MAX_PENDING_INVITATIONS, MAX_RESENDS_PER_DAY,
    NewInvitation, accept, invitation_link, invite, new_token, revoke, token_from_json, token_hash,
};

/// What the `admins` function works with.
#[derive(Clone, Copy)]
pub struct Services<'a> {
    pub store: &'a dyn AdminStore,
    pub lockouts: &'a dyn LockoutStore,
    pub mailer: &'a dyn Mailer,
    pub clock: &'a dyn Clock,
    /// The admin app's address; invitation links open it with `invitation` and `token`.
    pub admin_app_url: &'a str,
}

/// An open invitation as `GET /v1/me` offers it: with the company's name.
pub struct OfferedInvitation {
    pub invitation: Invitation,
    pub company_name: String,
}

pub struct Me {
    pub caller: Caller,
    pub invitations: Vec<OfferedInvitation>,
}

impl Me {
    pub fn to_json(&self) -> Value {
        json!({
            "user_id": self.caller.sub,
            "email": self.caller.email,
            "email_verified": self.caller.email_verified,
            "name": self.caller.name,
            "operator": self.caller.operator,
            "invitations": self.invitations.iter().map(|o| {
                json!({
                    "id": o.invitation.id,
                    "company_id": o.invitation.company_id,
                    "company_name": o.company_name,
                    "email": o.invitation.email,
                    "expires_at": clock::rfc3339(o.invitation.valid_until),
                    "invited_by": o.invitation.invited_by(),
                })
            }).collect::<Vec<_>>(),
        })
    }
}

/// Who the caller is, and the open invitations to their verified address (none without one).
pub async fn me(svc: Services<'_>, caller: &Caller) -> Result<Me, Problem> {
    let now = svc.clock.now();
    let mut invitations = Vec::new();
    if let Some(email) = caller.verified_email() {
        let open: Vec<Invitation> = svc
            .store
            .invitations_to(&email.to_lowercase())
            .await?
            .into_iter()
            .filter(|i| i.is_open(now))
            .collect();
        let companies =
            futures_util::future::join_all(open.iter().map(|i| svc.store.company(&i.company_id)))
                .await;
        for (invitation, company) in open.into_iter().zip(companies) {
            if let Some(company) = company? {
                invitations.push(OfferedInvitation {
                    invitation,
                    company_name: company.name,
                });
            }
        }
    }
    Ok(Me {
        caller: caller.clone(),
        invitations,
    })
}

pub struct Administrators {
    pub administrators: Vec<Membership>,
    pub invitations: Vec<Invitation>,
}

impl Administrators {
    pub fn to_json(&self) -> Value {
        json!({
            "administrators": self.administrators.iter().map(Membership::to_json).collect::<Vec<_>>(),
            "invitations": self.invitations.iter().map(Invitation::to_json).collect::<Vec<_>>(),
        })
    }
}

/// A company's administrators and its open invitations.
pub async fn administrators(
    svc: Services<'_>,
    caller: &Caller,
    company_id: &str,
) -> Result<Administrators, Problem> {
    let store = svc.store;
    let (access, admins, pending) = tokio::join!(
        authorize_or_operator(store, caller, company_id),
        store.administrators(company_id),
        store.pending_invitations(company_id),
    );
    access?;
    let now = svc.clock.now();
    let mut administrators = admins?;
    administrators.sort_by_key(|m| m.created_at);
    let mut invitations: Vec<Invitation> =
        pending?.into_iter().filter(|i| i.is_open(now)).collect();
    invitations.sort_by_key(|i| i.created_at);
    Ok(Administrators {
        administrators,
        invitations,
    })
}

/// Removes an administrator. Administrators may remove co-administrators (themselves too),
/// but never the company's last one; an operator may remove anyone, the last one included
/// (an impostor must be removable), and invites the right person instead.
pub async fn remove_administrator(
    svc: Services<'_>,
    caller: &Caller,
    company_id: &str,
    user_sub: &str,
) -> Result<(), Problem> {
    let store = svc.store;
    let (access, target) = tokio::join!(
        authorize_or_operator(store, caller, company_id),
        store.membership(user_sub, company_id)
    );
    let access = access?;
    let target = target?.ok_or_else(Problem::not_found)?;
    let now = svc.clock.now();
    let audit = audit_entry(
        caller,
        Some(company_id),
        "administrator_removed",
        None,
        json!({"user_id": target.user_sub, "email": target.email}),
        now,
    );
    store
        .remove_administrator(AdministratorRemoval {
            membership: &target,
            // Only an operator may leave a company without an administrator.
            last: if access.is_operator() {
                LastAdministrator::MayRemove
            } else {
                LastAdministrator::Keep
            },
            audit: &audit,
        })
        .await?;
    tracing::info!(company_id, "administrator removed");
    Ok(())
}

/// Lifts an administrator's lockout before it runs out: operators only. 404 `no_lockout` when
/// there is nothing to lift.
pub async fn lift_lockout(
    svc: Services<'_>,
    caller: &Caller,
    user_sub: &str,
) -> Result<u32, Problem> {
    require_operator(caller)?;
    let now = svc.clock.now();
    let audit = audit_entry(
        caller,
        None,
        "lockout_lifted",
        None,
        json!({"user_id": user_sub}),
        now,
    );
    let lifted = svc.lockouts.lift_lockout(user_sub, now, &audit).await?;
    if lifted == 0 {
        return Err(Problem::no_lockout());
    }
    tracing::info!(failures = lifted, "lockout lifted");
    Ok(lifted)
}

/// A company's audit trail, newest first.
pub async fn audit(
    svc: Services<'_>,
    caller: &Caller,
    company_id: &str,
    before: Option<&str>,
    limit: u32,
) -> Result<Page<AuditEntry>, Problem> {
    let (access, page) = tokio::join!(
        authorize_or_operator(svc.store, caller, company_id),
        svc.store.audit_of(
            company_id,
            PageRequest {
                after: before,
                limit
            }
        )
    );
    let _: Access = access?;
    Ok(page?)
}
