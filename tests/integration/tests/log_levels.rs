//! At the most verbose log level, no log line holds an API key or a bearer token.
//!
//! The functions run the way Lambda runs them: `lambda_http::run` / `lambda_runtime::run`
//! polling a local Runtime API ([`integration_tests::runtime_api`]), with the functions' own
//! log layer at `RUST_LOG=trace` writing into a capture. The runtime then sees every event
//! whole (the body with `api_key`, the `Authorization` header), and the AWS SDK sends the key to
//! Secrets Manager (a save) and reads it back (a test with the stored key, revalidation) against
//! the emulator. One test in its own binary: the runtime reads its address from the
//! environment.

use std::sync::Arc;
use std::time::Duration;

use bookinglink::booking::BookingDeps;
use bookinglink::booking::handler::BookingApp;
use bookinglink::booking::key_store::LocationKeys;
use bookinglink::booking::key_store::aws::SecretsManager;
use bookinglink::clock::{Clock, SystemClock};
use bookinglink::mail::{RecordingMailer, SesMailer};
use bookinglink::revalidate::{RevalidateDeps, Settings};
use bookinglink::store::dynamo::DynamoStore;
use integration_tests::runtime_api::RuntimeApi;
use integration_tests::stack::sandbox_vendors_at;
use integration_tests::{Answer, Identity, emulator_config, event, event_json, fresh_table, leaks};
use serde_json::{Value, json};

const SENDER: &str = "bookinglink@fysio-demo.no";
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvbGEifQ.bearer-token-signature-4711";

/// Points the next runtime started at `api`.
fn use_runtime_api(api: &RuntimeApi) {
    // SAFETY: this binary holds one test on a current-thread runtime; nothing else reads the
    // environment while it changes (each runtime reads it once, when it starts).
    unsafe { std::env::set_var("AWS_LAMBDA_RUNTIME_API", api.host()) };
}

