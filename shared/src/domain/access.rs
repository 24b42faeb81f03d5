//! Who administers which company: invitations (sent by an administrator of the company or an
//! operator, accepted by the invited, verified address), the administrators list, removing an
//! administrator, the caller's own view (`GET /v1/me`), lifting a lockout and reading the
//! audit trail. Every change writes its audit entry in the same transaction.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::clock::{self, Clock, Timestamp};
use crate::i18n::Lang;
use crate::identity::Caller;
use crate::mail::{Mailer, OutgoingMail};
use crate::messages as msg;
use crate::model::{AuditEntry, Company, Invitation, InvitationStatus, Membership, Page};
use crate::problem::{FieldError, Problem};
use crate::store::{AdminStore, LockoutStore, StoreError};
use crate::validate::{self, ObjectReader};

use super::{Access, audit_entry, authorize_or_operator, require_operator};

/// How long an invitation can be accepted.
pub const INVITATION_VALID_SECONDS: i64 = 14 * 24 * 60 * 60;
/// Open invitations a company may have at once.
pub const MAX_PENDING_INVITATIONS: usize = 20;
/// Re-sends of one invitation per day (Oslo time).
pub const MAX_RESENDS_PER_DAY: u32 = 3;
/// The longest token we accept; ours are 43 characters.
const MAX_TOKEN_CHARS: usize = 128;

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

/// A new random invitation token: 256 bits from the operating system, URL-safe.
pub fn new_token() -> Result<String, Problem> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        tracing::error!(error = %e, "no randomness for an invitation token");
        Problem::internal()
    })?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored instead of a token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
        let email = r.text_with("email", true, validate::EMAIL, validate::email);
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
            return Err(Problem::too_many_requests(
                "invitation_resend_limit",
                msg::invitation_resend_limit_detail(MAX_RESENDS_PER_DAY),
                tomorrow - now,
                tomorrow,
            ));
        }
        let mut resent = existing.clone();
        resent.token_hash = token_hash(&token);
        resent.valid_until = now + INVITATION_VALID_SECONDS;
        resent.sends_day = today;
        resent.sends_that_day = resends_today + 1;
        resent.language = new.language;
        send_invitation(svc, caller, &company, &resent, &token).await?;
        let audit = audit_entry(
            caller,
            Some(company_id),
            "administrator_invited",
            None,
            json!({"email": resent.email, "invitation_id": resent.id, "resent": true}),
            now,
        );
        store
            .resend_invitation(&resent, &existing.token_hash, &audit)
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
        id: super::new_id(),
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
    let audit = audit_entry(
        caller,
        Some(company_id),
        "administrator_invited",
        None,
        json!({"email": invitation.email, "invitation_id": invitation.id, "resent": false}),
        now,
    );
    match store.create_invitation(&invitation, &audit, now).await {
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
        .map_err(|e| super::request_details::mail_problem(&e))
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
        .revoke_invitation(&invitation, now, &audit)
        .await?;
    tracing::info!(company_id, invitation_id, "invitation revoked");
    Ok(())
}

