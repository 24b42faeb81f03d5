//! The functions as they start in Lambda: `App::from_env()` (settings, `bookinglink::wiring`,
//! the reqwest-backed HTTP client, clients built on first use), answering the recorded events
//! in `events/` against the emulator and the vendor sandbox. Other tests hand the handlers
//! clients they built themselves; this one checks the production wiring end to end.
//!
//! One test in its own binary: it sets process environment variables.

use std::time::Duration;

use bookinglink::clock::{Clock, SystemClock};
use bookinglink::store::dynamo::DynamoStore;
use integration_tests::{Answer, demo, emulator_config, fresh_table};
use lambda_http::Request;
use vendor_sandbox::KEY_OK;

const SENDER: &str = "bookinglink@fysio-demo.no";

fn recorded(name: &str) -> Request {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    lambda_http::request::from_str(&text).expect("a recorded API Gateway event")
}

#[tokio::test]
async fn functions_wired_from_the_environment_answer_the_recorded_events() {
    let config = emulator_config().await;
    let (client, table) = fresh_table().await;
    demo::seed(&DynamoStore::new(client, table.clone()), SystemClock.now())
        .await
        .expect("seed the demo data");
    integration_tests::verify_sender(&config, SENDER)
        .await
        .expect("verify the sender");
    let sandbox = vendor_sandbox::start_background(vendor_sandbox::Options {
        latency: Duration::ZERO,
        slow: Duration::from_secs(5),
    })
    .expect("start the vendor sandbox");
    let prefix = format!("bookinglink-wiring-{}/", uuid::Uuid::new_v4());
    // SAFETY: the only test in this binary, and no other thread reads the environment yet.
    unsafe {
        std::env::set_var("TABLE_NAME", &table);
        std::env::set_var("MAIL_SENDER", SENDER);
        std::env::set_var("VENDOR_SANDBOX_URL", &sandbox);
        std::env::set_var("SECRET_NAME_PREFIX", &prefix);
        std::env::set_var("ADMIN_APP_URL", "https://admin.bookinglink.no/");
    }

    let locations = locations::App::from_env().await.expect("locations starts");
    let answer = Answer::from(locations::handle(&locations, recorded("list-companies.json")).await);
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["items"].as_array().map(Vec::len), Some(2));

    // The invited demo user sees the demo invitation to their verified address.
    let admins = admins::App::from_env().await.expect("admins starts");
    let me = Answer::from(admins::handle(&admins, recorded("me.json")).await);
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(me.body["invitations"][0]["id"], demo::INVITATION_ID);
    assert_eq!(me.body["operator"], false);

    // A preview needs no SES client; sending builds it.
    let details = request_details::App::from_env()
        .await
        .expect("request-details starts");
    let preview =
        Answer::from(request_details::handle(&details, recorded("request-details-get.json")).await);
    assert_eq!(preview.status, 200, "{:?}", preview.body);
    let sent = Answer::from(
        request_details::handle(&details, recorded("request-details-send.json")).await,
    );
    assert_eq!(sent.status, 202, "sending through SES: {:?}", sent.body);

    // A save stores the key through the Secrets Manager client built by that request.
    let save = test_and_save::App::from_env()
        .await
        .expect("test-and-save starts");
    let saved = Answer::from(test_and_save::handle(&save, recorded("booking-save.json")).await);
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    let secrets = aws_sdk_secretsmanager::Client::new(&config)
        .list_secrets()
        .filters(
            aws_sdk_secretsmanager::types::Filter::builder()
                .key(aws_sdk_secretsmanager::types::FilterNameStringType::Name)
                .values(&prefix)
                .build(),
        )
        .send()
        .await
        .expect("list the secrets");
    let names: Vec<_> = secrets
        .secret_list()
        .iter()
        .filter_map(|s| s.name())
        .filter(|name| name.starts_with(&prefix))
        .collect();
    assert_eq!(names.len(), 1, "one secret under {prefix}: {names:?}");
    assert!(!saved.raw.contains(KEY_OK), "the key never comes back");

    // The nightly run re-checks that connection with the key the save stored.
    let revalidate = revalidate_function::App::from_env()
        .await
        .expect("revalidate starts");
    let night = lambda_runtime::LambdaEvent::new(
        serde_json::json!({"run_id": "2026-12-01"}),
        lambda_runtime::Context::default(),
    );
    let summary = revalidate_function::handle(&revalidate, night)
        .await
        .expect("the run completes");
    assert_eq!(
        (
            summary["checked_now"].as_u64(),
            summary["succeeded"].as_u64()
        ),
        (Some(1), Some(1)),
        "{summary}"
    );
}
