//! "Forespør detaljer" through the real `request-details` handler, against the AWS emulator:
//! DynamoDB for the records and send slots, SES for the mail. The emulator's SES state is
//! shared by every test in the run, so sent mail is found by message id or by the test's own,
//! unique administrator address.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bookinglink::catalog;
use bookinglink::clock::ManualClock;
use bookinglink::domain::locations;
use bookinglink::identity::Caller;
use bookinglink::mail::{MailError, Mailer, OutgoingMail, SesMailer};
use bookinglink::model::{BookingConfig, Location};
use bookinglink::store::dynamo::DynamoStore;
use bookinglink::store::{LocationCreation, LocationStore, LocationWrite};
use integration_tests::demo::seed_entry;
use integration_tests::{Answer, Identity, emulator_config, event, fresh_table, leaks};
use serde_json::{Value, json};

const SENDER: &str = "bookinglink@fysio-demo.no";
/// 25.11.2026 13:00 in Oslo.
const NOW: i64 = 1_795_608_000;

/// Passes mail on to SES and keeps a copy: the emulator does not record Reply-To.
struct Spy {
    inner: SesMailer,
    sent: Mutex<Vec<OutgoingMail>>,
}

#[async_trait]
impl Mailer for Spy {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, MailError> {
        let id = self.inner.send(mail).await?;
        self.sent.lock().unwrap().push(mail.clone());
        Ok(id)
    }
}

async fn ses_mailer(sender: &str) -> SesMailer {
    let client = aws_sdk_ses::Client::new(&emulator_config().await);
    SesMailer::new(client, sender.to_string(), None)
}

async fn verify_sender() {
    integration_tests::verify_sender(&emulator_config().await, SENDER)
        .await
        .expect("verify the sender");
}

/// Creates the location `body` describes in `company`, as `caller`; its id.
async fn create_location(
    store: &DynamoStore,
    clock: &ManualClock,
    caller: &Caller,
    company: &str,
    body: Value,
) -> String {
    let new = locations::NewLocation::from_json(body.as_object().unwrap()).unwrap();
    locations::create(
        store,
        clock,
        caller,
        company,
        new,
        locations::DEFAULT_MAX_PER_COMPANY,
    )
    .await
    .unwrap()
    .id
}

struct Api {
    app: request_details::App,
    spy: Arc<Spy>,
    clock: Arc<ManualClock>,
    store: Arc<DynamoStore>,
    admin: Identity,
    admin_email: String,
    company: String,
    location: String,
}

impl Api {
    async fn new() -> Self {
        Self::with_sender(SENDER).await
    }

    async fn with_sender(sender: &str) -> Self {
        verify_sender().await;
        let (client, table) = fresh_table().await;
        let store = Arc::new(DynamoStore::new(client, table));
        let clock = Arc::new(ManualClock::at(NOW));
        let spy = Arc::new(Spy {
            inner: ses_mailer(sender).await,
            sent: Mutex::new(Vec::new()),
        });
        let sub = uuid::Uuid::new_v4().to_string();
        let admin_email = format!("admin-{sub}@klinikk-test.no");
        let admin = Identity::with_email(&sub, &admin_email);
        let company = integration_tests::demo::company_with_admin(
            store.as_ref(),
            &sub,
            &admin_email,
            "Fysio Blåbær & Ørn AS",
            "923609016",
            NOW,
        )
        .await
        .unwrap()
        .id;
        let caller = Caller {
            email: Some(admin_email.clone()),
            email_verified: true,
            name: Some("Test Person".into()),
            ..Caller::new(sub)
        };
        let body = json!({
            "name": "Grünerløkka Æbleskiver",
            "address": {"street": "Thorvald Meyers gate 30", "postal_code": "0555", "city": "Tromsø"},
            "phone": "+47 22 00 00 02",
            "email": "post@klinikk.no"
        });
        let location = create_location(&store, &clock, &caller, &company, body).await;
        Api {
            app: request_details::App {
                store: store.clone(),
                mailer: spy.clone(),
                clock: clock.clone(),
                dev_identity_headers: false,
                limits: bookinglink::domain::request_details::SendLimits::default(),
            },
            spy,
            clock,
            store,
            admin,
            admin_email,
            company,
            location,
        }
    }

    /// The location as the table holds it.
    async fn stored_location(&self) -> Location {
        self.store
            .location(&self.company, &self.location)
            .await
            .expect("read the location")
            .expect("the location exists")
    }

