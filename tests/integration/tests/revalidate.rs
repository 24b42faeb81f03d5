//! Nightly revalidation against the AWS emulator (DynamoDB, Secrets Manager) and the vendor
//! sandbox over real HTTP. Mail goes to a recording mailer; the SES mailer itself is covered
//! by the request-details tests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bookinglink::api_key::ApiKey;
use bookinglink::booking::key_store::aws::SecretsManager;
use bookinglink::booking::key_store::{KeyStore, LocationKeys, NewVersion};
use bookinglink::clock::{Clock, ManualClock, Timestamp};
use bookinglink::mail::RecordingMailer;
use bookinglink::model::{
    BookingConfig, CheckSource, CheckStatus, CheckSummary, Company, Health, Location, Membership,
};
use bookinglink::revalidate::{
    self, Allowance, CheckRecord, IndexPage, RevalidateDeps, RevalidationStore, RunLease, RunState,
    RunSummary, SavedConfig, Settings,
};
use bookinglink::store::dynamo::DynamoStore;
use bookinglink::store::{
    BookingSave, CompanyCreation, CompanyStore, LocationCreation, LocationPatch, LocationStore,
    LocationWrite, StoreError,
};
use integration_tests::demo::{fleet_location, saved_pasientsky, seed_entry};
use integration_tests::permissions::{guarded_dynamodb, guarded_secretsmanager};
use integration_tests::stack::sandbox_vendors_at;
use integration_tests::{emulator_config, fresh_table, leaks};
use vendor_sandbox::{KEY_500, KEY_OK};

const NIGHT: Timestamp = 1_795_651_200; // 2026-11-26 01:00 Oslo

fn sandbox_url() -> &'static str {
    vendor_sandbox::shared(vendor_sandbox::Options::default().slow)
}

/// The real store, counting how often each location's result is recorded.
struct Counted {
    inner: DynamoStore,
    recorded: Mutex<HashMap<String, u32>>,
}

#[async_trait]
impl RevalidationStore for Counted {
    async fn saved_configs(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<IndexPage, StoreError> {
        self.inner.saved_configs(after, limit).await
    }
    async fn record_check(
        &self,
        config: &SavedConfig,
        record: &CheckRecord,
    ) -> Result<bool, StoreError> {
        *self
            .recorded
            .lock()
            .unwrap()
            .entry(config.location_id.clone())
            .or_default() += 1;
        self.inner.record_check(config, record).await
    }
    async fn clear_notice(&self, config: &SavedConfig) -> Result<(), StoreError> {
        self.inner.clear_notice(config).await
    }
    async fn administrators(&self, company_id: &str) -> Result<Vec<Membership>, StoreError> {
        self.inner.administrators(company_id).await
    }
    async fn acquire_run(
        &self,
        lease: RunLease<'_>,
        now: Timestamp,
    ) -> Result<Option<RunState>, StoreError> {
        self.inner.acquire_run(lease, now).await
    }
    async fn save_run(
        &self,
        state: &RunState,
        release: bool,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.inner.save_run(state, release, now).await
    }
}

struct Fleet {
    store: DynamoStore,
    /// The run's store, on a client that may do only what the revalidate role grants.
    counted: Arc<Counted>,
    /// For the set-up: the keys the locations were saved with.
    secrets: Arc<SecretsManager>,
    /// The run's key reads, limited to the revalidate role.
    run_secrets: Arc<SecretsManager>,
    mailer: Arc<RecordingMailer>,
    clock: Arc<ManualClock>,
    prefix: String,
    company: String,
}

impl Fleet {
    async fn new() -> Self {
        let (client, table) = fresh_table().await;
        let store = DynamoStore::new(client, table.clone());
        let config = emulator_config().await;
        let prefix = format!("test-{}/", uuid::Uuid::new_v4());
        let company = "c0000000-0000-4000-8000-00000000000a".to_string();
        let company_record = Company {
            id: company.clone(),
            name: "Fysio AS".into(),
            org_number: "923609016".into(),
            invoice_email: None,
            created_at: 0,
            created_by: "ola".into(),
        };
        let admin = Membership {
            user_sub: "ola".into(),
            company_id: company.clone(),
            email: Some("ola@fysio.no".into()),
            name: Some("Ola".into()),
            created_at: 0,
            invited_by: None,
        };
        store
            .create_company(CompanyCreation {
                company: &company_record,
                admin: Some(&admin),
                audit: &seed_entry(&company, "company_created", serde_json::json!({}), 0),
            })
            .await
            .unwrap();
        Fleet {
            counted: Arc::new(Counted {
                inner: DynamoStore::new(
                    guarded_dynamodb(&config, "revalidate", &table),
                    table.clone(),
                ),
                recorded: Mutex::new(HashMap::new()),
            }),
            store,
            secrets: Arc::new(SecretsManager::new(aws_sdk_secretsmanager::Client::new(
                &config,
            ))),
            run_secrets: Arc::new(SecretsManager::new(guarded_secretsmanager(
                &config,
                "revalidate",
                &prefix,
            ))),
            mailer: Arc::new(RecordingMailer::new()),
            clock: Arc::new(ManualClock::at(NIGHT)),
            prefix,
            company,
        }
    }

