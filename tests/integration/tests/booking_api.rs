//! "Test kobling" and "Test og lagre" through the real handlers, against the AWS emulator
//! (DynamoDB, Secrets Manager) and the vendor sandbox over real HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bookinglink::api_key::ApiKey;
use bookinglink::booking::BookingDeps;
use bookinglink::booking::attempts::AttemptStore;
use bookinglink::booking::key_store::aws::SecretsManager;
use bookinglink::booking::key_store::{
    self, KeyStore, KeyStoreError, LocationKeys, NewVersion, StageMove, Stages,
};
use bookinglink::catalog::{BookingDetails, BookingSystem};
use bookinglink::clock::{Clock, ManualClock, Timestamp};
use bookinglink::metrics;
use bookinglink::model::{Company, Location, Membership, Page};
use bookinglink::store::dynamo::DynamoStore;
use bookinglink::store::{
    self, BookingSave, CompanyCreation, CompanyStore, LocationCreation, LocationPatch,
    LocationStore, LocationWrite, PageRequest, StoreError,
};
use bookinglink::vendors::{CheckReport, VendorCheck, Vendors};
use integration_tests::permissions::{guarded_dynamodb, guarded_secretsmanager};
use integration_tests::stack::sandbox_vendors;
use integration_tests::{Answer, Identity, emulator_config, event, fresh_table, leaks, pasientsky};
use serde_json::{Value, json};
use vendor_sandbox::{
    CLINIC_OK, DEPT_OK, KEY_200_ERROR, KEY_500, KEY_NO_SCOPE, KEY_OK,
    PASIENTSKY_CLINIC_NO_CALENDARS, PASIENTSKY_CLINIC_OK, PASIENTSKY_DEPT_OK,
};

const START: Timestamp = 1_795_608_000;

/// A vendor check that counts how many checks reached the sandbox.
struct Counting {
    inner: Vendors,
    calls: AtomicUsize,
}

#[async_trait]
impl VendorCheck for Counting {
    async fn check(&self, system: &BookingSystem, details: &BookingDetails) -> CheckReport {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.check(system, details).await
    }
}

/// Secrets Manager with switchable failures, to cut a save at each of its writes.
struct FlakySecrets {
    inner: SecretsManager,
    fail_put: AtomicBool,
    fail_promote: AtomicBool,
}

#[async_trait]
impl KeyStore for FlakySecrets {
    async fn put_pending(&self, name: &str, version: NewVersion<'_>) -> key_store::Result<bool> {
        if self.fail_put.load(Ordering::SeqCst) {
            return Err(KeyStoreError::Backend("injected failure".into()));
        }
        self.inner.put_pending(name, version).await
    }
    async fn get(&self, name: &str, version_id: &str) -> key_store::Result<ApiKey> {
        self.inner.get(name, version_id).await
    }
    async fn stages(&self, name: &str) -> key_store::Result<Option<Stages>> {
        self.inner.stages(name).await
    }
    /// Every label move: the promotion and clean-up after a commit, and the repairs.
    async fn move_stage(&self, name: &str, change: StageMove<'_>) -> key_store::Result<()> {
        if self.fail_promote.load(Ordering::SeqCst) {
            return Err(KeyStoreError::Backend("injected failure".into()));
        }
        self.inner.move_stage(name, change).await
    }
    async fn schedule_deletion(
        &self,
        name: &str,
        recovery_days: u32,
        now: Timestamp,
    ) -> key_store::Result<Option<Timestamp>> {
        self.inner.schedule_deletion(name, recovery_days, now).await
    }
    async fn restore(&self, name: &str) -> key_store::Result<()> {
        self.inner.restore(name).await
    }
}

/// The DynamoDB store with a switchable failure on the commit of a save.
struct FlakyStore {
    inner: DynamoStore,
    fail_save: AtomicBool,
}

#[async_trait]
impl CompanyStore for FlakyStore {
    async fn create_company(&self, creation: CompanyCreation<'_>) -> store::Result<()> {
        self.inner.create_company(creation).await
    }
    async fn all_companies(
        &self,
        query: Option<&str>,
        page: PageRequest<'_>,
    ) -> store::Result<Page<Company>> {
        self.inner.all_companies(query, page).await
    }
    async fn companies_of(&self, sub: &str, page: PageRequest<'_>) -> store::Result<Page<Company>> {
        self.inner.companies_of(sub, page).await
    }
    async fn membership(&self, sub: &str, company: &str) -> store::Result<Option<Membership>> {
        self.inner.membership(sub, company).await
    }
    async fn company(&self, company: &str) -> store::Result<Option<Company>> {
        self.inner.company(company).await
    }
}

#[async_trait]
impl LocationStore for FlakyStore {
    async fn create_location(&self, creation: LocationCreation<'_>) -> store::Result<()> {
        self.inner.create_location(creation).await
    }
    async fn locations_of(
        &self,
        company: &str,
        page: PageRequest<'_>,
    ) -> store::Result<Page<Location>> {
        self.inner.locations_of(company, page).await
    }
    async fn location(&self, company: &str, location: &str) -> store::Result<Option<Location>> {
        self.inner.location(company, location).await
    }
    async fn update_location(
        &self,
        write: LocationWrite<'_>,
        patch: &LocationPatch,
    ) -> store::Result<Location> {
        self.inner.update_location(write, patch).await
    }
    async fn save_booking(&self, save: BookingSave<'_>) -> store::Result<Location> {
        if self.fail_save.load(Ordering::SeqCst) {
            return Err(StoreError::Backend("injected failure".into()));
        }
        self.inner.save_booking(save).await
    }
}

