//! Every function of the API on one fresh table, with a recording mailer, the in-process vendor
//! sandbox and Secrets Manager in the emulator: the trust-model tests send each request to the
//! function the route table names.

// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use bookinglink::booking::BookingDeps;
use bookinglink::booking::key_store::aws::SecretsManager;
use bookinglink::clock::{ManualClock, Timestamp};
use bookinglink::mail::RecordingMailer;
use bookinglink::model::AuditEntry;
use bookinglink::store::dynamo::{DynamoStore, from_attribute};
use bookinglink::vendors::{Vendors, VendorsConfig};
use integration_tests::permissions::{guarded_dynamodb, guarded_secretsmanager};
use integration_tests::{Answer, Identity, emulator_config, event, fresh_table};
use serde_json::Value;

pub const NOW: Timestamp = 1_795_608_000;

fn sandbox_url() -> &'static str {
    vendor_sandbox::shared(Duration::from_secs(5))
}

pub struct Stack {
    pub store: Arc<DynamoStore>,
    pub clock: Arc<ManualClock>,
    /// Invitation mail.
    pub invitations: Arc<RecordingMailer>,
    /// "Forespør detaljer" and revalidation notices.
    pub mail: Arc<RecordingMailer>,
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
    locations: locations::App,
    details: request_details::App,
    test: test_connection::App,
    save: test_and_save::App,
    admins: admins::App,
}

impl Stack {
    pub async fn new() -> Self {
        let (client, table) = fresh_table().await;
        let store = Arc::new(DynamoStore::new(client.clone(), table.clone()));
        let config = emulator_config().await;
        // The functions run on clients that may do only what their roles in the template
        // grant; `store` (unlimited) is the tests' own, for set-up and reading back.
        let guarded = |function: &str| {
            Arc::new(DynamoStore::new(
                guarded_dynamodb(&config, function, &table),
                table.clone(),
            ))
        };
        let clock = Arc::new(ManualClock::at(NOW));
        let vendors = Arc::new(
            Vendors::new(VendorsConfig::sandbox(
                sandbox_url(),
                Duration::from_secs(3),
            ))
            .unwrap()
            .with_clock(clock.clone()),
        );
        let prefix = format!("trust-test/{}/", uuid::Uuid::new_v4());
        let deps = |function: &str| {
            let store = guarded(function);
            BookingDeps {
                store: store.clone(),
                attempts: store,
                secrets: Arc::new(SecretsManager::new(guarded_secretsmanager(
                    &config, function, &prefix,
                ))),
                vendors: vendors.clone(),
                clock: clock.clone(),
                secret_prefix: prefix.clone(),
            }
        };
        let admins = guarded("admins");
        let invitations = Arc::new(RecordingMailer::new());
        let mail = Arc::new(RecordingMailer::new());
        Stack {
            locations: locations::App {
                store: guarded("locations"),
                clock: clock.clone(),
                dev_identity_headers: false,
                max_locations_per_company: bookinglink::domain::locations::DEFAULT_MAX_PER_COMPANY,
            },
            details: request_details::App {
                store: guarded("request-details"),
                mailer: mail.clone(),
                clock: clock.clone(),
                dev_identity_headers: false,
                limits: bookinglink::domain::request_details::SendLimits::default(),
            },
            test: test_connection::App {
                deps: deps("test-connection"),
                dev_identity_headers: false,
            },
            save: test_and_save::App {
                deps: deps("test-and-save"),
                dev_identity_headers: false,
            },
            admins: admins::App {
                store: admins.clone(),
                lockouts: admins,
                mailer: invitations.clone(),
                clock: clock.clone(),
                admin_app_url: "https://admin.bookinglink.no/app".into(),
                dev_identity_headers: false,
            },
            store,
            clock,
            invitations,
            mail,
            client,
            table,
        }
    }

    /// Sends the request to the function the route table names for it.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        who: &Identity,
        body: Option<&Value>,
    ) -> Answer {
        let body = body.map(Value::to_string);
        let request = event(method, path, who, &[], body.as_deref());
        let route_path = path.split('?').next().unwrap_or(path);
        let function = bookinglink::routes::resolve(method, route_path)
            .map(|m| m.route.function)
            .unwrap_or("locations");
        let response = match function {
            "request-details" => request_details::handle(&self.details, request).await,
            "test-connection" => test_connection::handle(&self.test, request).await,
            "test-and-save" => test_and_save::handle(&self.save, request).await,
            "admins" => admins::handle(&self.admins, request).await,
            _ => locations::handle(&self.locations, request).await,
        };
        Answer::from(response)
    }

    /// Every audit entry in the table, raw (as stored) and read.
    pub async fn audit_items(&self) -> Vec<(String, AuditEntry)> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("entity = :audit")
                .expression_attribute_values(
                    ":audit",
                    aws_sdk_dynamodb::types::AttributeValue::S("audit".into()),
                )
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan the table");
            for item in out.items() {
                let raw: serde_json::Map<String, Value> = item
                    .iter()
                    .map(|(k, v)| (k.clone(), from_attribute(v)))
                    .collect();
                let entry = audit_entry(item);
                found.push((Value::Object(raw).to_string(), entry));
            }
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                return found;
            }
        }
    }
}

fn audit_entry(item: &bookinglink::store::dynamo::Item) -> AuditEntry {
    use bookinglink::store::dynamo::{get_n, get_opt_s, get_s};
    AuditEntry {
        id: get_s(item, "id").unwrap(),
        company_id: get_opt_s(item, "company_id"),
        at: get_n(item, "at").unwrap(),
        actor_sub: get_s(item, "actor_sub").unwrap(),
        actor_email: get_opt_s(item, "actor_email"),
        action: get_s(item, "action").unwrap(),
        location_id: get_opt_s(item, "location_id"),
        details: item
            .get("details")
            .map(from_attribute)
            .unwrap_or(Value::Null),
        request_id: get_opt_s(item, "request_id"),
        expires_at: get_n(item, "expires_at").unwrap(),
    }
}
