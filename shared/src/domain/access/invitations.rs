//! Invitations: sent by an administrator of the company or an operator, with a token of which
//! only the hash is stored, and accepted once by the invited, verified address.

use crate::api_key::constant_time_eq;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::clock::{self, Timestamp};
use crate::i18n::Lang;
use crate::identity::Caller;
use crate::mail::OutgoingMail;
use crate::messages as msg;
use crate::model::{AuditEntry, Company, Invitation, InvitationStatus, Membership};
use crate::problem::{FieldError, Problem};
use crate::store::{InvitationAcceptance, InvitationResend, InvitationWrite, StoreError};
use crate::validate::{self, ObjectReader};

use super::super::{audit_entry, authorize_or_operator};
use super::Services;

/// How long an invitation can be accepted.
pub const INVITATION_VALID_SECONDS: i64 = 14 * 24 * 60 * 60;
/// Open invitations a company may have at once.
pub const MAX_PENDING_INVITATIONS: usize = 20;
/// Re-sends of one invitation per day (Oslo time).
pub const MAX_RESENDS_PER_DAY: u32 = 3;
/// The longest token we accept; ours are 43 characters.
const MAX_TOKEN_CHARS: usize = 128;

/// A new random invitation token: 256 bits from the operating system, URL-safe.
pub fn new_token() -> Result<String, Problem> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Problem::internal().caused_by(format!("no randomness for a token: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored instead of a token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The link in the invitation mail: the admin app with `invitation=<id>&token=<token>`.
pub fn invitation_link(admin_app_url: &str, invitation_id: &str, token: &str) -> String {
    match url::Url::parse(admin_app_url) {
        Ok(mut url) => {
            url.query_pairs_mut()
                .append_pair("invitation", invitation_id)
                .append_pair("token", token);
            url.to_string()
        }
        Err(_) => format!("{admin_app_url}?invitation={invitation_id}&token={token}"),
    }
}

/// The Oslo day an instant falls on, and the instant the next one starts.
fn oslo_day(now: Timestamp) -> (String, Timestamp) {
    let offset = clock::oslo_offset(now);
    let (y, m, d, ..) = clock::civil(now + offset);
    let next_local_midnight = ((now + offset).div_euclid(86_400) + 1) * 86_400;
    (
        format!("{y:04}-{m:02}-{d:02}"),
        next_local_midnight - offset,
    )
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewInvitation {
    pub email: String,
    pub language: Lang,
}

impl NewInvitation {
    pub fn from_json(body: &Map<String, Value>) -> Result<Self, Problem> {
        let mut r = ObjectReader::new(body, &["email", "language"])?;
        let email = r.text("email", true, validate::EMAIL);
        let language = r.text("language", false, validate::SHORT_CODE);
        let mut errors = std::mem::take(&mut r.errors);
        let language = match language.as_deref() {
            None | Some("nb") => Lang::Nb,
            Some("en") => Lang::En,
            Some(_) => {
                errors.push(FieldError::new(
                    "language",
                    "unknown_language",
                    msg::UNKNOWN_LANGUAGE,
                ));
                Lang::Nb
            }
        };
        if !errors.is_empty() {
            return Err(Problem::validation(errors));
        }
        Ok(NewInvitation {
            email: email.unwrap_or_default().to_lowercase(),
            language,
        })
    }
}

pub struct Invited {
    pub invitation: Invitation,
    /// An open invitation to the same address existed and was sent again.
    pub resent: bool,
}

/// Invites `new.email` to administer the company, or sends the open invitation to that
/// address again (with a new token: the old link stops working).
///
/// The mail goes out before anything is written: if it cannot be sent, nothing is stored and
/// nothing is audited. A write that fails after the mail left leaves a link that does not
/// work, which the inviter's next attempt replaces.
pub async fn invite(
    svc: Services<'_>,
    caller: &Caller,
    company_id: &str,
    new: NewInvitation,
) -> Result<Invited, Problem> {
    let new = NewInvitation {
        email: new.email.to_lowercase(),
        ..new
    };
    let store = svc.store;
    let (access, company, pending, admins) = tokio::join!(
        authorize_or_operator(store, caller, company_id),
        store.company(company_id),
        store.pending_invitations(company_id),
        store.administrators(company_id),
    );
    access?;
    let company = company?.ok_or_else(Problem::not_found)?;
    let now = svc.clock.now();
    if admins?.iter().any(|a| {
        a.email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(&new.email))
    }) {
        return Err(Problem::already_administrator());
    }
    let open: Vec<Invitation> = pending?.into_iter().filter(|i| i.is_open(now)).collect();
    let token = new_token()?;
    let (today, tomorrow) = oslo_day(now);

    if let Some(existing) = open.iter().find(|i| i.email == new.email) {
        let resends_today = if existing.sends_day == today {
            existing.sends_that_day
        } else {
            0
        };
        if resends_today >= MAX_RESENDS_PER_DAY {
            return Err(Problem::invitation_resend_limit(
                MAX_RESENDS_PER_DAY,
                tomorrow,
                now,
            ));
        }
        let mut resent = existing.clone();
        resent.token_hash = token_hash(&token);
        resent.valid_until = now + INVITATION_VALID_SECONDS;
        resent.sends_day = today;
        resent.sends_that_day = resends_today + 1;
        resent.language = new.language;
        send_invitation(svc, caller, &company, &resent, &token).await?;
        let audit = invited_entry(caller, &resent, true, now);
        store
            .resend_invitation(InvitationResend {
                invitation: &resent,
                previous_hash: &existing.token_hash,
                audit: &audit,
            })
            .await?;
        crate::metrics::invitation_sent();
        tracing::info!(company_id, invitation_id = %resent.id, "invitation sent again");
        return Ok(Invited {
            invitation: resent,
            resent: true,
        });
    }

    if open.len() >= MAX_PENDING_INVITATIONS {
        return Err(Problem::too_many_invitations(MAX_PENDING_INVITATIONS));
    }
    let invitation = Invitation {
        id: super::super::new_id(),
        company_id: company_id.to_string(),
        email: new.email,
        language: new.language,
        token_hash: token_hash(&token),
        status: InvitationStatus::Pending,
        created_at: now,
        valid_until: now + INVITATION_VALID_SECONDS,
        invited_by_sub: caller.sub.clone(),
        invited_by_email: caller.verified_email().map(str::to_string),
        sends_day: today,
        sends_that_day: 0,
        accepted_by: None,
        closed_at: None,
    };
    send_invitation(svc, caller, &company, &invitation, &token).await?;
    let audit = invited_entry(caller, &invitation, false, now);
    let write = InvitationWrite {
        invitation: &invitation,
        now,
        audit: &audit,
    };
    match store.create_invitation(write).await {
        Ok(()) => {}
        // Another invitation to the same address was created at the same moment.
        Err(StoreError::AlreadyExists) => return Err(Problem::changed_meanwhile()),
        Err(e) => return Err(e.into()),
    }
    crate::metrics::invitation_sent();
    tracing::info!(company_id, invitation_id = %invitation.id, "administrator invited");
    Ok(Invited {
        invitation,
        resent: false,
    })
}

/// What the trail keeps of an invitation sent, the first time or again.
fn invited_entry(
    caller: &Caller,
    invitation: &Invitation,
    resent: bool,
    now: Timestamp,
) -> AuditEntry {
    audit_entry(
        caller,
        Some(&invitation.company_id),
        "administrator_invited",
        None,
        json!({"email": invitation.email, "invitation_id": invitation.id, "resent": resent}),
        now,
    )
}

async fn send_invitation(
    svc: Services<'_>,
    caller: &Caller,
    company: &Company,
    invitation: &Invitation,
    token: &str,
) -> Result<(), Problem> {
    let inviter = caller
        .name
        .clone()
        .or_else(|| caller.verified_email().map(str::to_string))
        .unwrap_or_else(|| "Bookinglink".to_string());
    let link = invitation_link(svc.admin_app_url, &invitation.id, token);
    let (subject, text) = msg::invitation_mail(
        invitation.language,
        &company.name,
        &inviter,
        &link,
        &clock::oslo_datetime(invitation.valid_until),
    );
    let mail = OutgoingMail {
        to: vec![invitation.email.clone()],
        cc: Vec::new(),
        reply_to: caller
            .verified_email()
            .map(str::to_string)
            .into_iter()
            .collect(),
        subject,
        text,
    };
    svc.mailer
        .send(&mail)
        .await
        .map(|_| ())
        .map_err(|e| Problem::from(&e))
}

/// An invitation of this company that is still open, or the answer for one that is not.
async fn open_invitation_of(
    svc: Services<'_>,
    company_id: &str,
    invitation_id: &str,
    now: Timestamp,
) -> Result<Invitation, Problem> {
    let invitation = svc
        .store
        .invitation(invitation_id)
        .await?
        .filter(|i| i.company_id == company_id)
        .ok_or_else(Problem::not_found)?;
    closed_problem(&invitation, now).map_or(Ok(invitation), Err)
}

/// Why an invitation can no longer be accepted, if it cannot.
fn closed_problem(invitation: &Invitation, now: Timestamp) -> Option<Problem> {
    match invitation.status {
        InvitationStatus::Revoked => Some(Problem::invitation_gone("invitation_revoked")),
        InvitationStatus::Accepted => Some(Problem::invitation_gone("invitation_used")),
        InvitationStatus::Pending if invitation.valid_until <= now => {
            Some(Problem::invitation_gone("invitation_expired"))
        }
        InvitationStatus::Pending => None,
    }
}

pub async fn revoke(
    svc: Services<'_>,
    caller: &Caller,
    company_id: &str,
    invitation_id: &str,
) -> Result<(), Problem> {
    authorize_or_operator(svc.store, caller, company_id).await?;
    let now = svc.clock.now();
    let invitation = open_invitation_of(svc, company_id, invitation_id, now).await?;
    let audit = audit_entry(
        caller,
        Some(company_id),
        "invitation_revoked",
        None,
        json!({"email": invitation.email, "invitation_id": invitation.id}),
        now,
    );
    svc.store
        .revoke_invitation(InvitationWrite {
            invitation: &invitation,
            now,
            audit: &audit,
        })
        .await?;
    tracing::info!(company_id, invitation_id, "invitation revoked");
    Ok(())
}

/// The token of `POST /v1/invitations/{id}/accept`.
pub fn token_from_json(body: &Map<String, Value>) -> Result<String, Problem> {
    let mut r = ObjectReader::new(body, &["token"])?;
    let token = r.text("token", true, validate::TextRule::plain(MAX_TOKEN_CHARS));
    r.finish()?;
    Ok(token.unwrap_or_default())
}

pub struct Accepted {
    pub membership: Membership,
    pub company: Company,
}

impl Accepted {
    pub fn to_json(&self) -> Value {
        json!({
            "company": self.company.to_json(),
            "administrator": self.membership.to_json(),
        })
    }
}

/// Makes the caller an administrator of the invitation's company, once. The token must be the
/// invitation's, and the caller's verified e-mail the invited one; only then is the caller
/// told whether the invitation is still open. Accepting again is answered as the first time.
pub async fn accept(
    svc: Services<'_>,
    caller: &Caller,
    invitation_id: &str,
    token: &str,
) -> Result<Accepted, Problem> {
    let store = svc.store;
    let invitation = store
        .invitation(invitation_id)
        .await?
        .ok_or_else(Problem::not_found)?;
    if !constant_time_eq(
        token_hash(token).as_bytes(),
        invitation.token_hash.as_bytes(),
    ) {
        tracing::info!(invitation_id, "invitation token refused");
        return Err(Problem::invitation_forbidden("invitation_token_invalid"));
    }
    let Some(email) = caller.verified_email() else {
        return Err(Problem::invitation_forbidden("email_not_verified"));
    };
    if !email.eq_ignore_ascii_case(&invitation.email) {
        return Err(Problem::invitation_forbidden("invitation_email_mismatch"));
    }
    let company_id = invitation.company_id.clone();
    let (existing, company) = tokio::join!(
        store.membership(&caller.sub, &company_id),
        store.company(&company_id)
    );
    let company = company?.ok_or_else(Problem::not_found)?;
    if let Some(membership) = existing? {
        return Ok(Accepted {
            membership,
            company,
        });
    }
    let now = svc.clock.now();
    if let Some(problem) = closed_problem(&invitation, now) {
        return Err(problem);
    }
    let membership = Membership {
        user_sub: caller.sub.clone(),
        company_id: company_id.clone(),
        email: Some(invitation.email.clone()),
        name: caller.name.clone(),
        created_at: now,
        invited_by: Some(invitation.invited_by()),
    };
    let audit = audit_entry(
        caller,
        Some(&company_id),
        "administrator_joined",
        None,
        json!({"user_id": caller.sub, "email": invitation.email, "invitation_id": invitation.id}),
        now,
    );
    match store
        .accept_invitation(InvitationAcceptance {
            invitation: &invitation,
            membership: &membership,
            now,
            audit: &audit,
        })
        .await
    {
        Ok(()) => {
            tracing::info!(company_id = %company_id, invitation_id, "invitation accepted");
            Ok(Accepted {
                membership,
                company,
            })
        }
        // Someone accepted first: the same caller (a second tab) gets the membership it made.
        Err(StoreError::Changed | StoreError::AlreadyExists) => {
            match store.membership(&caller.sub, &company_id).await? {
                Some(membership) => Ok(Accepted {
                    membership,
                    company,
                }),
                None => {
                    let current = store.invitation(invitation_id).await?;
                    Err(current
                        .and_then(|i| closed_problem(&i, now))
                        .unwrap_or_else(|| Problem::invitation_gone("invitation_used")))
                }
            }
        }
        Err(e) => Err(e.into()),
    }
}