struct Harness {
    test: test_connection::App,
    save: test_and_save::App,
    locations: locations::App,
    clock: Arc<ManualClock>,
    vendor: Arc<Counting>,
    secrets: Arc<FlakySecrets>,
    store: Arc<FlakyStore>,
    sm: aws_sdk_secretsmanager::Client,
    ddb: aws_sdk_dynamodb::Client,
    table: String,
    prefix: String,
}

impl Harness {
    async fn new() -> Self {
        let (ddb, table) = fresh_table().await;
        let config = emulator_config().await;
        let sm = aws_sdk_secretsmanager::Client::new(&config);
        let dynamo = DynamoStore::new(ddb.clone(), table.clone());
        let clock = Arc::new(ManualClock::at(START));
        let vendor = Arc::new(Counting {
            inner: sandbox_vendors(Duration::from_millis(1500)),
            calls: AtomicUsize::new(0),
        });
        let prefix = format!("test-{}/", uuid::Uuid::new_v4());
        // Both routes read and write keys through a client limited to test-and-save's role
        // (test-connection's one read is a part of it), and the lockout through each one's.
        let secrets = Arc::new(FlakySecrets {
            inner: SecretsManager::new(guarded_secretsmanager(&config, "test-and-save", &prefix)),
            fail_put: AtomicBool::new(false),
            fail_promote: AtomicBool::new(false),
        });
        let store = Arc::new(FlakyStore {
            inner: dynamo.clone(),
            fail_save: AtomicBool::new(false),
        });
        let attempts = |function: &str| -> Arc<dyn AttemptStore> {
            Arc::new(DynamoStore::new(
                guarded_dynamodb(&config, function, &table),
                table.clone(),
            ))
        };
        let deps = |function: &str| BookingDeps {
            store: store.clone(),
            attempts: attempts(function),
            keys: LocationKeys {
                store: secrets.clone(),
                prefix: prefix.clone(),
            },
            vendors: vendor.clone(),
            clock: clock.clone(),
        };
        Harness {
            test: test_connection::App {
                deps: deps("test-connection"),
                dev_identity_headers: false,
            },
            save: test_and_save::App {
                deps: deps("test-and-save"),
                dev_identity_headers: false,
            },
            locations: locations::App {
                store: store.clone(),
                clock: clock.clone(),
                dev_identity_headers: false,
                max_locations_per_company: bookinglink::domain::locations::DEFAULT_MAX_PER_COMPANY,
            },
            clock,
            vendor,
            secrets,
            store,
            sm,
            ddb,
            table,
            prefix,
        }
    }

    fn calls(&self) -> usize {
        self.vendor.calls.load(Ordering::SeqCst)
    }

    async fn call(&self, method: &str, path: &str, who: &Identity, body: Option<Value>) -> Answer {
        let body = body.map(|b| b.to_string());
        let request = event(method, path, who, &[], body.as_deref());
        let response = if path.ends_with("/booking/test") {
            test_connection::handle(&self.test, request).await
        } else if path.ends_with("/booking/save") {
            test_and_save::handle(&self.save, request).await
        } else {
            locations::handle(&self.locations, request).await
        };
        Answer::from(response)
    }

    /// A company administered by `who` with one location; returns the location's path.
    async fn location(&self, who: &Identity, org_number: &str) -> String {
        let company = integration_tests::demo::company_with_admin(
            self.store.as_ref(),
            who.sub().unwrap(),
            &who.email().unwrap(),
            "Fysio AS",
            org_number,
            START,
        )
        .await
        .unwrap()
        .id;
        let location = self
            .call(
                "POST",
                &format!("/v1/companies/{company}/locations"),
                who,
                Some(integration_tests::majorstuen()),
            )
            .await;
        format!(
            "/v1/companies/{company}/locations/{}",
            location.body["id"].as_str().unwrap()
        )
    }

    /// A location of Ola's with the sandbox's working Pasientsky details saved (so at version
    /// 2); returns its path.
    async fn saved_location(&self) -> String {
        let location = self.location(&ola(), "923609016").await;
        let saved = self.save(&ola(), &location, pasientsky(KEY_OK), 1).await;
        assert_eq!(saved.status, 200, "{}", saved.raw);
        location
    }

    async fn test(&self, who: &Identity, location: &str, body: Value) -> Answer {
        self.call("POST", &format!("{location}/booking/test"), who, Some(body))
            .await
    }

    async fn save(&self, who: &Identity, location: &str, mut body: Value, version: u64) -> Answer {
        body["version"] = json!(version);
        self.call("POST", &format!("{location}/booking/save"), who, Some(body))
            .await
    }

    async fn get(&self, who: &Identity, location: &str) -> Answer {
        self.call("GET", location, who, None).await
    }

