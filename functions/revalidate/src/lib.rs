//! The `revalidate` function, run by an EventBridge schedule: re-checks saved booking
//! connections until shortly before its deadline, then leaves the rest of the night's run to
//! the next scheduled invocation. The event may name a `run_id` (an Oslo date) to run by hand.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bookinglink::revalidate::{self, Deadline, RevalidateDeps, Settings};
use bookinglink::wiring::Wiring;
use lambda_runtime::{Error, LambdaEvent};
use serde_json::{Value, json};

/// The longest one check can take, in seconds: the vendor deadline (at most 9 s), reading the
/// key and writing the result, and a margin for saving progress. No check starts later than
/// this before the invocation's deadline.
pub const SLOWEST_CHECK_SECONDS: i64 = 20;

pub struct App {
    pub deps: Arc<RevalidateDeps>,
}

impl App {
    /// `TABLE_NAME` and `MAIL_SENDER` (a verified SES identity) are required; the run's and the
    /// vendors' settings and `SECRET_NAME_PREFIX` are optional. Secrets Manager and SES clients
    /// are built when the run first reads a key / sends a notice.
    pub async fn from_env() -> Result<Self, String> {
        let env = Wiring::from_env()?;
        Ok(App {
            deps: Arc::new(RevalidateDeps {
                store: env.store()?,
                keys: env.location_keys(),
                vendors: env.vendors()?,
                mailer: env.mailer()?,
                clock: env.clock(),
                settings: Settings::from_env()?,
            }),
        })
    }
}

pub async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let deps = app.deps.clone();
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
