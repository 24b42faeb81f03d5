//! The baseline `scripts/bench-functions` compares every function with: the smallest useful
//! `lambda_runtime` function (same runtime, same release profile, no AWS SDK, no logging set-up),
//! answering any event with an API Gateway–shaped 200. Not deployed, not routed.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": "{\"hello\":\"world\"}",
        }))
    }))
    .await
}