    /// The secret version the location item names.
    async fn secret_version(&self, location_path: &str) -> Option<String> {
        let parts: Vec<&str> = location_path.split('/').collect();
        let item = self
            .store
            .inner
            .location(parts[3], parts[5])
            .await
            .unwrap()
            .unwrap();
        item.booking?.secret_version_id
    }

    /// The location's secret: each version (deprecated ones too) with its staging labels, and
    /// whether it is scheduled for deletion.
    async fn versions(&self, location_path: &str) -> (Vec<(String, Vec<String>)>, bool) {
        let parts: Vec<&str> = location_path.split('/').collect();
        let name = format!("{}{}/{}", self.prefix, parts[3], parts[5]);
        let listed = self
            .sm
            .list_secret_version_ids()
            .secret_id(&name)
            .include_deprecated(true)
            .send()
            .await
            .unwrap();
        let mut versions: Vec<(String, Vec<String>)> = listed
            .versions()
            .iter()
            .map(|v| {
                let mut stages = v.version_stages().to_vec();
                stages.sort();
                (v.version_id().unwrap_or_default().to_string(), stages)
            })
            .collect();
        versions.sort();
        let described = self
            .sm
            .describe_secret()
            .secret_id(&name)
            .send()
            .await
            .unwrap();
        (versions, described.deleted_date().is_some())
    }

    /// Which version holds `stage`, and how many do.
    async fn holders(&self, location_path: &str, stage: &str) -> Vec<String> {
        self.versions(location_path)
            .await
            .0
            .into_iter()
            .filter(|(_, stages)| stages.iter().any(|s| s == stage))
            .map(|(v, _)| v)
            .collect()
    }

    /// The key stored for the location's saved configuration, read the way readers read it:
    /// the exact secret version the location item names.
    async fn stored_key(&self, location_path: &str) -> Option<String> {
        let parts: Vec<&str> = location_path.split('/').collect();
        let (company, location) = (parts[3], parts[5]);
        let item = self
            .store
            .inner
            .location(company, location)
            .await
            .unwrap()
            .unwrap();
        let version = item.booking?.secret_version_id?;
        let out = self
            .sm
            .get_secret_value()
            .secret_id(format!("{}{company}/{location}", self.prefix))
            .version_id(version)
            .send()
            .await
            .unwrap();
        out.secret_string().map(str::to_string)
    }
}

fn ola() -> Identity {
    Identity::jwt("ola")
}

/// Working sandbox details for every system in the catalog.
fn working_details() -> Vec<(&'static str, Value)> {
    vec![
        ("pasientsky", pasientsky(KEY_OK)),
        (
            "extensor",
            json!({"system": "extensor", "booking_url": "https://booking.extensor.no/sandbox/ok"}),
        ),
        (
            "physica",
            json!({"system": "physica", "external_id": CLINIC_OK, "external_department_id": DEPT_OK, "api_key": KEY_OK}),
        ),
        (
            "psykbase",
            json!({"system": "psykbase", "external_id": CLINIC_OK, "api_key": KEY_OK}),
        ),
        (
            "hano",
            json!({"system": "hano", "external_id": CLINIC_OK, "api_key": KEY_OK}),
        ),
        (
            "konfidens",
            json!({"system": "konfidens", "external_id": CLINIC_OK, "api_key": KEY_OK}),
        ),
        (
            "easypractice",
            json!({"system": "easypractice", "api_key": KEY_OK}),
        ),
    ]
}

#[tokio::test]
async fn test_and_save_succeed_for_every_system() {
    let h = Harness::new().await;
    let orgs = [
        "923609016",
        "974760673",
        "982463718",
        "999999999",
        "987654325",
        "910000012",
        "910000020",
    ];
    let recording = metrics::record();
    for ((system, details), org) in working_details().into_iter().zip(orgs) {
        let location = h.location(&ola(), org).await;
        let tested = h.test(&ola(), &location, details.clone()).await;
        assert_eq!(tested.status, 200, "{system}: {}", tested.raw);
        assert_eq!(tested.body["status"], "success", "{system}: {}", tested.raw);
        assert_eq!(tested.body["message"], "Suksess");
        assert_eq!(tested.body["attempts_remaining"], 5);
        // Every step ok, except the one Extensor's booking page cannot show.
        for step in tested.body["steps"].as_array().unwrap() {
            let unverifiable = system == "extensor" && step["step"] == "online_booking_open";
            let status = if unverifiable { "not_verifiable" } else { "ok" };
            assert_eq!(step["status"], status, "{system}: {step}");
        }
        // Testing saved nothing.
        assert_eq!(
            h.get(&ola(), &location).await.body["booking"],
            Value::Null,
            "{system}"
        );

        let mut with_offline = details.clone();
        with_offline["offline"] = json!(true);
        let saved = h.save(&ola(), &location, with_offline, 1).await;
        assert_eq!(saved.status, 200, "{system}: {}", saved.raw);
        assert_eq!(saved.header("etag"), Some("\"2\""));
        let booking = &saved.body["location"]["booking"];
        assert_eq!(booking["system"], system);
        assert_eq!(booking["last_check"]["status"], "success");
        assert_eq!(booking["saved_by"], "ola@example.no");
        assert_eq!(saved.body["location"]["offline"], true);
        let uses_key = details.get("api_key").is_some();
        assert_eq!(booking["api_key_stored"], uses_key, "{system}");
        assert_eq!(h.get(&ola(), &location).await.body, saved.body["location"]);
        let expected_key = uses_key.then(|| KEY_OK.to_string());
        assert_eq!(h.stored_key(&location).await, expected_key, "{system}");
        let list = h
            .call("GET", location.rsplit_once('/').unwrap().0, &ola(), None)
            .await;
        assert_eq!(list.body["items"][0]["booking"]["state"], "connected");
    }
    // One test and one save per system, each measured under its system; Extensor's pass that
    // could not see the calendar is told apart from a full success.
    let checks = recording.values(&metrics::CONNECTION_CHECKS);
    assert_eq!(checks.len(), 2 * orgs.len());
    for (system, _) in working_details() {
        let outcomes: Vec<&str> = checks
            .iter()
            .filter(|(_, d)| d["System"] == system)
            .map(|(_, d)| d["Outcome"].as_str().unwrap())
            .collect();
        let expected = if system == "extensor" {
            "not_verifiable"
        } else {
            "success"
        };
        assert_eq!(outcomes, [expected, expected], "{system}");
    }
}

