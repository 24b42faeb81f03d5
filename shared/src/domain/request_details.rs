//! "Forespør detaljer": the pre-written request a clinic sends its booking-system
//! vendor for the connection details, shown to copy ([`preview`]) or sent for them through
//! the configured mailer ([`send`]), at most [`SENDS_PER_WINDOW`] times per location and system
//! in [`WINDOW_SECONDS`].

use serde_json::{Map, Value, json};

use crate::catalog::{self, BookingSystem, RequestContext};
use crate::clock::{self, Clock, Timestamp};
use crate::i18n::Lang;
use crate::identity::Caller;
use crate::mail::{Mailer, OutgoingMail};
use crate::messages as msg;
use crate::metrics;
use crate::model::{Company, DetailsRequest, Location, Membership};
use crate::problem::{FieldError, Problem};
use crate::store::{RequestDetailsStore, SlotReservation, Store};
use crate::validate::{self, ObjectReader};

use super::{audit_entry, authorize};

pub const SENDS_PER_WINDOW: u32 = 3;
pub const WINDOW_SECONDS: i64 = 24 * 60 * 60;

/// The system named by `?system=` or the body's `system`: 422 naming `system` when missing or
/// not in the catalog.
pub fn system_from_query(raw: Option<&str>) -> Result<&'static BookingSystem, Problem> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Err(Problem::validation(vec![FieldError::new(
            "system",
            "required",
            msg::REQUIRED,
        )])),
        Some(id) => catalog::system(id).ok_or_else(unknown_system),
    }
}

pub fn system_from_json(body: &Map<String, Value>) -> Result<&'static BookingSystem, Problem> {
    let mut r = ObjectReader::new(body, &["system"])?;
    let id = r.text("system", true, validate::SHORT_CODE);
    r.finish()?;
    system_from_query(id.as_deref())
}

fn unknown_system() -> Problem {
    Problem::validation(vec![FieldError::new(
        "system",
        "unknown_system",
        msg::UNKNOWN_BOOKING_SYSTEM,
    )])
}

/// The request as the administrator sees it and the vendor receives it.
#[derive(Clone, Debug)]
pub struct PreparedRequest {
    pub system: &'static BookingSystem,
    pub to: String,
    pub phone: Option<String>,
    /// The administrator, whom the vendor should answer; empty if we know no address.
    pub admin_email: Option<String>,
    pub subject: String,
    pub body: String,
}

impl PreparedRequest {
    pub fn to_json(&self) -> Value {
        json!({
            "system": self.system.id,
            "system_name": self.system.name,
            "vendor": self.system.vendor,
            "to": self.to,
            "phone": self.phone,
            "cc": self.admin_email,
            "reply_to": self.admin_email,
            "subject": self.subject,
            "body": self.body,
        })
    }
}

/// The administrator as the request names them. The address is the one stored on the
/// membership (invited and verified when they joined), never the token's claim: the vendor
/// answers there with the clinic's connection details. The name may come from the token.
fn admin_of(caller: &Caller, membership: &Membership) -> (Option<String>, Option<String>) {
    let email = membership.email.clone();
    let name = caller.name.clone().or_else(|| membership.name.clone());
    (name, email)
}

fn address_line(location: &Location) -> String {
    let a = &location.address;
    format!("{}, {} {}", a.street, a.postal_code, a.city)
}

fn prepare(
    system: &'static BookingSystem,
    lang: Lang,
    company: &Company,
    location: &Location,
    admin_name: Option<&str>,
    admin_email: Option<&str>,
) -> PreparedRequest {
    let ctx = RequestContext {
        company_name: company.name.clone(),
        org_number: company.org_number.clone(),
        location_name: location.name.clone(),
        location_address: address_line(location),
        admin_name: admin_name.or(admin_email).unwrap_or_default().to_string(),
        admin_email: admin_email.unwrap_or_default().to_string(),
    };
    let (subject, body) = catalog::request_text(system, lang, &ctx);
    PreparedRequest {
        system,
        to: system.contact.email.to_string(),
        phone: system.contact.phone.map(str::to_string),
        admin_email: admin_email.map(str::to_string),
        subject,
        body,
    }
}

/// Authorizes and reads what the request is filled with, in one round trip.
async fn load(
    store: &dyn Store,
    caller: &Caller,
    company_id: &str,
    location_id: &str,
) -> Result<(Membership, Company, Location), Problem> {
    let (membership, company, location) = tokio::join!(
        authorize(store, caller, company_id),
        store.company(company_id),
        store.location(company_id, location_id)
    );
    let membership = membership?;
    let company = company?.ok_or_else(Problem::not_found)?;
    let location = location?.ok_or_else(Problem::not_found)?;
    Ok((membership, company, location))
}