    fn deps(&self, vendor_url: &str, page_size: u32) -> Arc<RevalidateDeps> {
        Arc::new(RevalidateDeps {
            store: self.counted.clone(),
            keys: LocationKeys {
                store: self.run_secrets.clone(),
                prefix: self.prefix.clone(),
            },
            vendors: Arc::new(sandbox_vendors_at(vendor_url, Duration::from_millis(1500))),
            mailer: self.mailer.clone(),
            clock: self.clock.clone(),
            settings: Settings {
                concurrency: 4,
                per_vendor: 4,
                page_size,
            },
        })
    }

    /// One invocation against the shared sandbox with no budget limit.
    async fn run_unlimited(&self, page_size: u32, night: &str) -> RunSummary {
        revalidate::run(
            self.deps(sandbox_url(), page_size),
            night,
            &Allowance::unlimited(),
        )
        .await
        .unwrap()
    }

    /// A location whose EG Pasientsky configuration was saved with `key`.
    async fn saved(&self, n: u32, key: &str) -> String {
        let location = fleet_location(&self.company, n.into(), "ola");
        self.store
            .create_location(LocationCreation {
                location: &location,
                max_per_company: bookinglink::domain::locations::DEFAULT_MAX_PER_COMPANY,
                audit: &seed_entry(&self.company, "location_created", serde_json::json!({}), 0),
            })
            .await
            .unwrap();
        self.save(&location.id, key, 1).await;
        location.id
    }

    /// What "Test og lagre" stores: a key version, then the configuration naming it.
    async fn save(&self, location: &str, key: &str, version: u64) -> Location {
        let version_id = self.put_key(location, key).await;
        let booking = BookingConfig {
            last_check: Some(CheckSummary {
                status: CheckStatus::Success,
                checked_at: self.clock.now(),
                source: CheckSource::Save,
                failed_code: None,
                steps: Vec::new(),
            }),
            saved_by: Some("ola@fysio.no".into()),
            saved_at: Some(self.clock.now()),
            ..saved_pasientsky(version_id)
        };
        self.store
            .save_booking(BookingSave {
                write: LocationWrite {
                    company_id: &self.company,
                    location_id: location,
                    expected_version: version,
                    now: self.clock.now(),
                    by: "ola",
                    audit: &seed_entry(&self.company, "booking_saved", serde_json::json!({}), 0),
                },
                booking: &booking,
                offline: false,
            })
            .await
            .unwrap()
    }

    async fn put_key(&self, location: &str, key: &str) -> String {
        let version_id = uuid::Uuid::new_v4().to_string();
        let name = format!("{}{}/{location}", self.prefix, self.company);
        self.secrets
            .put_pending(
                &name,
                NewVersion {
                    id: &version_id,
                    key: &ApiKey::new(key),
                    tags: &[],
                },
            )
            .await
            .unwrap();
        version_id
    }