#[tokio::test]
async fn validation_errors_never_reach_the_vendor() {
    let h = Harness::new().await;
    let location = h.location(&ola(), "923609016").await;
    let cases = [
        (
            json!({"system": "pasientsky", "external_id": PASIENTSKY_CLINIC_OK, "api_key": "k"}),
            vec!["external_department_id"],
        ),
        (
            json!({"system": "pasientsky", "external_id": "klinikk-1", "external_department_id": "d", "api_key": "k"}),
            vec!["external_id", "external_department_id"],
        ),
        (
            json!({"system": "extensor", "booking_url": "http://booking.extensor.no/x"}),
            vec!["booking_url"],
        ),
        (
            json!({"system": "extensor", "booking_url": "https://169.254.169.254/latest"}),
            vec!["booking_url"],
        ),
        (
            json!({"system": "hano", "external_id": CLINIC_OK, "api_key": "k", "booking_url": "https://booking.extensor.no/x"}),
            vec!["booking_url"],
        ),
        (json!({"system": "nosuch"}), vec!["system"]),
        (json!({"external_id": 5}), vec!["system", "external_id"]),
    ];
    for (body, fields) in cases {
        for route in ["test", "save"] {
            let mut body = body.clone();
            if route == "save" {
                body["version"] = json!(1);
            }
            let answer = h
                .call(
                    "POST",
                    &format!("{location}/booking/{route}"),
                    &ola(),
                    Some(body.clone()),
                )
                .await;
            assert_eq!(answer.status, 422, "{route} {body}: {}", answer.raw);
            assert_eq!(answer.error_fields(), fields, "{route} {body}");
            assert_eq!(answer.body["attempts_remaining"], 5);
        }
    }
    let unknown = h
        .test(&ola(), &location, json!({"system": "hano", "apikey": "x"}))
        .await;
    assert_eq!(
        (unknown.status, unknown.error_fields()),
        (400, vec!["apikey".to_string()])
    );
    let no_version = h
        .call(
            "POST",
            &format!("{location}/booking/save"),
            &ola(),
            Some(pasientsky(KEY_OK)),
        )
        .await;
    assert_eq!(no_version.status, 428);
    assert_eq!(h.calls(), 0, "nothing reached the sandbox");
}