pub async fn preview(
    store: &dyn Store,
    caller: &Caller,
    company_id: &str,
    location_id: &str,
    system: &'static BookingSystem,
    lang: Lang,
) -> Result<PreparedRequest, Problem> {
    let (membership, company, location) = load(store, caller, company_id, location_id).await?;
    let (name, email) = admin_of(caller, &membership);
    Ok(prepare(
        system,
        lang,
        &company,
        &location,
        name.as_deref(),
        email.as_deref(),
    ))
}

#[derive(Clone, Debug)]
pub struct SentRequest {
    pub message_id: String,
    pub request: PreparedRequest,
    pub record: DetailsRequest,
}

impl SentRequest {
    pub fn to_json(&self) -> Value {
        json!({
            "message_id": self.message_id,
            "system": self.request.system.id,
            "to": self.request.to,
            "cc": self.request.admin_email,
            "reply_to": self.request.admin_email,
            "subject": self.request.subject,
            "requested_at": clock::rfc3339(self.record.requested_at),
        })
    }
}

/// What [`send`] works with.
#[derive(Clone, Copy)]
pub struct Services<'a> {
    pub store: &'a dyn RequestDetailsStore,
    pub mailer: &'a dyn Mailer,
    pub clock: &'a dyn Clock,
}

/// Sends the request to the vendor, with the administrator in Cc and as Reply-To so the vendor
/// answers them directly. A send slot is taken before the mail goes out and given back if the
/// mail service refuses it, so only mails that left count against the limit.
pub async fn send(
    Services {
        store,
        mailer,
        clock,
    }: Services<'_>,
    caller: &Caller,
    company_id: &str,
    location_id: &str,
    system: &'static BookingSystem,
    lang: Lang,
) -> Result<SentRequest, Problem> {
    let (membership, company, location) = load(store, caller, company_id, location_id).await?;
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

    let now = clock.now();
    let slot = match store
        .reserve_send_slot(
            location_id,
            system.id,
            SENDS_PER_WINDOW,
            now,
            WINDOW_SECONDS,
        )
        .await?
    {
        SlotReservation::Reserved(slot) => slot,
        SlotReservation::Full { retry_at } => {
            tracing::info!(
                company_id,
                location_id,
                system = system.id,
                "details request limit reached"
            );
            return Err(limit_reached(system, now, retry_at));
        }
    };

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
            if let Err(release) = store.release_send_slot(&slot).await {
                // The slot then frees itself when it expires; the caller's answer is the mail's.
                tracing::error!(error = %release, "could not release the send slot");
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
        .record_details_request(company_id, location_id, &record, &audit)
        .await
    {
        tracing::error!(error = %err, company_id, location_id, "details request sent but not recorded");
    }
    tracing::info!(company_id, location_id, system = system.id, message_id = %message_id, "details request sent");
    Ok(SentRequest {
        message_id,
        request,
        record,
    })
}

fn limit_reached(system: &BookingSystem, now: Timestamp, retry_at: Timestamp) -> Problem {
    let (y, m, d, hh, mm, _) = clock::civil(retry_at + clock::oslo_offset(retry_at));
    let when_en = format!("{d:02}.{m:02}.{y:04} at {hh:02}:{mm:02} (Oslo time)");
    let detail = msg::details_send_limit_detail(
        system.name,
        SENDS_PER_WINDOW,
        &clock::oslo_datetime(retry_at),
        &when_en,
    );
    Problem::details_request_limit(detail, retry_at, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::domain::{companies, locations};
    use crate::mail::{MailError, RecordingMailer};
    use crate::store::LocationStore;
    use crate::store::memory::MemoryStore;

    const NOW: Timestamp = 1_795_608_000; // 25.11.2026 13:00 in Oslo

    fn caller(sub: &str) -> Caller {
        Caller {
            email: Some(format!("{sub}@klinikk.no")),
            email_verified: true,
            name: Some("Åse Ødegård".into()),
            ..Caller::new(sub)
        }
    }

    struct World {
        store: MemoryStore,
        mailer: RecordingMailer,
        clock: ManualClock,
        company: String,
        location: String,
    }

    async fn world() -> World {
        let store = MemoryStore::new();
        let clock = ManualClock::at(NOW);
        let operator = Caller {
            operator: true,
            ..Caller::new("drift")
        };
        let company = companies::create(
            &store,
            &clock,
            &operator,
            companies::NewCompany {
                name: "Fysio Blåbær AS".into(),
                org_number: "923609016".into(),
                invoice_email: None,
            },
        )
        .await
        .unwrap()
        .id;
        // Ola joined with the address he was invited at; the token may say otherwise.
        store.add_membership(Membership {
            user_sub: "ola".into(),
            company_id: company.clone(),
            email: Some("ola@klinikk.no".into()),
            name: Some("Åse Ødegård".into()),
            created_at: NOW,
            invited_by: Some("drift@bookinglink.no".into()),
        });
        let body = json!({
            "name": "Grünerløkka",
            "address": {"street": "Thorvald Meyers gate 30", "postal_code": "0555", "city": "Oslo"},
            "phone": "+47 22 00 00 02",
            "email": "post@klinikk.no"
        });
        let new = locations::NewLocation::from_json(body.as_object().unwrap()).unwrap();
        let location = locations::create(&store, &clock, &caller("ola"), &company, new)
            .await
            .unwrap()
            .id;
        World {
            store,
            mailer: RecordingMailer::new(),
            clock,
            company,
            location,
        }
    }

    impl World {
        async fn send(&self, who: &Caller, system: &str) -> Result<SentRequest, Problem> {
            send(
                Services {
                    store: &self.store,
                    mailer: &self.mailer,
                    clock: &self.clock,
                },
                who,
                &self.company,
                &self.location,
                catalog::system(system).unwrap(),
                Lang::Nb,
            )
            .await
        }
    }

    #[tokio::test]
    async fn the_preview_is_filled_from_our_records_and_the_caller() {
        let w = world().await;
        for system in catalog::systems() {
            for lang in [Lang::Nb, Lang::En] {
                let p = preview(
                    &w.store,
                    &caller("ola"),
                    &w.company,
                    &w.location,
                    system,
                    lang,
                )
                .await
                .unwrap();
                assert_eq!(p.to, system.contact.email);
                assert_eq!(p.phone.as_deref(), system.contact.phone);
                assert!(p.subject.contains("Fysio Blåbær AS (923609016)"));
                assert!(p.subject.contains("Grünerløkka"));
                assert!(p.body.contains("Thorvald Meyers gate 30, 0555 Oslo"));
                assert!(p.body.contains("Åse Ødegård (ola@klinikk.no)"));
                for field in system.fields {
                    assert!(p.body.contains(field.label.get(lang)), "{}", system.id);
                }
            }
        }
    }

    #[tokio::test]
    async fn sending_mails_the_vendor_with_the_admin_in_cc_and_reply_to() {
        let w = world().await;
        let sent = w.send(&caller("ola"), "pasientsky").await.unwrap();
        let mails = w.mailer.sent();
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].to, ["support@patientsky.com"]);
        assert_eq!(mails[0].cc, ["ola@klinikk.no"]);
        assert_eq!(mails[0].reply_to, ["ola@klinikk.no"]);
        assert_eq!(mails[0].subject, sent.request.subject);
        let location = w
            .store
            .location(&w.company, &w.location)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(location.version, 1, "recording does not bump the version");
        assert_eq!(location.details_requests, vec![sent.record]);
        assert_eq!(location.details_requests[0].requested_at, NOW);
    }

    #[tokio::test]
    async fn the_fourth_send_in_a_day_is_refused_until_the_first_expires() {
        let w = world().await;
        for _ in 0..3 {
            w.send(&caller("ola"), "hano").await.unwrap();
            w.clock.advance(600);
        }
        let err = w.send(&caller("ola"), "hano").await.unwrap_err();
        assert_eq!((err.status, err.code), (429, "details_request_limit"));
        let retry_after: i64 = err.headers[0].1.parse().unwrap();
        assert_eq!(retry_after, WINDOW_SECONDS - 1_800);
        assert!(
            err.detail.nb.contains("26.11.2026 kl. 13:00"),
            "{}",
            err.detail.nb
        );
        // Another system has its own limit.
        w.send(&caller("ola"), "konfidens").await.unwrap();
        w.clock.advance(retry_after);
        w.send(&caller("ola"), "hano").await.unwrap();
        assert_eq!(w.mailer.sent().len(), 5);
    }

    #[tokio::test]
    async fn a_refused_mail_gives_its_slot_back() {
        let w = world().await;
        let recording = metrics::record();
        w.mailer
            .fail_with(Some(MailError::Rejected("not verified".into())));
        for _ in 0..4 {
            let err = w.send(&caller("ola"), "hano").await.unwrap_err();
            assert_eq!((err.status, err.code), (502, "mail_rejected"));
        }
        w.mailer.fail_with(Some(MailError::Throttled));
        let err = w.send(&caller("ola"), "hano").await.unwrap_err();
        assert_eq!((err.status, err.code), (503, "mail_throttled"));
        w.mailer.fail_with(None);
        for _ in 0..3 {
            w.send(&caller("ola"), "hano").await.unwrap();
        }
        assert_eq!(recording.total(&metrics::DETAILS_MAILS_SENT), 3.0);
        let refused = recording.values(&metrics::DETAILS_MAILS_REFUSED);
        let reasons: Vec<&str> = refused
            .iter()
            .map(|(_, dims)| dims["Reason"].as_str().unwrap())
            .collect();
        assert_eq!(
            reasons,
            ["rejected", "rejected", "rejected", "rejected", "throttled"]
        );
        // The limit refusing a fourth request sends nothing and counts nothing.
        w.send(&caller("ola"), "hano").await.unwrap_err();
        assert_eq!(recording.lines().len(), 8);
        let location = w
            .store
            .location(&w.company, &w.location)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(location.details_requests.len(), 1);
    }

    #[tokio::test]
    async fn outsiders_get_404_and_nothing_is_sent() {
        let w = world().await;
        let err = w.send(&caller("kari"), "hano").await.unwrap_err();
        assert_eq!(err.status, 404);
        assert!(w.mailer.sent().is_empty());
    }

    #[tokio::test]
    async fn the_vendor_answers_the_stored_verified_address_never_the_tokens_claim() {
        let w = world().await;
        let mut ola = caller("ola");
        ola.email = Some("someone-else@example.com".into());
        let preview = preview(
            &w.store,
            &ola,
            &w.company,
            &w.location,
            catalog::system("hano").unwrap(),
            Lang::Nb,
        )
        .await
        .unwrap();
        assert_eq!(preview.admin_email.as_deref(), Some("ola@klinikk.no"));
        w.send(&ola, "hano").await.unwrap();
        let mail = &w.mailer.sent()[0];
        assert_eq!(mail.cc, ["ola@klinikk.no"]);
        assert_eq!(mail.reply_to, ["ola@klinikk.no"]);
        assert!(!format!("{mail:?}").contains("someone-else"));

        w.store.add_membership(Membership {
            user_sub: "per".into(),
            company_id: w.company.clone(),
            email: None,
            name: None,
            created_at: NOW,
            invited_by: None,
        });
        let per = Caller {
            email: Some("per@klinikk.no".into()),
            email_verified: true,
            ..Caller::new("per")
        };
        let err = w.send(&per, "hano").await.unwrap_err();
        assert_eq!((err.status, err.code), (422, "admin_email_missing"));
        assert_eq!(w.mailer.sent().len(), 1);
    }

    #[tokio::test]
    async fn a_sent_request_writes_one_audit_entry_and_a_refused_one_none() {
        let w = world().await;
        let before = w.store.audit_entries().len();
        w.send(&caller("ola"), "hano").await.unwrap();
        w.send(&caller("kari"), "hano").await.unwrap_err();
        w.mailer.fail_with(Some(MailError::Throttled));
        w.send(&caller("ola"), "hano").await.unwrap_err();
        let entries = w.store.audit_entries();
        assert_eq!(entries.len(), before + 1);
        let entry = entries.last().unwrap();
        assert_eq!(entry.action, "details_requested");
        assert_eq!(entry.location_id.as_deref(), Some(w.location.as_str()));
        assert_eq!(entry.details["system"], "hano");
    }

    #[test]
    fn the_system_must_be_in_the_catalog() {
        let err = system_from_query(Some("journal-x")).unwrap_err();
        assert_eq!((err.status, err.errors[0].field.as_str()), (422, "system"));
        assert_eq!(err.errors[0].code, "unknown_system");
        assert_eq!(
            system_from_query(None).unwrap_err().errors[0].code,
            "required"
        );
        let body = json!({"system": 7});
        let err = system_from_json(body.as_object().unwrap()).unwrap_err();
        assert_eq!(err.errors[0].field, "system");
        let body = json!({"system": "hano"});
        assert_eq!(
            system_from_json(body.as_object().unwrap()).unwrap().id,
            "hano"
        );
    }
}
