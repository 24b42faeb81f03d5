//! Local development helper used by `scripts/dev`: creates the table in the emulator and
//! loads the demo data.
//!
//! Usage: `devtool create-table <TABLE>` | `devtool seed-demo <TABLE>` |
//! `devtool verify-sender <ADDRESS>` (SES in the emulator sends only from verified identities)

use bookinglink::clock::{Clock, SystemClock};
use bookinglink::store::dynamo::{DynamoStore, create_table};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(command), Some(table)) = (args.first(), args.get(1)) else {
        eprintln!(
            "usage: devtool create-table <TABLE> | devtool seed-demo <TABLE> | devtool verify-sender <ADDRESS>"
        );
        std::process::exit(2);
    };
    let config = integration_tests::emulator_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let result = match command.as_str() {
        "create-table" => {
            let exists = client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .is_ok();
            if exists {
                println!("table {table} already exists");
                Ok(())
            } else {
                create_table(&client, table)
                    .await
                    .map(|_| println!("created table {table}"))
            }
        }
        "seed-demo" => {
            let store = DynamoStore::new(client, table.clone());
            integration_tests::demo::seed(&store, SystemClock.now())
                .await
                .map(|_| {
                    use integration_tests::demo::*;
                    println!("demo data loaded into {table}");
                    println!("  administrator: {ADMIN_SUB} ({ADMIN_EMAIL})");
                    println!("  operator:      {OPERATOR_SUB} (group {OPERATOR_GROUP})");
                    println!(
                        "  invited:       {INVITEE_SUB} ({INVITEE_EMAIL}), invitation {INVITATION_ID}, token {INVITATION_TOKEN} (local demo only)"
                    );
                })
        }
        "verify-sender" => {
            let address = table;
            integration_tests::verify_sender(&config, address)
                .await
                .map(|_| println!("verified sender {address}"))
                .map_err(bookinglink::store::StoreError::Backend)
        }
        other => {
            eprintln!("unknown command {other}");
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("devtool {command} failed: {e}");
        std::process::exit(1);
    }
}