/// The lockout table, through the routes: only what the vendor rejected costs an attempt.
#[tokio::test]
async fn only_a_rejection_by_the_vendor_costs_an_attempt() {
    let h = Harness::new().await;
    let location = h.location(&ola(), "923609016").await;
    let cases = [
        // A real EasyPractice token without the scope calendars-read.
        (
            json!({"system": "easypractice", "api_key": KEY_NO_SCOPE}),
            "key_lacks_calendar_access",
            "setup_incomplete",
            5,
        ),
        (
            json!({"system": "pasientsky", "external_id": PASIENTSKY_CLINIC_NO_CALENDARS, "external_department_id": PASIENTSKY_DEPT_OK, "api_key": KEY_OK}),
            "no_online_booking_calendar",
            "setup_incomplete",
            5,
        ),
        (
            json!({"system": "easypractice", "api_key": KEY_500}),
            "vendor_error",
            "unavailable",
            5,
        ),
        // EG's error inside a 200 counts like a 401.
        (pasientsky(KEY_200_ERROR), "api_key_rejected", "rejected", 4),
        (
            json!({"system": "extensor", "booking_url": "https://booking.extensor.no/sandbox/unknown"}),
            "booking_page_not_found",
            "rejected",
            3,
        ),
    ];
    for (body, code, outcome, remaining) in cases {
        let answer = h.test(&ola(), &location, body.clone()).await;
        assert_eq!(answer.status, 200, "{body}: {}", answer.raw);
        let failed = answer.failed_step().cloned().unwrap_or_default();
        assert_eq!(failed["code"], code, "{body}");
        assert_eq!(answer.body["outcome"], outcome, "{body}");
        assert_eq!(answer.body["attempts_remaining"], remaining, "{body}");
    }
    // A booking URL off Extensor's host is a validation error: never sent, never counted.
    let refused = h
        .test(
            &ola(),
            &location,
            json!({"system": "extensor", "booking_url": "http://booking.extensor.no/sandbox/ok"}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.raw);
    assert_eq!(refused.error_fields(), ["booking_url"]);
    assert_eq!(refused.body["attempts_remaining"], 3);
}

#[tokio::test]
async fn access_matrix() {
    let h = Harness::new().await;
    let location = h.location(&ola(), "923609016").await;
    for route in ["test", "save"] {
        let path = format!("{location}/booking/{route}");
        let body = json!({"system": "easypractice", "api_key": KEY_OK, "version": 1});
        let body = if route == "test" {
            json!({"system": "easypractice", "api_key": KEY_OK})
        } else {
            body
        };
        assert_eq!(
            h.call("POST", &path, &Identity::Anonymous, Some(body.clone()))
                .await
                .status,
            401
        );
        assert_eq!(
            h.call("POST", &path, &Identity::jwt("kari"), Some(body.clone()))
                .await
                .status,
            404
        );
        assert_eq!(h.call("POST", &path, &ola(), Some(body)).await.status, 200);
        assert_eq!(h.call("GET", &path, &ola(), None).await.status, 405);
    }
    assert_eq!(
        h.calls(),
        2,
        "only the administrator's requests reached the vendor"
    );
}

#[tokio::test]
async fn a_failed_save_changes_nothing() {
    let h = Harness::new().await;
    let location = h.location(&ola(), "923609016").await;
    let wrong = h.save(&ola(), &location, pasientsky("wrong-key"), 1).await;
    assert_eq!(wrong.status, 422, "{}", wrong.raw);
    assert_eq!(wrong.body["code"], "connection_test_failed");
    assert_eq!(wrong.body["attempts_remaining"], 4);
    let failed = wrong.failed_step().unwrap();
    assert_eq!(
        (failed["code"].as_str(), failed["field"].as_str()),
        (Some("api_key_rejected"), Some("api_key"))
    );
    assert!(
        wrong.body["detail"]
            .as_str()
            .unwrap()
            .contains("EG Pasientsky")
    );
    let now = h.get(&ola(), &location).await;
    assert_eq!(
        (now.body["version"].as_u64(), &now.body["booking"]),
        (Some(1), &Value::Null)
    );

    let outage = h.test(&ola(), &location, pasientsky(KEY_500)).await;
    assert_eq!(outage.body["status"], "failure");
    assert_eq!(
        outage.body["attempts_remaining"], 4,
        "a vendor outage does not count"
    );

    let stale = h.save(&ola(), &location, pasientsky(KEY_OK), 7).await;
    assert_eq!(stale.problem(), (409, Some("version_conflict")));
}

#[tokio::test]
async fn twenty_concurrent_failures_let_exactly_five_reach_the_vendor() {
    let h = Arc::new(Harness::new().await);
    let location = h.location(&ola(), "923609016").await;
    let requests = (0..20).map(|i| {
        let h = h.clone();
        let location = location.clone();
        tokio::spawn(async move {
            let route = if i % 2 == 0 { "test" } else { "save" };
            let mut body = pasientsky(&format!("wrong-key-{i}"));
            body["version"] = json!(1);
            if route == "test" {
                body.as_object_mut().unwrap().remove("version");
            }
            h.call(
                "POST",
                &format!("{location}/booking/{route}"),
                &ola(),
                Some(body),
            )
            .await
        })
    });
    let mut statuses = Vec::new();
    for request in requests {
        let answer = request.await.unwrap();
        if answer.status == 429 {
            assert!(answer.header("retry-after").is_some());
            assert_eq!(answer.body["attempts_remaining"], 0);
        }
        statuses.push(answer.status);
    }
    assert_eq!(h.calls(), 5, "exactly five checks reached the sandbox");
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        15,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn the_lock_lifts_an_hour_after_the_fifth_failure() {
    let h = Harness::new().await;
    let location = h.location(&ola(), "923609016").await;
    let recording = metrics::record();
    for i in 0..5u64 {
        let answer = h.test(&ola(), &location, pasientsky("wrong-key")).await;
        assert_eq!(answer.body["attempts_remaining"], 4 - i);
        let lockouts = if i == 4 { 1.0 } else { 0.0 };
        assert_eq!(recording.total(&metrics::LOCKOUTS_STARTED), lockouts);
        h.clock.advance(300);
    }
    let checks = recording.values(&metrics::CONNECTION_CHECKS);
    assert_eq!(checks.len(), 5);
    assert!(
        checks
            .iter()
            .all(|(_, d)| d["System"] == "pasientsky" && d["Outcome"] == "rejected"),
        "{checks:?}"
    );
    let fifth = h.clock.now() - 300;
    let locked = h.test(&ola(), &location, pasientsky(KEY_OK)).await;
    assert_eq!(locked.problem(), (429, Some("too_many_attempts")));
    let retry_after: i64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert_eq!(h.clock.now() + retry_after, fifth + 3_600);
    let when = format!(
        "prøve igjen kl. {}",
        bookinglink::clock::oslo_hhmm(fifth + 3_600)
    );
    assert!(
        locked.body["detail"].as_str().unwrap().contains(&when),
        "{}",
        locked.raw
    );
    let save_locked = h.save(&ola(), &location, pasientsky(KEY_OK), 1).await;
    assert_eq!(save_locked.status, 429, "the lock covers both routes");
    assert_eq!(h.calls(), 5);

    // Another administrator is not affected.
    let kari_location = h.location(&Identity::jwt("kari"), "974760673").await;
    assert_eq!(
        h.test(&Identity::jwt("kari"), &kari_location, pasientsky(KEY_OK))
            .await
            .status,
        200
    );

    h.clock.set(fifth + 3_599);
    assert_eq!(
        h.test(&ola(), &location, pasientsky(KEY_OK)).await.status,
        429
    );
    h.clock.set(fifth + 3_600);
    let slots = h
        .ddb
        .query()
        .table_name(&h.table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S("ATTEMPTS#ola".into()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        slots.items().len(),
        5,
        "the attempt items are still in the table"
    );
    let lifted = h.test(&ola(), &location, pasientsky(KEY_OK)).await;
    assert_eq!(
        (lifted.status, lifted.body["status"].as_str()),
        (200, Some("success"))
    );
    assert_eq!(lifted.body["attempts_remaining"], 5);
}

#[tokio::test]
async fn a_success_resets_the_count() {
    let h = Harness::new().await;
    let location = h.location(&ola(), "923609016").await;
    for _ in 0..4 {
        h.test(&ola(), &location, pasientsky("wrong-key")).await;
    }
    let ok = h.test(&ola(), &location, pasientsky(KEY_OK)).await;
    assert_eq!(ok.body["attempts_remaining"], 5);
    for _ in 0..4 {
        assert_eq!(
            h.test(&ola(), &location, pasientsky("wrong-key"))
                .await
                .status,
            200
        );
    }
}

/// The attack a working location of one's own would allow if any success forgave every
/// failure: four wrong keys on A, a passing test on B, four more on A. The fifth guess at A
/// locks the administrator out; no more than five guesses reach the vendor.
#[tokio::test]
async fn a_success_on_another_location_forgives_nothing() {
    let h = Harness::new().await;
    let target = h.location(&ola(), "923609016").await;
    let own = h.location(&ola(), "974760673").await;
    for _ in 0..4 {
        h.test(&ola(), &target, pasientsky("wrong-key")).await;
    }
    let ok = h.test(&ola(), &own, pasientsky(KEY_OK)).await;
    assert_eq!(ok.body["status"], "success", "{}", ok.raw);
    assert_eq!(ok.body["attempts_remaining"], 1, "{}", ok.raw);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            h.test(&ola(), &target, pasientsky("wrong-key"))
                .await
                .status,
        );
    }
    assert_eq!(statuses, [200, 429, 429, 429]);
    assert_eq!(h.calls(), 6, "five guesses and the one passing test");
    let locked = h.test(&ola(), &own, pasientsky(KEY_OK)).await;
    assert_eq!(locked.body["lock_scope"], "administrator", "{}", locked.raw);
}

/// Several administrators of one location together get ten failed tests an hour on it.
#[tokio::test]
async fn failures_on_one_location_are_capped_across_administrators() {
    let h = Harness::new().await;
    let location = h.location(&ola(), "923609016").await;
    let company = location.split('/').nth(3).unwrap().to_string();
    let admins: Vec<String> = (0..3).map(|i| format!("admin-{i}")).collect();
    for sub in &admins {
        // A membership item as the store writes one (pk USER#<sub>, sk COMPANY#<id>).
        use aws_sdk_dynamodb::types::AttributeValue::{N, S};
        h.ddb
            .put_item()
            .table_name(&h.table)
            .item("pk", S(format!("USER#{sub}")))
            .item("sk", S(format!("COMPANY#{company}")))
            .item("gsi1pk", S(format!("COMPANY#{company}")))
            .item("gsi1sk", S(format!("ADMIN#{sub}")))
            .item("entity", S("membership".into()))
            .item("user_sub", S(sub.clone()))
            .item("company_id", S(company.clone()))
            .item("created_at", N(START.to_string()))
            .send()
            .await
            .unwrap();
    }
    let mut reached = 0;
    for sub in &admins {
        for _ in 0..4 {
            let answer = h
                .test(&Identity::jwt(sub), &location, pasientsky("wrong-key"))
                .await;
            if answer.status == 200 {
                reached += 1;
            } else {
                assert_eq!(answer.status, 429, "{}", answer.raw);
                assert_eq!(answer.body["lock_scope"], "location", "{}", answer.raw);
                assert_eq!(answer.body["attempts_remaining"], 0);
            }
        }
    }
    assert_eq!(reached, 10);
    assert_eq!(h.calls(), 10);
    // The location's own administrator, with no failure of their own, is refused too; their
    // other locations are not.
    let refused = h.test(&ola(), &location, pasientsky(KEY_OK)).await;
    assert_eq!(
        (refused.status, refused.body["lock_scope"].as_str()),
        (429, Some("location"))
    );
    let other = h.location(&ola(), "974760673").await;
    assert_eq!(h.test(&ola(), &other, pasientsky(KEY_OK)).await.status, 200);
    h.clock.advance(3_600);
    assert_eq!(
        h.test(&ola(), &location, pasientsky(KEY_OK)).await.status,
        200
    );
}

#[tokio::test]
async fn a_stored_key_is_reused_only_for_the_same_system() {
    let h = Harness::new().await;
    let location = h.saved_location().await;
    let mut without_key = pasientsky("");
    without_key.as_object_mut().unwrap().remove("api_key");
    let reused = h.test(&ola(), &location, without_key.clone()).await;
    assert_eq!(reused.body["status"], "success", "{}", reused.raw);
    let mut saved_again = without_key.clone();
    saved_again["offline"] = json!(true);
    let saved = h.save(&ola(), &location, saved_again, 2).await;
    assert_eq!(saved.status, 200, "{}", saved.raw);
    assert_eq!(h.stored_key(&location).await.as_deref(), Some(KEY_OK));

    let other_system = json!({"system": "hano", "external_id": CLINIC_OK});
    let refused = h.test(&ola(), &location, other_system).await;
    assert_eq!(
        (refused.status, refused.error_fields()),
        (422, vec!["api_key".to_string()])
    );
    assert!(
        refused.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("byttet system")
    );
}

#[tokio::test]
async fn a_failure_at_each_write_of_a_save_keeps_configuration_and_key_together() {
    let h = Harness::new().await;
    let location = h.saved_location().await;
    let first_version = h
        .secret_version(&location)
        .await
        .expect("a key version is stored");
    // A second configuration at another clinic with another working key is not possible in
    // the sandbox, so the saves below change the department and switch offline on.
    let second = |offline: bool| {
        let mut body = pasientsky(KEY_OK);
        body["offline"] = json!(offline);
        body
    };

    // Cut at the key write, then at the commit: each leaves the first configuration with its key.
    for cut_at in [&h.secrets.fail_put, &h.store.fail_save] {
        cut_at.store(true, Ordering::SeqCst);
        let cut = h.save(&ola(), &location, second(true), 2).await;
        assert_eq!(cut.status, 500, "{}", cut.raw);
        cut_at.store(false, Ordering::SeqCst);
        let now = h.get(&ola(), &location).await;
        assert_eq!(
            (now.body["version"].as_u64(), now.body["offline"].as_bool()),
            (Some(2), Some(false))
        );
        assert_eq!(
            h.secret_version(&location).await.as_ref(),
            Some(&first_version)
        );
        assert_eq!(h.stored_key(&location).await.as_deref(), Some(KEY_OK));
    }

    h.secrets.fail_promote.store(true, Ordering::SeqCst);
    let committed = h.save(&ola(), &location, second(true), 2).await;
    assert_eq!(
        committed.status, 200,
        "the commit is the save; promotion is tidying: {}",
        committed.raw
    );
    h.secrets.fail_promote.store(false, Ordering::SeqCst);
    let committed_version = h.secret_version(&location).await.unwrap();
    assert_ne!(
        committed_version, first_version,
        "the new configuration names its own key version"
    );
    assert_eq!(h.stored_key(&location).await.as_deref(), Some(KEY_OK));

    // The answer to that save was "lost": the administrator sends the same save again.
    let replay = h.save(&ola(), &location, second(true), 2).await;
    assert_eq!(replay.status, 200, "{}", replay.raw);
    assert_eq!(replay.body["location"]["version"], 3);
    // A different save against the old version is still a conflict.
    let conflict = h.save(&ola(), &location, second(false), 2).await;
    assert_eq!(conflict.status, 409);
    // And after each cut above, retrying worked: version 3 holds the new configuration.
    let now = h.get(&ola(), &location).await;
    assert_eq!(
        (now.body["version"].as_u64(), now.body["offline"].as_bool()),
        (Some(3), Some(true))
    );
}

#[tokio::test]
async fn api_keys_never_leak_into_answers_items_or_logs() {
    let h = Harness::new().await;
    let location = h.location(&ola(), "923609016").await;
    let secret_wrong = format!("wrong-{}", uuid::Uuid::new_v4());
    leaks::watch(&secret_wrong);
    let recording = metrics::record();
    h.test(&ola(), &location, pasientsky(KEY_OK)).await;
    h.test(&ola(), &location, pasientsky(&secret_wrong)).await;
    h.save(&ola(), &location, pasientsky(&secret_wrong), 1)
        .await;
    h.save(&ola(), &location, pasientsky(KEY_OK), 1).await;
    h.test(&ola(), &location, pasientsky(KEY_500)).await;
    h.get(&ola(), &location).await;
    let metric_lines: Vec<String> = recording.lines().iter().map(|l| l.to_string()).collect();
    assert_eq!(metric_lines.len(), 5, "one metric line per check");
    for line in &metric_lines {
        leaks::check("a metric line", line);
    }
    // Every answer was checked as it was made; the items of every table this binary made so
    // far and every log line are checked here.
    assert!(
        leaks::capture_logs().text().contains("connection check"),
        "logs were captured"
    );
    leaks::assert_no_leaks(&h.ddb).await;
}

#[tokio::test]
async fn a_failed_save_speaks_the_requested_language() {
    let h = Harness::new().await;
    let location = h.location(&ola(), "923609016").await;
    let mut body = pasientsky("wrong-key");
    body["version"] = json!(1);
    let request = event(
        "POST",
        &format!("{location}/booking/save"),
        &ola(),
        &[("accept-language", "en")],
        Some(&body.to_string()),
    );
    let answer = Answer::from(test_and_save::handle(&h.save, request).await);
    assert_eq!(
        (answer.status, answer.body["status"].as_u64()),
        (422, Some(422))
    );
    let failed = answer.failed_step().unwrap().clone();
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .contains("did not accept the API key"),
        "{failed}"
    );
    assert!(
        answer.body["detail"]
            .as_str()
            .unwrap()
            .contains("did not accept")
    );
}