    async fn location(&self, id: &str) -> Location {
        self.store
            .location(&self.company, id)
            .await
            .unwrap()
            .unwrap()
    }

    fn mails(&self) -> Vec<(String, Vec<String>)> {
        self.mailer
            .sent()
            .into_iter()
            .map(|m| (m.subject, m.to))
            .collect()
    }
}

fn check(location: &Location) -> CheckSummary {
    location.booking.clone().unwrap().last_check.unwrap()
}

#[tokio::test]
async fn a_mixed_fleet_gets_the_right_statuses_and_one_notice() {
    let fleet = Fleet::new().await;
    leaks::watch("revoked-key");
    let working = fleet.saved(1, KEY_OK).await;
    let revoked = fleet.saved(2, "revoked-key").await;
    let vendor_down = fleet.saved(3, KEY_500).await;
    let summary = fleet.run_unlimited(10, "2026-11-26").await;
    assert!(summary.done);
    assert_eq!(
        (
            summary.checked_now,
            summary.succeeded,
            summary.failed,
            summary.unavailable
        ),
        (3, 1, 1, 1)
    );

    let statuses: Vec<(CheckStatus, Option<Health>, CheckSource)> = {
        let mut out = Vec::new();
        for id in [&working, &revoked, &vendor_down] {
            let location = fleet.location(id).await;
            let booking = location.booking.clone().unwrap();
            out.push((
                check(&location).status,
                booking.health,
                check(&location).source,
            ));
        }
        out
    };
    assert_eq!(
        statuses,
        [
            (
                CheckStatus::Success,
                Some(Health::Ok),
                CheckSource::Revalidation
            ),
            (
                CheckStatus::Failure,
                Some(Health::Failing),
                CheckSource::Revalidation
            ),
            (
                CheckStatus::Unavailable,
                Some(Health::Ok),
                CheckSource::Revalidation
            ),
        ]
    );
    assert_eq!(
        check(&fleet.location(&revoked).await)
            .failed_code
            .as_deref(),
        Some("api_key_rejected")
    );
    // The list's booking summary shows the failing revalidation.
    let summary_json = fleet.location(&revoked).await.to_summary_json();
    assert_eq!(summary_json["booking"]["state"], "failing");
    assert_eq!(summary_json["booking"]["last_check_source"], "revalidation");
    assert_eq!(
        fleet.location(&vendor_down).await.to_summary_json()["booking"]["state"],
        "vendor_unavailable"
    );
    // Revalidation changes no configuration and no version.
    assert_eq!(fleet.location(&working).await.version, 2);

    let mails = fleet.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(
        mails[0].0,
        "Bookingkoblingen for Lokasjon 2 virker ikke lenger"
    );
    assert_eq!(mails[0].1, ["ola@fysio.no"]);
    let text = &fleet.mailer.sent()[0].text;
    assert!(
        text.contains("EG Pasientsky godtok ikke API-nøkkelen"),
        "{text}"
    );
    assert!(!text.contains("revoked-key"), "no key in the mail");
    leaks::check_mails(&fleet.mailer.sent());
    leaks::assert_no_leaks(&aws_sdk_dynamodb::Client::new(&emulator_config().await)).await;
}

#[tokio::test]
async fn transitions_are_mailed_exactly_once() {
    let fleet = Fleet::new().await;
    let revoked = fleet.saved(1, "revoked-key").await;
    let deps = fleet.deps(sandbox_url(), 10);
    for night in ["2026-11-26", "2026-11-27", "2026-11-28"] {
        revalidate::run(deps.clone(), night, &Allowance::unlimited())
            .await
            .unwrap();
        fleet.clock.advance(86_400);
    }
    assert_eq!(
        fleet.mails().len(),
        1,
        "broken is told once, not every night"
    );

    // The vendor accepts the clinic's key again (the stored version now holds a working key);
    // nothing in the saved configuration changes.
    let good_version = fleet.put_key(&revoked, KEY_OK).await;
    let location = fleet.location(&revoked).await;
    let mut booking = location.booking.clone().unwrap();
    let config_id = booking.config_id.clone();
    booking.secret_version_id = Some(good_version);
    fleet
        .store
        .client()
        .update_item()
        .table_name(fleet.store.table())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("COMPANY#{}", fleet.company)),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("LOCATION#{revoked}")),
        )
        .update_expression("SET booking = :b")
        .expression_attribute_values(
            ":b",
            bookinglink::store::dynamo::booking_attribute(&booking),
        )
        .send()
        .await
        .unwrap();
    for night in ["2026-11-29", "2026-11-30"] {
        revalidate::run(deps.clone(), night, &Allowance::unlimited())
            .await
            .unwrap();
    }
    let mails = fleet.mails();
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert_eq!(mails[1].0, "Bookingkoblingen for Lokasjon 1 virker igjen");
    let now = fleet.location(&revoked).await.booking.unwrap();
    assert_eq!((now.health, now.config_id), (Some(Health::Ok), config_id));
    assert_eq!(now.notice_pending, None);
}