/// The token of `POST /v1/invitations/{id}/accept`.
pub fn token_from_json(body: &Map<String, Value>) -> Result<String, Problem> {
    let mut r = ObjectReader::new(body, &["token"])?;
    let token = r.text(
        "token",
        true,
        validate::TextRule {
            max_chars: MAX_TOKEN_CHARS,
        },
    );
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
        .accept_invitation(&invitation, &membership, now, &audit)
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
        .remove_administrator(company_id, user_sub, access.is_operator(), &audit)
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
        svc.store.audit_of(company_id, before, limit)
    );
    let _: Access = access?;
    Ok(page?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::mail::RecordingMailer;
    use crate::store::InvitationStore;
    use crate::store::memory::MemoryStore;

    const NOW: Timestamp = 1_795_608_000;

    /// Counts lifts; the real lockout lives with the booking functions.
    #[derive(Default)]
    struct Lockouts(std::sync::Mutex<u32>);

    #[async_trait::async_trait]
    impl LockoutStore for Lockouts {
        async fn lift_lockout(
            &self,
            _: &str,
            _: Timestamp,
            _: &AuditEntry,
        ) -> Result<u32, StoreError> {
            let mut failures = self.0.lock().unwrap();
            let lifted = *failures;
            *failures = 0;
            Ok(lifted)
        }
    }

    struct World {
        store: MemoryStore,
        lockouts: Lockouts,
        mailer: RecordingMailer,
        clock: ManualClock,
        company: String,
    }

    impl World {
        fn svc(&self) -> Services<'_> {
            Services {
                store: &self.store,
                lockouts: &self.lockouts,
                mailer: &self.mailer,
                clock: &self.clock,
                admin_app_url: "https://admin.example.no/",
            }
        }

        async fn invite(&self, email: &str) -> Result<(Invitation, String), Problem> {
            let new = NewInvitation {
                email: email.into(),
                language: Lang::Nb,
            };
            let invited = invite(self.svc(), &admin(), &self.company, new).await?;
            let mail = self.mailer.sent().pop().unwrap();
            let token = mail
                .text
                .split("token=")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .unwrap()
                .to_string();
            Ok((invited.invitation, token))
        }
    }

    fn admin() -> Caller {
        Caller {
            email: Some("admin@klinikk.no".into()),
            email_verified: true,
            ..Caller::new("admin")
        }
    }

    fn person(sub: &str, email: &str) -> Caller {
        Caller {
            email: Some(email.into()),
            email_verified: true,
            ..Caller::new(sub)
        }
    }

    fn operator() -> Caller {
        Caller {
            operator: true,
            ..Caller::new("drift")
        }
    }

    async fn world() -> World {
        let store = MemoryStore::new();
        let clock = ManualClock::at(NOW);
        let company = super::super::companies::create(
            &store,
            &clock,
            &operator(),
            super::super::companies::NewCompany {
                name: "Fysio AS".into(),
                org_number: "923609016".into(),
                invoice_email: None,
            },
        )
        .await
        .unwrap()
        .id;
        store.add_membership(Membership {
            user_sub: "admin".into(),
            company_id: company.clone(),
            email: Some("admin@klinikk.no".into()),
            name: None,
            created_at: NOW,
            invited_by: None,
        });
        World {
            store,
            lockouts: Lockouts::default(),
            mailer: RecordingMailer::new(),
            clock,
            company,
        }
    }

    #[test]
    fn tokens_are_long_random_and_only_their_hash_is_kept() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "256 bits, base64url without padding");
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        let link = invitation_link("https://admin.example.no/app", "id-1", &a);
        assert_eq!(
            link,
            format!("https://admin.example.no/app?invitation=id-1&token={a}")
        );
    }

    #[tokio::test]
    async fn an_invited_verified_address_joins_once_with_its_address_on_the_membership() {
        let w = world().await;
        let (invitation, token) = w.invite("Nina@Klinikk.no").await.unwrap();
        assert_eq!(invitation.email, "nina@klinikk.no");
        assert_eq!(w.mailer.sent()[0].to, ["nina@klinikk.no"]);
        let nina = person("nina", "NINA@klinikk.no");
        let joined = accept(w.svc(), &nina, &invitation.id, &token)
            .await
            .unwrap();
        assert_eq!(joined.membership.email.as_deref(), Some("nina@klinikk.no"));
        assert_eq!(
            joined.membership.invited_by.as_deref(),
            Some("admin@klinikk.no")
        );
        // Again: the same answer, no second membership or entry.
        accept(w.svc(), &nina, &invitation.id, &token)
            .await
            .unwrap();
        let joins = w
            .store
            .audit_entries()
            .iter()
            .filter(|e| e.action == "administrator_joined")
            .count();
        assert_eq!(joins, 1);
        let list = administrators(w.svc(), &admin(), &w.company).await.unwrap();
        assert_eq!(list.administrators.len(), 2);
        assert!(list.invitations.is_empty());
    }

    #[tokio::test]
    async fn only_the_token_and_the_verified_invited_address_open_an_invitation() {
        let w = world().await;
        let (invitation, token) = w.invite("nina@klinikk.no").await.unwrap();
        let code = |r: Result<Accepted, Problem>| r.map(|_| ()).unwrap_err().code;
        let nina = person("nina", "nina@klinikk.no");
        assert_eq!(
            code(accept(w.svc(), &nina, &invitation.id, "feil").await),
            "invitation_token_invalid"
        );
        let mut unverified = nina.clone();
        unverified.email_verified = false;
        assert_eq!(
            code(accept(w.svc(), &unverified, &invitation.id, &token).await),
            "email_not_verified"
        );
        let kari = person("kari", "kari@klinikk.no");
        assert_eq!(
            code(accept(w.svc(), &kari, &invitation.id, &token).await),
            "invitation_email_mismatch"
        );
        w.clock.advance(INVITATION_VALID_SECONDS);
        assert_eq!(
            code(accept(w.svc(), &nina, &invitation.id, &token).await),
            "invitation_expired"
        );
        let entries: Vec<String> = w
            .store
            .audit_entries()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            entries,
            ["company_created", "administrator_invited"],
            "refusals write nothing"
        );
    }

    #[tokio::test]
    async fn outsiders_cannot_invite_and_operators_can() {
        let w = world().await;
        let new = || NewInvitation {
            email: "x@klinikk.no".into(),
            language: Lang::En,
        };
        let err = invite(w.svc(), &person("kari", "kari@x.no"), &w.company, new())
            .await
            .map(|_| ())
            .unwrap_err();
        assert_eq!(err.status, 404);
        assert!(w.mailer.sent().is_empty());
        invite(w.svc(), &operator(), &w.company, new())
            .await
            .unwrap();
        assert!(w.mailer.sent()[0].subject.starts_with("You are invited"));
    }

    #[tokio::test]
    async fn a_mail_that_cannot_be_sent_leaves_nothing_behind() {
        let w = world().await;
        w.mailer.fail_with(Some(crate::mail::MailError::Throttled));
        let err = w.invite("nina@klinikk.no").await.map(|_| ()).unwrap_err();
        assert_eq!(err.code, "mail_throttled");
        assert!(
            w.store
                .pending_invitations(&w.company)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            w.store.audit_entries().len(),
            1,
            "only the company's registration"
        );
    }

    #[tokio::test]
    async fn administrators_keep_the_last_one_and_operators_lift_lockouts() {
        let w = world().await;
        let err = remove_administrator(w.svc(), &admin(), &w.company, "admin")
            .await
            .unwrap_err();
        assert_eq!((err.status, err.code), (409, "last_administrator"));
        remove_administrator(w.svc(), &operator(), &w.company, "admin")
            .await
            .unwrap();

        let err = lift_lockout(w.svc(), &admin(), "ola").await.unwrap_err();
        assert_eq!((err.status, err.code), (403, "operator_only"));
        *w.lockouts.0.lock().unwrap() = 5;
        assert_eq!(lift_lockout(w.svc(), &operator(), "ola").await.unwrap(), 5);
        let err = lift_lockout(w.svc(), &operator(), "ola").await.unwrap_err();
        assert_eq!(err.code, "no_lockout");
    }

    #[test]
    fn invitation_input_is_validated() {
        let body = json!({"email": "nei", "language": "de"});
        let err = NewInvitation::from_json(body.as_object().unwrap()).unwrap_err();
        let fields: Vec<_> = err
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.code))
            .collect();
        assert_eq!(
            fields,
            [("email", "invalid_email"), ("language", "unknown_language")]
        );
        let body = json!({"email": "a@b.no", "extra": 1});
        assert_eq!(
            NewInvitation::from_json(body.as_object().unwrap())
                .unwrap_err()
                .status,
            400
        );
    }
}