    fn path(&self) -> String {
        format!(
            "/v1/companies/{}/locations/{}/booking/request-details",
            self.company, self.location
        )
    }

    async fn get(&self, system: &str, who: &Identity, lang: &str) -> Answer {
        let path = format!("{}?system={system}", self.path());
        let req = event("GET", &path, who, &[("accept-language", lang)], None);
        Answer::from(request_details::handle(&self.app, req).await)
    }

    /// Mails SES accepted from the function. (Counted here rather than in the emulator, which
    /// under load can execute a request the SDK sent again.)
    fn mails_sent(&self) -> usize {
        self.spy.sent.lock().unwrap().len()
    }

    async fn post(&self, system: &str, who: &Identity, lang: &str) -> Answer {
        self.post_to(&self.path(), system, who, lang).await
    }

    async fn post_to(&self, path: &str, system: &str, who: &Identity, lang: &str) -> Answer {
        let body = json!({ "system": system }).to_string();
        let req = event("POST", path, who, &[("accept-language", lang)], Some(&body));
        Answer::from(request_details::handle(&self.app, req).await)
    }

    /// A location of a second company the same administrator administers; its
    /// request-details path.
    async fn second_location(&self) -> String {
        let Identity::Jwt { sub, .. } = &self.admin else {
            unreachable!("the administrator has a token")
        };
        let company = integration_tests::demo::company_with_admin(
            self.store.as_ref(),
            sub,
            &self.admin_email,
            "Manuellterapi Nord AS",
            "986753043",
            NOW,
        )
        .await
        .unwrap()
        .id;
        let body = json!({
            "name": "Tromsø sentrum",
            "address": {"street": "Storgata 1", "postal_code": "9008", "city": "Tromsø"},
            "phone": "+47 77 00 00 01",
            "email": "tromso@klinikk.no"
        });
        let caller = Caller {
            email: Some(self.admin_email.clone()),
            email_verified: true,
            ..Caller::new(sub)
        };
        let location = create_location(&self.store, &self.clock, &caller, &company, body).await;
        format!("/v1/companies/{company}/locations/{location}/booking/request-details")
    }
}