#[tokio::test]
async fn a_save_during_the_run_is_never_overwritten() {
    let fleet = Fleet::new().await;
    let location = fleet.saved(1, "revoked-key").await;
    let edited = fleet.saved(2, KEY_OK).await;
    // A sandbox slow enough that the saves below land while the checks are in flight.
    let slow = vendor_sandbox::start(
        0,
        vendor_sandbox::Options {
            latency: Duration::from_millis(700),
            slow: Duration::from_secs(5),
        },
    )
    .await
    .unwrap();
    let deps = fleet.deps(&slow.url(), 10);
    let run =
        tokio::spawn(
            async move { revalidate::run(deps, "2026-11-26", &Allowance::unlimited()).await },
        );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let saved = fleet.save(&location, KEY_OK, 2).await;
    let patched = fleet
        .store
        .update_location(
            LocationWrite {
                company_id: &fleet.company,
                location_id: &edited,
                expected_version: 2,
                now: fleet.clock.now(),
                by: "kari",
                audit: &seed_entry(&fleet.company, "location_edited", serde_json::json!({}), 0),
            },
            &LocationPatch {
                name: Some("Nytt navn".into()),
                ..LocationPatch::default()
            },
        )
        .await
        .unwrap();
    run.await.unwrap().unwrap();

    let now = fleet.location(&location).await;
    assert_eq!(now.version, 3);
    assert_eq!(
        now.booking, saved.booking,
        "the save's configuration and check stand"
    );
    assert!(
        fleet.mails().is_empty(),
        "the failing check of the replaced configuration is not told"
    );

    let now = fleet.location(&edited).await;
    assert_eq!(
        (now.name.as_str(), now.version),
        ("Nytt navn", patched.version)
    );
    assert_eq!(
        check(&now).source,
        CheckSource::Revalidation,
        "the result is recorded beside the edit"
    );
}

#[tokio::test]
async fn a_run_cut_by_the_deadline_resumes_without_skipping_or_repeating() {
    let fleet = Fleet::new().await;
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(fleet.saved(n, KEY_OK).await);
    }
    let deps = fleet.deps(sandbox_url(), 3);
    // Before the first page, its three checks, before the second page, two of its checks:
    // the budget runs out inside the second page.
    let first = revalidate::run(deps.clone(), "2026-11-26", &Allowance::new(7))
        .await
        .unwrap();
    assert_eq!((first.done, first.checked_now), (false, 5));
    let second = revalidate::run(deps.clone(), "2026-11-26", &Allowance::unlimited())
        .await
        .unwrap();
    assert_eq!(
        (second.done, second.checked_now, second.checked_in_run),
        (true, 5, 10)
    );
    let finished = revalidate::run(deps, "2026-11-26", &Allowance::unlimited())
        .await
        .unwrap();
    assert_eq!(finished.checked_now, 0, "a finished run is not repeated");
    let recorded = fleet.counted.recorded.lock().unwrap().clone();
    assert_eq!(recorded.len(), 10);
    assert!(recorded.values().all(|n| *n == 1), "{recorded:?}");
    for id in &ids {
        assert_eq!(
            check(&fleet.location(id).await).source,
            CheckSource::Revalidation
        );
    }
}

