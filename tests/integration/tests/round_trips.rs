//! AWS round trips per route, held to the budgets in docs/performance.md.
//!
//! Each test builds the functions' apps on clients that record every SDK call
//! (`integration_tests::round_trips`), runs its set-up, forgets those calls, sends one request
//! and checks which calls it made and in how many serial rounds. The vendor call is recorded in
//! the same log, so the booking routes are held to rounds before and after it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bookinglink::catalog::{BookingDetails, BookingSystem};
use bookinglink::mail::SesMailer;
use bookinglink::vendors::{CheckReport, VendorCheck, Vendors};
use integration_tests::round_trips::{CallLog, counted_ses, rounds};
use integration_tests::stack::{Clients, Stack, sandbox_vendors};
use integration_tests::{Answer, Identity, emulator_config, event, leaks, majorstuen, pasientsky};
use serde_json::{Value, json};
use vendor_sandbox::KEY_OK;

const SENDER: &str = "bookinglink@fysio-demo.no";
const VENDOR: &str = "Vendor";

/// The vendor adapters, with each check recorded in the call log.
struct RecordedVendor {
    inner: Vendors,
    log: CallLog,
}

#[async_trait]
impl VendorCheck for RecordedVendor {
    async fn check(&self, system: &BookingSystem, details: &BookingDetails) -> CheckReport {
        let call = self.log.start(VENDOR, system.id);
        let report = self.inner.check(system, details).await;
        self.log.end(call);
        report
    }
}

struct Api {
    log: CallLog,
    stack: Stack,
}

impl Api {
    async fn new() -> Self {
        let config = emulator_config().await;
        integration_tests::verify_sender(&config, SENDER)
            .await
            .expect("verify the sender");
        let log = CallLog::new();
        let vendors = Arc::new(RecordedVendor {
            inner: sandbox_vendors(Duration::from_secs(3)),
            log: log.clone(),
        });
        let mailer = Arc::new(SesMailer::new(
            counted_ses(&config, &log),
            SENDER.into(),
            None,
        ));
        let stack = Stack::builder()
            .clients(Clients::Counted(log.clone()))
            .vendors(vendors)
            .mail(mailer)
            .build()
            .await;
        Api { log, stack }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.call_as(&ola(), method, path, body).await
    }

    async fn call_as(
        &self,
        who: &Identity,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let body = body.map(|b| b.to_string());
        self.stack
            .send(event(method, path, who, &[], body.as_deref()))
            .await
    }

    /// One request with a clean log: its status and the calls it made.
    async fn measure(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.log.clear();
        self.call(method, path, body).await
    }

    /// A company Ola administers with one location; returns (company path, location path).
    async fn location(&self) -> (String, String) {
        let company = integration_tests::demo::company_with_admin(
            self.stack.store.as_ref(),
            "ola",
            "ola@example.no",
            "Fysio AS",
            "923609016",
            0,
        )
        .await
        .unwrap();
        let company = format!("/v1/companies/{}", company.id);
        let location = self
            .call("POST", &format!("{company}/locations"), Some(majorstuen()))
            .await;
        assert_eq!(location.status, 201, "{}", location.raw);
        let location = format!(
            "{company}/locations/{}",
            location.body["id"].as_str().unwrap()
        );
        (company, location)
    }

    /// Asserts the AWS calls of the last request (compared as a multiset: the start order
    /// within a round is not fixed) and their serial rounds.
    fn assert_budget(&self, route: &str, mut expected: Vec<&str>, budget: usize) {
        let aws: Vec<_> = self
            .log
            .calls()
            .into_iter()
            .filter(|c| c.service != VENDOR)
            .collect();
        let mut labels: Vec<String> = aws.iter().map(|c| c.label()).collect();
        labels.sort();
        expected.sort();
        assert_eq!(labels, expected, "{route}: calls {:?}", self.log);
        assert_eq!(rounds(&aws), budget, "{route}: rounds {:?}", self.log);
    }

    /// [`Api::assert_budget`] for a request that calls the vendor, with the serial rounds
    /// before and after the vendor's call.
    fn assert_budget_around_vendor(
        &self,
        route: &str,
        expected: Vec<&str>,
        budget: usize,
        around_vendor: (usize, usize),
    ) {
        self.assert_budget(route, expected, budget);
        let rounds = self.log.rounds_around(VENDOR);
        assert_eq!(rounds, around_vendor, "{route}: {:?}", self.log);
    }
}

fn ola() -> Identity {
    Identity::jwt("ola")
}

const GET: &str = "DynamoDB.GetItem";
const PUT: &str = "DynamoDB.PutItem";
const UPDATE: &str = "DynamoDB.UpdateItem";
/// A change and its audit entry, all or nothing.
const TRANSACT: &str = "DynamoDB.TransactWriteItems";
const DELETE: &str = "DynamoDB.DeleteItem";
const QUERY: &str = "DynamoDB.Query";
/// The calls of a check that passes, before its route's own: the membership and the location
/// read while a place is taken in each tally (the administrator's, the location's), then both
/// places given back while the tallies are read.
const PASSED_CHECK: [&str; 8] = [GET, GET, PUT, PUT, DELETE, DELETE, QUERY, QUERY];