/// Runs `event` through an HTTP function started by `serve_http`, as its `main` starts it, and
/// checks the answer's status.
async fn invoke_http<A, H, Fut>(app: A, handle: H, event: Value, status: u16) -> Value
where
    A: Sync + 'static,
    H: Fn(&'static A, lambda_http::Request) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = lambda_http::Response<lambda_http::Body>> + Send + 'static,
{
    let api = RuntimeApi::start().await;
    use_runtime_api(&api);
    // The runtime's loop runs on this thread until the answer is in; dropping the set ends it.
    let local = tokio::task::LocalSet::new();
    local.spawn_local(bookinglink::runtime::serve_http(async { Ok(app) }, handle));
    let answer = local.run_until(api.invoke(event)).await;
    drop(local);
    leaks::check("an answer", &answer.to_string());
    assert_eq!(answer["statusCode"], status, "{answer}");
    answer
}

#[tokio::test(flavor = "current_thread")]
async fn nothing_secret_is_logged_at_trace() {
    // SAFETY: as in `use_runtime_api`; set before anything else runs.
    unsafe {
        for (name, value) in [
            ("AWS_LAMBDA_FUNCTION_NAME", "local"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "local"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "local"),
        ] {
            std::env::set_var(name, value);
        }
    }
    leaks::watch(TOKEN);
    let (ddb, table) = fresh_table().await;
    let config = emulator_config().await;
    let sandbox = vendor_sandbox::start_background(vendor_sandbox::Options::default())
        .expect("start the vendor sandbox");
    let vendors = || Arc::new(sandbox_vendors_at(&sandbox, Duration::from_millis(1500)));
    let store = Arc::new(DynamoStore::new(ddb.clone(), table.clone()));
    let secrets = Arc::new(SecretsManager::new(aws_sdk_secretsmanager::Client::new(
        &config,
    )));
    let prefix = format!("test-{}/", uuid::Uuid::new_v4());
    let keys = LocationKeys {
        store: secrets.clone(),
        prefix: prefix.clone(),
    };
    // Both booking functions' `App` (`BookingApp`), each started afresh.
    let booking = || BookingApp {
        deps: BookingDeps {
            store: store.clone(),
            attempts: store.clone(),
            keys: keys.clone(),
            vendors: vendors(),
            clock: Arc::new(SystemClock),
        },
        dev_identity_headers: false,
    };
    integration_tests::verify_sender(&config, SENDER)
        .await
        .expect("verify the sender");

    // Set-up through the handler directly: a company and a location.
    let ola = Identity::jwt("ola");
    let locations = locations::App {
        store: store.clone(),
        clock: Arc::new(SystemClock),
        dev_identity_headers: false,
        max_locations_per_company: bookinglink::domain::locations::DEFAULT_MAX_PER_COMPANY,
    };
    // Registering a company is for operators; the administrator is written straight to the
    // store, as an accepted invitation would leave it.
    let company = integration_tests::demo::company_with_admin(
        store.as_ref(),
        "ola",
        "ola@example.no",
        "Fysio AS",
        "923609016",
        SystemClock.now(),
    )
    .await
    .expect("company with its administrator")
    .id;
    let location = Answer::from(
        locations::handle(
            &locations,
            event(
                "POST",
                &format!("/v1/companies/{company}/locations"),
                &ola,
                &[],
                Some(&integration_tests::majorstuen().to_string()),
            ),
        )
        .await,
    );
    let path = format!(
        "/v1/companies/{company}/locations/{}",
        location.body["id"].as_str().unwrap()
    );
    let bearer = format!("Bearer {TOKEN}");
    let headers = [("authorization", bearer.as_str())];
    let post = |route: &str, body: &Value| {
        event_json(
            "POST",
            &format!("{path}/booking/{route}"),
            &ola,
            &headers,
            Some(&body.to_string()),
        )
    };
    let details = integration_tests::pasientsky(vendor_sandbox::KEY_OK);

    let test_with = async |body: &Value| {
        invoke_http(booking(), test_connection::handle, post("test", body), 200).await
    };

    // "Test kobling" with the key typed in.
    test_with(&details).await;

    // "Test og lagre": the key goes to Secrets Manager.
    let mut save = details.clone();
    save["version"] = json!(1);
    invoke_http(booking(), test_and_save::handle, post("save", &save), 200).await;

    // "Test kobling" with the stored key: read back from Secrets Manager.
    let mut stored = details.clone();
    stored.as_object_mut().unwrap().remove("api_key");
    test_with(&stored).await;

    // "Forespør detaljer", sent through SES.
    let details_app = request_details::App {
        store: store.clone(),
        mailer: Arc::new(SesMailer::new(
            aws_sdk_ses::Client::new(&config),
            SENDER.to_string(),
            None,
        )),
        clock: Arc::new(SystemClock),
        dev_identity_headers: false,
        limits: bookinglink::domain::request_details::SendLimits::default(),
    };
    invoke_http(
        details_app,
        request_details::handle,
        post("request-details", &json!({"system": "pasientsky"})),
        202,
    )
    .await;

    // Revalidation, started with `lambda_runtime::run` as its `main` does.
    let mailer = Arc::new(RecordingMailer::new());
    let app: &'static _ = Box::leak(Box::new(revalidate_function::App {
        deps: Arc::new(RevalidateDeps {
            store: store.clone(),
            keys: keys.clone(),
            vendors: vendors(),
            mailer: mailer.clone(),
            clock: Arc::new(SystemClock),
            settings: Settings::default(),
        }),
    }));
    let api = RuntimeApi::start().await;
    use_runtime_api(&api);
    let local = tokio::task::LocalSet::new();
    local.spawn_local(lambda_runtime::run(lambda_runtime::service_fn(
        move |event| revalidate_function::handle(app, event),
    )));
    let summary = local
        .run_until(api.invoke(json!({"run_id": "2026-11-26"})))
        .await;
    drop(local);
    assert_eq!(summary["checked_now"], 1, "{summary}");
    leaks::check_mails(&mailer.sent());

    let logs = leaks::capture_logs().text();
    for marker in [
        // The runtime's span, so the events below came through the real runtime loop.
        "Lambda runtime invoke",
        "connection check",
        "booking configuration saved",
        "details request sent",
        "revalidation invocation finished",
    ] {
        assert!(logs.contains(marker), "no log line has {marker:?}");
    }
    for secret in [vendor_sandbox::KEY_OK, TOKEN] {
        assert!(!logs.contains(secret), "a log line holds {secret}");
    }
    leaks::assert_no_leaks(&ddb).await;
}