/// Every mail the emulator's SES has accepted so far, in this whole test run.
async fn moto_messages() -> Vec<Value> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    let text = reqwest::get(format!("{endpoint}/moto-api/data.json"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let data: Value = serde_json::from_str(&text).unwrap();
    data["ses"]["Message"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn moto_message(id: &str) -> Value {
    moto_messages()
        .await
        .into_iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("no mail with id {id} in the emulator"))
}

async fn moto_messages_to(address: &str) -> usize {
    moto_messages()
        .await
        .iter()
        .filter(|m| {
            m["destinations"]["CcAddresses"]
                .as_array()
                .is_some_and(|cc| cc.iter().any(|a| a == address))
        })
        .count()
}

#[tokio::test]
async fn get_shows_the_request_for_every_system_in_both_languages() {
    let api = Api::new().await;
    for system in catalog::systems() {
        let nb = api.get(system.id, &api.admin, "nb").await;
        assert_eq!(nb.status, 200, "{}", nb.raw);
        assert_eq!(nb.body["to"], system.contact.email);
        assert_eq!(nb.body["phone"], json!(system.contact.phone));
        assert_eq!(nb.body["cc"], api.admin_email.as_str());
        let subject = nb.body["subject"].as_str().unwrap();
        let body = nb.body["body"].as_str().unwrap();
        assert!(
            subject.starts_with("Forespørsel om nettbooking"),
            "{subject}"
        );
        assert!(subject.contains("Fysio Blåbær & Ørn AS (923609016)"));
        assert!(subject.contains("Grünerløkka Æbleskiver"));
        assert!(body.contains("Thorvald Meyers gate 30, 0555 Tromsø"));
        assert!(body.contains(&format!("Test Person ({})", api.admin_email)));
        assert!(body.contains(system.name));
        for field in system.fields {
            assert!(
                body.contains(&*field.label.nb),
                "{} {}",
                system.id,
                field.label.nb
            );
        }
        let en = api.get(system.id, &api.admin, "en").await;
        assert_eq!(en.header("content-language"), Some("en"));
        let subject = en.body["subject"].as_str().unwrap();
        assert!(
            subject.starts_with("Request for online booking"),
            "{subject}"
        );
        for field in system.fields {
            assert!(en.body["body"].as_str().unwrap().contains(&*field.label.en));
        }
    }
    assert!(api.spy.sent.lock().unwrap().is_empty(), "GET never sends");
}

#[tokio::test]
async fn post_mails_the_vendor_with_the_admin_in_cc_and_reply_to_for_every_system() {
    let api = Api::new().await;
    for system in catalog::systems() {
        let preview = api.get(system.id, &api.admin, "nb").await;
        let sent = api.post(system.id, &api.admin, "nb").await;
        assert_eq!(sent.status, 202, "{}", sent.raw);
        let id = sent.body["message_id"].as_str().unwrap();
        let mail = moto_message(id).await;
        assert_eq!(mail["source"], SENDER);
        assert_eq!(
            mail["destinations"]["ToAddresses"],
            json!([system.contact.email])
        );
        assert_eq!(
            mail["destinations"]["CcAddresses"],
            json!([api.admin_email])
        );
        // What the vendor gets is exactly what the administrator was shown, æøå intact.
        assert_eq!(mail["subject"], preview.body["subject"]);
        assert_eq!(mail["body"], preview.body["body"]);
        let subject = mail["subject"].as_str().unwrap();
        assert!(subject.contains("Blåbær & Ørn") && subject.contains("Æbleskiver"));
        assert!(mail["body"].as_str().unwrap().contains("Tromsø"));
    }
    let spied = api.spy.sent.lock().unwrap().clone();
    assert_eq!(spied.len(), catalog::systems().len());
    for mail in &spied {
        assert_eq!(mail.reply_to, vec![api.admin_email.clone()]);
        assert_eq!(mail.cc, vec![api.admin_email.clone()]);
    }

    // Recorded on the location without a new version, and shown in its JSON.
    let location = api.stored_location().await;
    assert_eq!(location.version, 1);
    let json = location.to_json();
    let requests = json["details_requests"].as_array().unwrap();
    let systems: Vec<&str> = requests
        .iter()
        .map(|r| r["system"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = catalog::systems().iter().map(|s| s.id).collect();
    expected.sort();
    assert_eq!(systems, expected);
    assert_eq!(requests[0]["requested_at"], "2026-11-25T12:00:00Z");
    assert_eq!(
        requests[0]["requested_by"]["email"],
        api.admin_email.as_str()
    );

    // An administrator's edit made before the request still applies: no version conflict.
    let edit = bookinglink::store::LocationPatch {
        offline: Some(true),
        ..Default::default()
    };
    let edited = api
        .store
        .update_location(
            LocationWrite {
                company_id: &api.company,
                location_id: &api.location,
                expected_version: 1,
                now: NOW,
                by: "x",
                audit: &seed_entry(&api.company, "location_edited", json!({}), NOW),
            },
            &edit,
        )
        .await
        .unwrap();
    assert_eq!(edited.details_requests.len(), catalog::systems().len());
}

#[tokio::test]
async fn english_on_request() {
    let api = Api::new().await;
    let sent = api.post("hano", &api.admin, "en").await;
    assert_eq!(sent.status, 202, "{}", sent.raw);
    let mail = moto_message(sent.body["message_id"].as_str().unwrap()).await;
    assert!(
        mail["subject"]
            .as_str()
            .unwrap()
            .starts_with("Request for online booking")
    );
}

#[tokio::test]
async fn the_fourth_send_in_a_day_is_429_until_the_first_has_aged_24_hours() {
    let api = Api::new().await;
    for _ in 0..3 {
        assert_eq!(api.post("physica", &api.admin, "nb").await.status, 202);
        api.clock.advance(3_600);
    }
    let refused = api.post("physica", &api.admin, "nb").await;
    assert_eq!(refused.status, 429, "{}", refused.raw);
    assert_eq!(refused.content_type(), "application/problem+json");
    assert_eq!(refused.body["code"], "details_request_limit");
    // The first send was three hours ago: its slot frees 21 hours from now.
    assert_eq!(refused.header("retry-after"), Some("75600"));
    assert_eq!(refused.body["retry_at"], "2026-11-26T12:00:00Z");
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(detail.contains("26.11.2026 kl. 13:00"), "{detail}");
    assert!(detail.contains("ASPIT Physica"), "{detail}");
    assert_eq!(moto_messages_to(&api.admin_email).await, 3);

    // Another system at the same location has its own allowance.
    assert_eq!(api.post("psykbase", &api.admin, "nb").await.status, 202);

    api.clock.advance(75_599);
    assert_eq!(api.post("physica", &api.admin, "nb").await.status, 429);
    api.clock.advance(1);
    assert_eq!(api.post("physica", &api.admin, "nb").await.status, 202);
    assert_eq!(api.post("physica", &api.admin, "nb").await.status, 429);
    assert_eq!(moto_messages_to(&api.admin_email).await, 5);
}

#[tokio::test]
async fn ten_concurrent_sends_send_exactly_three() {
    let api = Arc::new(Api::new().await);
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let api = api.clone();
            tokio::spawn(async move { api.post("extensor", &api.admin, "nb").await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [202, 202, 202, 429, 429, 429, 429, 429, 429, 429]);
    assert_eq!(moto_messages_to(&api.admin_email).await, 3);
}

#[tokio::test]
async fn only_the_companys_administrators_may_see_or_send() {
    let api = Api::new().await;
    let outsider = Identity::jwt(&uuid::Uuid::new_v4().to_string());
    for answer in [
        api.get("hano", &Identity::Anonymous, "nb").await,
        api.post("hano", &Identity::Anonymous, "nb").await,
    ] {
        assert_eq!(answer.status, 401, "{}", answer.raw);
        assert_eq!(answer.body["code"], "unauthenticated");
    }
    for answer in [
        api.get("hano", &outsider, "nb").await,
        api.post("hano", &outsider, "nb").await,
    ] {
        assert_eq!(answer.status, 404, "{}", answer.raw);
        assert_eq!(answer.body["code"], "not_found");
    }
    // A location of the admin's own company that does not exist is a 404 as well.
    let path = format!(
        "/v1/companies/{}/locations/{}/booking/request-details?system=hano",
        api.company,
        uuid::Uuid::new_v4()
    );
    let missing = Answer::from(
        request_details::handle(&api.app, event("GET", &path, &api.admin, &[], None)).await,
    );
    assert_eq!(missing.status, 404);
    assert!(api.spy.sent.lock().unwrap().is_empty());
    assert_eq!(api.get("hano", &api.admin, "nb").await.status, 200);
    assert_eq!(api.post("hano", &api.admin, "nb").await.status, 202);
}

#[tokio::test]
async fn an_unknown_system_is_422_naming_system() {
    let api = Api::new().await;
    for answer in [
        api.get("journal-x", &api.admin, "nb").await,
        api.post("journal-x", &api.admin, "nb").await,
    ] {
        assert_eq!(answer.status, 422, "{}", answer.raw);
        assert_eq!(answer.error_fields(), ["system"]);
        assert_eq!(answer.body["errors"][0]["code"], "unknown_system");
    }
    let bare = api.path();
    let missing = Answer::from(
        request_details::handle(&api.app, event("GET", &bare, &api.admin, &[], None)).await,
    );
    assert_eq!(
        (missing.status, missing.error_fields()),
        (422, vec!["system".to_string()])
    );
    let wrong_method = Answer::from(
        request_details::handle(&api.app, event("PUT", &bare, &api.admin, &[], None)).await,
    );
    assert_eq!(wrong_method.status, 405);
    assert!(api.spy.sent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_unverified_sender_is_a_502_problem_and_the_send_does_not_count() {
    let unverified = format!("noreply@unverified-{}.example.no", uuid::Uuid::new_v4());
    let mut api = Api::with_sender(&unverified).await;
    for _ in 0..4 {
        let answer = api.post("pasientsky", &api.admin, "nb").await;
        assert_eq!(answer.status, 502, "{}", answer.raw);
        assert_eq!(answer.content_type(), "application/problem+json");
        assert_eq!(answer.body["code"], "mail_rejected");
        assert!(
            !answer.raw.contains(&unverified),
            "no internals in the answer"
        );
    }
    let location = api.stored_location().await;
    assert!(location.details_requests.is_empty());

    // Every refused send gave its slot back: once the sender is fixed, three go out.
    api.app.mailer = Arc::new(ses_mailer(SENDER).await);
    for _ in 0..3 {
        assert_eq!(api.post("pasientsky", &api.admin, "nb").await.status, 202);
    }
    assert_eq!(api.post("pasientsky", &api.admin, "nb").await.status, 429);
}

#[tokio::test]
async fn the_mail_never_contains_an_api_key() {
    let api = Api::new().await;
    // A location whose booking connection is saved: its key lives in Secrets Manager, and the
    // request must not carry anything resembling one even so.
    let mut location = api.stored_location().await;
    location.id = uuid::Uuid::now_v7().to_string();
    // From JSON, so the test keeps compiling as the record gains optional fields.
    let booking: BookingConfig = serde_json::from_value(json!({
        "system": "pasientsky",
        "external_id": "3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0b",
        "external_department_id": "dept-1",
        "key_stored": true
    }))
    .unwrap();
    location.booking = Some(booking);
    api.store
        .create_location(LocationCreation {
            location: &location,
            max_per_company: locations::DEFAULT_MAX_PER_COMPANY,
            audit: &seed_entry(&api.company, "location_created", json!({}), NOW),
        })
        .await
        .unwrap();
    let path = format!(
        "/v1/companies/{}/locations/{}/booking/request-details",
        api.company, location.id
    );
    for system in catalog::systems() {
        let body = json!({ "system": system.id }).to_string();
        let req = event("POST", &path, &api.admin, &[], Some(&body));
        let sent = Answer::from(request_details::handle(&api.app, req).await);
        assert_eq!(sent.status, 202, "{}", sent.raw);
        let mail = moto_message(sent.body["message_id"].as_str().unwrap()).await;
        for text in [
            mail["subject"].as_str().unwrap(),
            mail["body"].as_str().unwrap(),
            sent.body["subject"].as_str().unwrap(),
        ] {
            assert!(!looks_like_a_key(text), "{text}");
            assert!(
                !text.contains("3f2a9c1e"),
                "no saved connection details: {text}"
            );
        }
    }
    leaks::check_mails(&api.spy.sent.lock().unwrap());
    leaks::assert_no_leaks(&aws_sdk_dynamodb::Client::new(&emulator_config().await)).await;
}

/// A long run of key alphabet characters with both letters and digits, as API keys and tokens
/// are; ordinary words, phone and organisation numbers are not.
fn looks_like_a_key(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|run| {
            run.len() >= 20
                && run.chars().any(|c| c.is_ascii_digit())
                && run.chars().any(|c| c.is_ascii_alphabetic())
        })
}

#[test]
fn the_key_detector_finds_keys() {
    assert!(looks_like_a_key("nøkkel: sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
    assert!(!looks_like_a_key(
        "Forespørsel om nettbooking: Fysio AS (923609016)"
    ));
    assert!(!looks_like_a_key(
        "admin-0190f3a2-7c1e-7d44-9e0a-5b2f1c3d4e5f@klinikk.no"
    ));
}

#[tokio::test]
async fn the_sample_events_work_against_the_demo_data() {
    verify_sender().await;
    let (client, table) = fresh_table().await;
    let store = Arc::new(DynamoStore::new(client, table));
    integration_tests::demo::seed(store.as_ref(), NOW)
        .await
        .unwrap();
    let app = request_details::App {
        store,
        mailer: Arc::new(ses_mailer(SENDER).await),
        clock: Arc::new(ManualClock::at(NOW)),
        dev_identity_headers: false,
        limits: bookinglink::domain::request_details::SendLimits::default(),
    };
    let sample = |name: &str| {
        let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        lambda_http::request::from_str(&text).expect("a valid API Gateway event")
    };
    let shown =
        Answer::from(request_details::handle(&app, sample("request-details-get.json")).await);
    assert_eq!(shown.status, 200, "{}", shown.raw);
    assert_eq!(shown.body["to"], "support@aspit.no");
    assert!(
        shown.body["subject"]
            .as_str()
            .unwrap()
            .contains("Fysio Demo AS")
    );
    let sent =
        Answer::from(request_details::handle(&app, sample("request-details-send.json")).await);
    assert_eq!(sent.status, 202, "{}", sent.raw);
    let mail = moto_message(sent.body["message_id"].as_str().unwrap()).await;
    assert_eq!(
        mail["destinations"]["CcAddresses"],
        json!(["admin@fysio-demo.no"])
    );
    assert_eq!(mail["subject"], shown.body["subject"]);
}

#[tokio::test]
async fn the_eleventh_mail_in_a_day_is_refused_across_two_locations() {
    let api = Api::new().await;
    let second = api.second_location().await;
    let (first, admin) = (api.path(), &api.admin);
    // Five on each location, in two companies, each within its location's own three per system.
    for path in [&first, &second] {
        for system in ["physica", "physica", "physica", "hano", "hano"] {
            let sent = api.post_to(path, system, admin, "nb").await;
            assert_eq!(sent.status, 202, "{}", sent.raw);
            api.clock.advance(600);
        }
    }
    assert_eq!(api.mails_sent(), 10);

    let refused = api.post_to(&second, "psykbase", admin, "nb").await;
    assert_eq!(refused.status, 429, "{}", refused.raw);
    assert_eq!(refused.content_type(), "application/problem+json");
    assert_eq!(refused.body["code"], "details_request_limit");
    assert_eq!(refused.body["send_limit_scope"], "administrator");
    assert_eq!(refused.body["sends_remaining"], 0);
    // The first mail went 100 minutes ago; its place frees 24 hours after it.
    assert_eq!(refused.header("retry-after"), Some("80400"));
    assert_eq!(refused.body["retry_at"], "2026-11-26T12:00:00Z");
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(detail.contains("10 forespørsler"), "{detail}");
    assert!(detail.contains("26.11.2026 kl. 13:00"), "{detail}");
    let english = api.post_to(&first, "psykbase", admin, "en").await;
    let detail = english.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("26.11.2026 at 13:00 (Oslo time)"),
        "{detail}"
    );
    assert_eq!(api.mails_sent(), 10, "nothing more left");

    let shown = api.get("psykbase", admin, "nb").await;
    assert_eq!(shown.status, 200, "{}", shown.raw);
    assert_eq!(shown.body["sends_remaining"], 0);
    assert_eq!(shown.body["sends_available_at"], "2026-11-26T12:00:00Z");
    assert_eq!(shown.body["send_limit_scope"], "administrator");

    // The window rolls: at 24 hours after the first mail, one place is free again.
    api.clock.set(NOW + 24 * 3_600);
    let sent = api.post_to(&second, "psykbase", admin, "nb").await;
    assert_eq!(sent.status, 202, "{}", sent.raw);
    assert_eq!(sent.body["sends_remaining"], 0);
    assert_eq!(sent.body["sends_available_at"], "2026-11-26T12:10:00Z");
    let refused = api.post_to(&first, "psykbase", admin, "nb").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("600"));
}

#[tokio::test]
async fn concurrent_sends_cannot_pass_the_administrators_limit() {
    let mut api = Api::new().await;
    api.app.limits.per_administrator = 4;
    let second = api.second_location().await;
    let api = Arc::new(api);
    // Twelve at once: the two locations' three per system would allow all of them.
    let tasks: Vec<_> = [api.path(), second]
        .into_iter()
        .flat_map(|path| ["hano", "konfidens"].map(|system| (path.clone(), system)))
        .flat_map(|target| [target.clone(), target.clone(), target])
        .map(|(path, system)| {
            let api = api.clone();
            tokio::spawn(async move {
                let answer = api.post_to(&path, system, &api.admin, "nb").await;
                (answer.status, answer.body["code"].clone())
            })
        })
        .collect();
    let mut sent = 0;
    for task in tasks {
        match task.await.unwrap() {
            (202, _) => sent += 1,
            (status, code) => assert_eq!((status, code), (429, json!("details_request_limit"))),
        }
    }
    assert_eq!(sent, 4);
    assert_eq!(api.mails_sent(), 4);
    let shown = api.get("hano", &api.admin, "nb").await;
    assert_eq!(shown.body["sends_remaining"], 0);
}

#[tokio::test]
async fn the_answers_say_how_many_sends_are_left() {
    let api = Api::new().await;
    let shown = api.get("hano", &api.admin, "nb").await;
    assert_eq!(shown.status, 200, "{}", shown.raw);
    assert_eq!(shown.body["sends_remaining"], 3);
    assert_eq!(shown.body["sends_available_at"], Value::Null);
    assert_eq!(shown.body["send_limit_scope"], Value::Null);
    for left in [2, 1, 0] {
        let sent = api.post("hano", &api.admin, "nb").await;
        assert_eq!(sent.status, 202, "{}", sent.raw);
        assert_eq!(sent.body["sends_remaining"], left);
    }
    let shown = api.get("hano", &api.admin, "en").await;
    assert_eq!(shown.status, 200, "{}", shown.raw);
    assert_eq!(shown.body["sends_remaining"], 0);
    assert_eq!(shown.body["send_limit_scope"], "location");
    assert_eq!(shown.body["sends_available_at"], "2026-11-26T12:00:00Z");
    // Another system has its own three; the administrator has seven of ten left.
    assert_eq!(
        api.get("konfidens", &api.admin, "nb").await.body["sends_remaining"],
        3
    );
}