/// Every way a save can end leaves the version the location names labelled AWSCURRENT and no
/// AWSPENDING behind: read back from Secrets Manager after each.
#[tokio::test]
async fn every_save_ends_with_the_committed_key_current_and_nothing_pending() {
    let h = Harness::new().await;
    let location = h.location(&ola(), "923609016").await;
    let settled = |expected: String| {
        let h = &h;
        let location = &location;
        async move {
            assert_eq!(h.secret_version(location).await.as_ref(), Some(&expected));
            assert_eq!(
                h.holders(location, "AWSCURRENT").await,
                vec![expected.clone()]
            );
            assert!(
                h.holders(location, "AWSPENDING").await.is_empty(),
                "{:?}",
                h.versions(location).await
            );
            assert_eq!(h.stored_key(location).await.as_deref(), Some(KEY_OK));
        }
    };
    let with = |offline: bool| {
        let mut body = pasientsky(KEY_OK);
        body["offline"] = json!(offline);
        body
    };

    // The first key.
    assert_eq!(h.save(&ola(), &location, with(false), 1).await.status, 200);
    let v1 = h.secret_version(&location).await.unwrap();
    settled(v1.clone()).await;

    // The check passes, the commit fails: the new version does not keep the pending label.
    h.store.fail_save.store(true, Ordering::SeqCst);
    assert_eq!(h.save(&ola(), &location, with(true), 2).await.status, 500);
    h.store.fail_save.store(false, Ordering::SeqCst);
    settled(v1.clone()).await;
    assert_eq!(
        h.versions(&location).await.0.len(),
        2,
        "the discarded version is unlabelled"
    );

    // The commit succeeds, the promotion is lost: the committed version holds only the pending
    // label for now.
    h.secrets.fail_promote.store(true, Ordering::SeqCst);
    assert_eq!(h.save(&ola(), &location, with(true), 2).await.status, 200);
    h.secrets.fail_promote.store(false, Ordering::SeqCst);
    let v2 = h.secret_version(&location).await.unwrap();
    assert_ne!(v2, v1);
    assert_eq!(h.holders(&location, "AWSPENDING").await, vec![v2.clone()]);

    // The next save repairs before it writes: even when its own commit fails, the committed
    // version ends current, and nothing is left pending.
    h.store.fail_save.store(true, Ordering::SeqCst);
    assert_eq!(h.save(&ola(), &location, with(false), 3).await.status, 500);
    h.store.fail_save.store(false, Ordering::SeqCst);
    settled(v2.clone()).await;

    // A save that reuses the stored key changes no label and leaves none behind.
    let mut reuse = with(false);
    reuse.as_object_mut().unwrap().remove("api_key");
    assert_eq!(h.save(&ola(), &location, reuse, 3).await.status, 200);
    settled(v2.clone()).await;

    // And a plain save of a new key.
    assert_eq!(h.save(&ola(), &location, with(true), 4).await.status, 200);
    let v3 = h.secret_version(&location).await.unwrap();
    assert_ne!(v3, v2);
    settled(v3).await;
}