#[tokio::test]
async fn companies_and_locations_stay_within_their_budgets() {
    let api = Api::new().await;
    let (company, location) = api.location().await;

    let answer = api.measure("GET", "/v1/booking-systems", None).await;
    assert_eq!(answer.status, 200);
    api.assert_budget("GET booking-systems", vec![], 0);

    let answer = api.measure("GET", "/v1/companies", None).await;
    assert_eq!(answer.status, 200, "{}", answer.raw);
    api.assert_budget("GET companies", vec![QUERY, "DynamoDB.BatchGetItem"], 2);

    api.log.clear();
    let answer = api
        .call_as(
            &Identity::operator("drift"),
            "POST",
            "/v1/companies",
            Some(json!({"name": "Fysio Vest AS", "org_number": "974760673"})),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.raw);
    api.assert_budget("POST companies", vec!["DynamoDB.TransactWriteItems"], 1);

    let answer = api
        .measure("GET", &format!("{company}/locations"), None)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.raw);
    api.assert_budget("GET locations", vec![GET, QUERY], 1);

    let answer = api
        .measure("POST", &format!("{company}/locations"), Some(majorstuen()))
        .await;
    assert_eq!(answer.status, 201, "{}", answer.raw);
    api.assert_budget("POST locations", vec![GET, TRANSACT], 2);

    let answer = api.measure("GET", &location, None).await;
    assert_eq!(answer.status, 200, "{}", answer.raw);
    api.assert_budget("GET location", vec![GET, GET], 1);

    let answer = api
        .measure(
            "PATCH",
            &location,
            Some(json!({"version": 1, "name": "Majorstuen sentrum"})),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.raw);
    // The change with its audit entry returns no item: the location is read back.
    api.assert_budget("PATCH location", vec![GET, TRANSACT, GET], 3);
}

#[tokio::test]
async fn request_details_stays_within_its_budget() {
    let api = Api::new().await;
    let (_, location) = api.location().await;
    let path = format!("{location}/booking/request-details");

    let answer = api
        .measure("GET", &format!("{path}?system=physica"), None)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.raw);
    // Membership, company and location, with the sends held in each limit (the location's
    // and the administrator's), in one round.
    api.assert_budget("GET request-details", vec![GET, GET, GET, QUERY, QUERY], 1);

    let answer = api
        .measure("POST", &path, Some(json!({"system": "physica"})))
        .await;
    assert_eq!(answer.status, 202, "{}", answer.raw);
    // Reads and the sends held (one round), a slot in both limits (one transaction), the
    // mail, the record on the location with its audit entry (two tries: the first request of
    // a location creates the map it is kept in).
    api.assert_budget(
        "POST request-details",
        vec![
            GET,
            GET,
            GET,
            QUERY,
            QUERY,
            TRANSACT,
            "SES.SendEmail",
            TRANSACT,
            TRANSACT,
        ],
        5,
    );
}

/// "Test kobling" with `key` at a new location, measured; its answer was a report (200).
async fn connection_test(key: &str) -> (Api, Answer) {
    let api = Api::new().await;
    let (_, location) = api.location().await;
    let answer = api
        .measure(
            "POST",
            &format!("{location}/booking/test"),
            Some(pasientsky(key)),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.raw);
    (api, answer)
}

#[tokio::test]
async fn a_successful_connection_test_takes_one_round_before_and_one_after_the_vendor() {
    let (api, answer) = connection_test(KEY_OK).await;
    assert_eq!(answer.body["status"], "success", "{}", answer.raw);
    api.assert_budget_around_vendor("POST booking/test", PASSED_CHECK.to_vec(), 2, (1, 1));
}

#[tokio::test]
async fn a_rejected_connection_test_takes_one_round_before_and_two_after_the_vendor() {
    let (api, answer) = connection_test("wrong-key").await;
    assert_eq!(answer.body["attempts_remaining"], 4, "{}", answer.raw);
    // The failure is written in both tallies, then both are read back to count what remains.
    api.assert_budget_around_vendor(
        "POST booking/test (rejected)",
        vec![GET, GET, PUT, PUT, UPDATE, UPDATE, QUERY, QUERY],
        3,
        (1, 2),
    );
}

#[tokio::test]
async fn a_successful_save_stays_within_its_budget() {
    let api = Api::new().await;
    let (_, location) = api.location().await;
    let path = format!("{location}/booking/save");
    let mut body = pasientsky(KEY_OK);
    body["version"] = json!(1);
    let first = api.measure("POST", &path, Some(body.clone())).await;
    assert_eq!(first.status, 200, "{}", first.raw);
    // The location's first key: the secret is created on the way.
    let first_key = [
        "Secrets Manager.PutSecretValue",
        "Secrets Manager.CreateSecret",
        "Secrets Manager.PutSecretValue",
        TRANSACT,
        GET,
        // The first version is current from the start; only its pending label goes.
        "Secrets Manager.UpdateSecretVersionStage",
    ];
    let calls = [&PASSED_CHECK[..], &first_key].concat();
    api.assert_budget_around_vendor("POST booking/save (first key)", calls, 7, (1, 6));

    // A new key for a location that has one: the usual save.
    body["version"] = json!(2);
    let again = api.measure("POST", &path, Some(body)).await;
    assert_eq!(again.status, 200, "{}", again.raw);
    let new_key = [
        // What the last save left is checked (and repaired) before the new key is written.
        "Secrets Manager.DescribeSecret",
        "Secrets Manager.PutSecretValue",
        TRANSACT,
        GET,
        // AWSCURRENT moved to the new version and its AWSPENDING taken off, together.
        "Secrets Manager.UpdateSecretVersionStage",
        "Secrets Manager.UpdateSecretVersionStage",
    ];
    // Settling the attempt alongside the check of the labels and the pending key, the commit with
    // its audit entry, the location read back, the promotion.
    let calls = [&PASSED_CHECK[..], &new_key].concat();
    api.assert_budget_around_vendor("POST booking/save", calls, 6, (1, 5));
    leaks::assert_no_leaks(&api.stack.client).await;
}
