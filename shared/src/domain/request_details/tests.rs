use super::*;
use crate::clock::{ManualClock, Timestamp};
use crate::domain::fixtures::{self, assert_detail_says};
use crate::domain::locations;
use crate::mail::{MailError, RecordingMailer};
use crate::metrics;
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
    limits: SendLimits,
    company: String,
    location: String,
    /// Ola's location in a second company of his.
    other_company: String,
    other_location: String,
}

async fn company_with_location(
    store: &MemoryStore,
    clock: &ManualClock,
    name: &str,
    org_number: &str,
) -> (String, String) {
    let company = fixtures::company(store, clock, name, org_number).await;
    // Ola joined with the address he was invited at; the token may say otherwise.
    store.add_membership(Membership {
        name: Some("Åse Ødegård".into()),
        created_at: NOW,
        invited_by: Some("drift@bookinglink.no".into()),
        ..fixtures::membership("ola", &company)
    });
    let location = locations::create(
        store,
        clock,
        &caller("ola"),
        &company,
        fixtures::new_location("Grünerløkka"),
        locations::DEFAULT_MAX_PER_COMPANY,
    )
    .await
    .unwrap()
    .id;
    (company, location)
}

async fn world() -> World {
    let store = MemoryStore::new();
    let clock = ManualClock::at(NOW);
    let (company, location) =
        company_with_location(&store, &clock, "Fysio Blåbær AS", "923609016").await;
    let (other_company, other_location) =
        company_with_location(&store, &clock, "Manuellterapi Nord AS", "986753043").await;
    World {
        store,
        mailer: RecordingMailer::new(),
        clock,
        limits: SendLimits::default(),
        company,
        location,
        other_company,
        other_location,
    }
}

impl World {
    fn services(&self) -> Services<'_> {
        Services {
            store: &self.store,
            mailer: &self.mailer,
            clock: &self.clock,
            limits: self.limits,
        }
    }

    async fn send(&self, who: &Caller, system: &str) -> Result<SentRequest, Problem> {
        self.send_at(who, false, system).await
    }

    /// Sends on the first location, or on the one in Ola's other company.
    async fn send_at(
        &self,
        who: &Caller,
        other: bool,
        system: &str,
    ) -> Result<SentRequest, Problem> {
        let (company, location) = self.at(other);
        send(
            self.services(),
            who,
            company,
            location,
            catalog::system(system).unwrap(),
            Lang::Nb,
        )
        .await
    }

    /// What the preview shows `who` on the first location, or on Ola's other one.
    async fn preview_at(
        &self,
        who: &Caller,
        other: bool,
        system: &'static BookingSystem,
        lang: Lang,
    ) -> Preview {
        let (company, location) = self.at(other);
        preview(self.services(), who, company, location, system, lang)
            .await
            .unwrap()
    }

    async fn preview(&self, who: &Caller, system: &'static BookingSystem, lang: Lang) -> Preview {
        self.preview_at(who, false, system, lang).await
    }

    async fn allowance(&self, who: &Caller, other: bool, system: &str) -> Allowance {
        let system = catalog::system(system).unwrap();
        self.preview_at(who, other, system, Lang::Nb)
            .await
            .allowance
    }

    async fn first_location(&self) -> Location {
        self.store
            .location(&self.company, &self.location)
            .await
            .unwrap()
            .unwrap()
    }

    fn at(&self, other: bool) -> (&str, &str) {
        if other {
            (&self.other_company, &self.other_location)
        } else {
            (&self.company, &self.location)
        }
    }
}

#[tokio::test]
async fn the_preview_is_filled_from_our_records_and_the_caller() {
    let w = world().await;
    for system in catalog::systems() {
        for lang in [Lang::Nb, Lang::En] {
            let p = w.preview(&caller("ola"), system, lang).await.request;
            assert_eq!(p.to, system.contact.email);
            assert_eq!(p.phone.as_deref(), system.contact.phone);
            assert!(p.subject.contains("Fysio Blåbær AS (923609016)"));
            assert!(p.subject.contains("Grünerløkka"));
            assert!(p.body.contains("Kirkeveien 64, 0364 Oslo"));
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
    let location = w.first_location().await;
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
    assert_eq!(err.extensions["send_limit_scope"], "location");
    assert_eq!(err.extensions["sends_remaining"], 0);
    let retry_after: i64 = err.headers[0].1.parse().unwrap();
    assert_eq!(retry_after, WINDOW_SECONDS - 1_800);
    assert_detail_says(&err, Lang::Nb, "26.11.2026 kl. 13:00");
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
    let location = w.first_location().await;
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
    let preview = w
        .preview(&ola, catalog::sys("hano"), Lang::Nb)
        .await
        .request;
    assert_eq!(preview.admin_email.as_deref(), Some("ola@klinikk.no"));
    w.send(&ola, "hano").await.unwrap();
    let mail = &w.mailer.sent()[0];
    assert_eq!(mail.cc, ["ola@klinikk.no"]);
    assert_eq!(mail.reply_to, ["ola@klinikk.no"]);
    assert!(!format!("{mail:?}").contains("someone-else"));

    w.store.add_membership(Membership {
        email: None,
        created_at: NOW,
        ..fixtures::membership("per", &w.company)
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

mod limits;