/// A location switched to a system without a key (Extensor) has its secret scheduled for
/// deletion, and the answer says so; a key saved later brings the secret back.
#[tokio::test]
async fn switching_to_a_system_without_a_key_schedules_the_key_for_deletion() {
    let h = Harness::new().await;
    let location = h.saved_location().await;
    let extensor =
        json!({"system": "extensor", "booking_url": "https://booking.extensor.no/sandbox/ok"});
    let switched = h.save(&ola(), &location, extensor, 2).await;
    assert_eq!(switched.status, 200, "{}", switched.raw);
    let deletion = &switched.body["stored_key_deletion"];
    assert_eq!(deletion["recovery_window_days"], 7, "{}", switched.raw);
    let date = deletion["deletion_date"].as_str().unwrap();
    assert!(date.ends_with('Z'), "{date}");
    assert!(
        deletion["message"]
            .as_str()
            .unwrap()
            .contains("bruker ingen API-nøkkel"),
        "{deletion}"
    );
    assert_eq!(
        switched.body["location"]["booking"]["api_key_stored"], false,
        "{}",
        switched.raw
    );
    assert!(
        h.versions(&location).await.1,
        "the secret is scheduled for deletion"
    );

    // Back to a system with a key: the secret is restored and holds the new key.
    let back = h.save(&ola(), &location, pasientsky(KEY_OK), 3).await;
    assert_eq!(back.status, 200, "{}", back.raw);
    assert!(back.body.get("stored_key_deletion").is_none());
    assert!(!h.versions(&location).await.1, "restored");
    let current = h.secret_version(&location).await.unwrap();
    assert_eq!(h.holders(&location, "AWSCURRENT").await, vec![current]);
    assert!(h.holders(&location, "AWSPENDING").await.is_empty());
    assert_eq!(h.stored_key(&location).await.as_deref(), Some(KEY_OK));
}
