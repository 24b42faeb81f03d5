//! The `revalidate` function, run by an EventBridge schedule: re-checks saved booking
//! connections until shortly before its deadline, then leaves the rest of the night's run to
//! the next scheduled invocation. The event may name a `run_id` (an Oslo date) to run by hand.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bookinglink::aws::LazyClient;
use bookinglink::booking::key_store::aws::SecretsManager;
use bookinglink::clock::SystemClock;
use bookinglink::mail::SesMailer;
use bookinglink::revalidate::{self, Deadline, RevalidateDeps, Settings};
use bookinglink::store::dynamo::DynamoStore;
use bookinglink::vendors::Vendors;
use lambda_runtime::{Error, LambdaEvent};
use serde_json::{Value, json};

/// The longest one check can take, in seconds: the vendor deadline (at most 9 s), reading the
/// key and writing the result, and a margin for saving progress. No check starts later than
/// this before the invocation's deadline.
pub const SLOWEST_CHECK_SECONDS: i64 = 20;

pub async fn deps_from_env() -> Result<Arc<RevalidateDeps>, String> {
    let table = bookinglink::runtime::required_env("TABLE_NAME")?;
    let sender = bookinglink::runtime::required_env("MAIL_SENDER")?;
    let config = bookinglink::aws::config()?;
    Ok(Arc::new(RevalidateDeps {
        store: Arc::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&config),
            table,
        )),
        // Built when the run first reads a key / sends a notice.
        secrets: Arc::new(SecretsManager::new(LazyClient::on_first_use(
            &config,
            aws_sdk_secretsmanager::Client::new,
        ))),
        vendors: Arc::new(Vendors::from_env().map_err(|e| e.to_string())?),
        mailer: Arc::new(SesMailer::new(
            LazyClient::on_first_use(&config, aws_sdk_ses::Client::new),
            sender,
            std::env::var("SES_CONFIGURATION_SET").ok(),
        )),
        clock: Arc::new(SystemClock),
        settings: Settings::from_env()?,
    }))
}

pub async fn handle(deps: Arc<RevalidateDeps>, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let run_id = event
        .payload
        .get("run_id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| revalidate::run_id_for(deps.clock.now()));
    let deadline = UNIX_EPOCH + Duration::from_millis(event.context.deadline);
    // Local invocations may come without a meaningful deadline; give them the Lambda maximum.
    let deadline = if deadline > SystemTime::now() {
        deadline
    } else {
        SystemTime::now() + Duration::from_secs(900)
    };
    let budget = Deadline {
        clock: deps.clock.clone(),
        // Whole seconds, rounded down: never later than Lambda's deadline.
        deadline: deadline
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default(),
        slowest_check: SLOWEST_CHECK_SECONDS,
    };
    let summary = revalidate::run(deps, &run_id, &budget).await?;
    Ok(json!(summary))
}