#[tokio::test]
async fn only_one_invocation_works_on_a_run_at_a_time() {
    let fleet = Fleet::new().await;
    fleet.saved(1, KEY_OK).await;
    let lease = fleet
        .counted
        .acquire_run(
            RunLease {
                run_id: "2026-11-26",
                lease_id: "other-invocation",
                until: NIGHT + 900,
            },
            NIGHT,
        )
        .await
        .unwrap();
    assert!(lease.is_some());
    let blocked = fleet.run_unlimited(10, "2026-11-26").await;
    assert!(!blocked.ran);
    // An invocation that died leaves its lease behind; it frees itself at that invocation's
    // deadline.
    fleet.clock.advance(900);
    let resumed = fleet.run_unlimited(10, "2026-11-26").await;
    assert!(resumed.ran && resumed.done);
}

#[test]
fn a_night_is_one_run_named_by_its_date_in_oslo() {
    assert_eq!(revalidate::run_id_for(NIGHT), "2026-11-26");
    assert_eq!(
        revalidate::run_id_for(NIGHT - 3_600),
        "2026-11-26",
        "00:00 in Oslo"
    );
    assert_eq!(revalidate::run_id_for(NIGHT - 3_601), "2026-11-25");
}

#[tokio::test]
async fn the_function_runs_the_run_named_in_its_event() {
    let fleet = Fleet::new().await;
    fleet.saved(1, KEY_OK).await;
    let event = lambda_runtime::LambdaEvent::new(
        serde_json::json!({"run_id": "2026-12-01"}),
        lambda_runtime::Context::default(),
    );
    let app = revalidate_function::App {
        deps: fleet.deps(sandbox_url(), 10),
    };
    let answer = revalidate_function::handle(&app, event).await.unwrap();
    assert_eq!(answer["run_id"], "2026-12-01");
    assert_eq!(
        (answer["done"].as_bool(), answer["succeeded"].as_u64()),
        (Some(true), Some(1))
    );
}

/// An item in the index of saved configurations that does not read as one (here: a location
/// without its address) is skipped, counted and logged; every location after it is checked.
#[tokio::test]
async fn an_unreadable_item_does_not_stop_the_run() {
    let fleet = Fleet::new().await;
    for n in [1, 2, 4, 5] {
        fleet.saved(n, KEY_OK).await;
    }
    // Sorted between locations 2 and 4 in the index; the page size puts it mid-page.
    use aws_sdk_dynamodb::types::AttributeValue::S;
    let damaged = format!("10000000-0000-4000-8000-{:012}", 3);
    let ddb = aws_sdk_dynamodb::Client::new(&emulator_config().await);
    ddb.put_item()
        .table_name(fleet.store.table())
        .item("pk", S(format!("COMPANY#{}", fleet.company)))
        .item("sk", S(format!("LOCATION#{damaged}")))
        .item("gsi2pk", S("BOOKING".into()))
        .item("gsi2sk", S(format!("{}#{damaged}", fleet.company)))
        .item("name", S("Skadet".into()))
        .send()
        .await
        .unwrap();
    let summary = fleet.run_unlimited(3, "2026-11-26").await;
    assert!(summary.done, "{summary:?}");
    assert_eq!(
        (summary.checked_now, summary.succeeded, summary.unreadable),
        (4, 4, 1)
    );
    assert!(
        leaks::capture_logs()
            .text()
            .contains(&format!("LOCATION#{damaged}")),
        "the item's key is logged"
    );
}
