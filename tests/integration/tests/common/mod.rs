//! Every function of the API (`integration_tests::stack`) on one fresh table, on a clock the
//! tests move, with recording mailers, the in-process vendor sandbox and Secrets Manager in the
//! emulator: the trust-model tests send each request to the function the route table names.

// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::sync::Arc;

use bookinglink::clock::{ManualClock, Timestamp};
use bookinglink::mail::RecordingMailer;
use bookinglink::model::AuditEntry;
use bookinglink::store::dynamo::{DynamoStore, audit_from, from_attribute};
use integration_tests::demo::company_with_admin;
use integration_tests::{Answer, Identity, event};
use serde_json::Value;

pub const NOW: Timestamp = 1_795_608_000;

pub struct Stack {
    /// The functions, on clients that may do only what their roles in the template grant;
    /// its `store` (unlimited) is the tests' own, for set-up and reading back.
    pub api: integration_tests::stack::Stack,
    pub store: Arc<DynamoStore>,
    pub clock: Arc<ManualClock>,
    /// Invitation mail.
    pub invitations: Arc<RecordingMailer>,
    /// "Forespør detaljer" and revalidation notices.
    pub mail: Arc<RecordingMailer>,
}

impl Stack {
    pub async fn new() -> Self {
        let clock = Arc::new(ManualClock::at(NOW));
        let invitations = Arc::new(RecordingMailer::new());
        let mail = Arc::new(RecordingMailer::new());
        let api = integration_tests::stack::Stack::builder()
            .clock(clock.clone())
            .mail(mail.clone())
            .invitations(invitations.clone())
            .admin_app_url("https://admin.bookinglink.no/app")
            .build()
            .await;
        Stack {
            store: api.store.clone(),
            api,
            clock,
            invitations,
            mail,
        }
    }

    /// A company, "Fysio AS", administered by `admin` (admin@example.no); its id.
    pub async fn company(&self) -> String {
        company_with_admin(
            self.store.as_ref(),
            "admin",
            "admin@example.no",
            "Fysio AS",
            "923609016",
            NOW,
        )
        .await
        .expect("create the company")
        .id
    }

    /// A location, "Majorstuen", that `admin` creates in `company` through the API; its id.
    pub async fn location(&self, company: &str) -> String {
        let created = self
            .call(
                "POST",
                &format!("/v1/companies/{company}/locations"),
                &Identity::jwt("admin"),
                Some(&integration_tests::majorstuen()),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.raw);
        created.body["id"].as_str().unwrap().to_string()
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
        self.api
            .send(event(method, path, who, &[], body.as_deref()))
            .await
    }

    /// Every audit entry in the table, raw (as stored) and read.
    pub async fn audit_items(&self) -> Vec<(String, AuditEntry)> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .api
                .client
                .scan()
                .table_name(&self.api.table)
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
                let entry = audit_from(item).expect("a readable audit entry");
                found.push((Value::Object(raw).to_string(), entry));
            }
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                return found;
            }
        }
    }
}
