//! The `admins` function's use cases against the in-memory store.

use super::*;
use crate::clock::{ManualClock, Timestamp};
use crate::domain::fixtures::{self, field_codes, operator};
use crate::i18n::Lang;
use crate::mail::RecordingMailer;
use crate::store::memory::MemoryStore;
use crate::store::{InvitationStore, StoreError};

const NOW: Timestamp = 1_795_608_000;

/// Counts lifts; the real lockout lives with the booking functions.
#[derive(Default)]
struct Lockouts(std::sync::Mutex<u32>);

#[async_trait::async_trait]
impl LockoutStore for Lockouts {
    async fn lift_lockout(&self, _: &str, _: Timestamp, _: &AuditEntry) -> Result<u32, StoreError> {
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
    person("admin", "admin@klinikk.no")
}

fn person(sub: &str, email: &str) -> Caller {
    Caller {
        email: Some(email.into()),
        email_verified: true,
        ..Caller::new(sub)
    }
}

async fn world() -> World {
    let store = MemoryStore::new();
    let clock = ManualClock::at(NOW);
    let company = fixtures::company(&store, &clock, "Fysio AS", "923609016").await;
    store.add_membership(Membership {
        created_at: NOW,
        ..fixtures::membership("admin", &company)
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
    let left = administrators(w.svc(), &operator(), &w.company)
        .await
        .unwrap();
    assert!(
        left.administrators.is_empty(),
        "the operator removed the last one"
    );
    let last = w.store.audit_entries().pop().unwrap();
    assert_eq!(last.action, "administrator_removed");
    assert_eq!(last.actor_sub, "drift");

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
    assert_eq!(
        field_codes(&err),
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
