//! Benchmark of a revalidation run: N saved EG Pasientsky locations (each with its key in
//! Secrets Manager) against the vendor sandbox with an injected latency per answer. Prints the
//! wall time of the run, the ideal (N × latency ÷ concurrency), their ratio and the process's
//! peak memory. Run it with `scripts/bench-revalidate` (it starts the emulator).
//!
//! Options: `--locations N` (2000), `--latency-ms L` (200), `--concurrency C` (16),
//! `--per-vendor P` (16), `--page-size S` (128), `--store emulator|memory` (emulator).
//! `memory` keeps the table and the keys in memory, which measures the run's scheduling alone;
//! `emulator` includes every DynamoDB and Secrets Manager call, answered by moto.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bookinglink::api_key::ApiKey;
use bookinglink::booking::key_store::aws::SecretsManager;
use bookinglink::booking::key_store::memory::MemoryKeyStore;
use bookinglink::booking::key_store::{KeyStore, LocationKeys, NewVersion};
use bookinglink::clock::{Clock, SystemClock};
use bookinglink::mail::RecordingMailer;
use bookinglink::model::{Company, Membership};
use bookinglink::revalidate::memory::MemoryRevalidation;
use bookinglink::revalidate::{
    self, Allowance, RevalidateDeps, RevalidationStore, SavedConfig, Settings,
};
use bookinglink::store::dynamo::DynamoStore;
use bookinglink::store::{
    BookingSave, CompanyCreation, CompanyStore, LocationCreation, LocationStore, LocationWrite,
};
use integration_tests::demo::{fleet_location, saved_pasientsky, seed_entry};
use integration_tests::stack::sandbox_vendors_at;
use tokio::task::JoinSet;

fn option(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} takes a whole number"))
        })
        .unwrap_or(default)
}

/// Peak resident set size of this process in KiB (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let locations = option(&args, "--locations", 2_000);
    let latency_ms = option(&args, "--latency-ms", 200);
    let concurrency = option(&args, "--concurrency", 16) as usize;
    let per_vendor = option(&args, "--per-vendor", 16) as usize;
    let page_size = option(&args, "--page-size", 128) as u32;
    let in_memory = args
        .windows(2)
        .any(|w| w[0] == "--store" && w[1] == "memory");

    let sandbox = vendor_sandbox::start(
        0,
        vendor_sandbox::Options {
            latency: Duration::from_millis(latency_ms),
            slow: Duration::from_secs(12),
        },
    )
    .await
    .expect("start the vendor sandbox");
    let seeding = Instant::now();
    let (store, secrets, prefix): (Arc<dyn RevalidationStore>, Arc<dyn KeyStore>, String) =
        if in_memory {
            seed_memory(locations)
        } else {
            seed_emulator(locations).await
        };
    let seeded_in = seeding.elapsed();

    let deps = Arc::new(RevalidateDeps {
        store,
        keys: LocationKeys {
            store: secrets,
            prefix,
        },
        vendors: Arc::new(sandbox_vendors_at(&sandbox.url(), Duration::from_secs(8))),
        mailer: Arc::new(RecordingMailer::new()),
        clock: Arc::new(SystemClock),
        settings: Settings {
            concurrency,
            per_vendor,
            page_size,
        },
    });
    let rss_before = peak_rss_kib();
    let started = Instant::now();
    let summary = revalidate::run(
        deps,
        &revalidate::run_id_for(SystemClock.now()),
        &Allowance::unlimited(),
    )
    .await
    .expect("revalidation run");
    let wall = started.elapsed();
    let ideal = Duration::from_millis(locations * latency_ms / concurrency.min(per_vendor) as u64);
    println!("revalidation benchmark");
    println!("  locations            {locations}");
    println!("  vendor latency       {latency_ms} ms per answer");
    println!(
        "  concurrency          {concurrency} (per vendor {per_vendor}), page size {page_size}"
    );
    println!("  seeding (not timed)  {:.1} s", seeded_in.as_secs_f64());
    println!(
        "  checked              {} ({} ok, {} failed, {} unavailable, {} skipped)",
        summary.checked_now,
        summary.succeeded,
        summary.failed,
        summary.unavailable,
        summary.skipped
    );
    println!("  wall time            {:.2} s", wall.as_secs_f64());
    println!(
        "  ideal                {:.2} s (locations x latency / concurrency)",
        ideal.as_secs_f64()
    );
    println!(
        "  ratio                {:.3}",
        wall.as_secs_f64() / ideal.as_secs_f64()
    );
    if let (Some(before), Some(after)) = (rss_before, peak_rss_kib()) {
        println!(
            "  peak RSS             {:.1} MiB (after seeding {:.1} MiB)",
            after as f64 / 1024.0,
            before as f64 / 1024.0
        );
    }
    assert_eq!(
        summary.checked_now, locations,
        "every location was checked once"
    );
}

/// N saved configurations in the emulator's table, each key in Secrets Manager.
async fn seed_emulator(locations: u64) -> (Arc<dyn RevalidationStore>, Arc<dyn KeyStore>, String) {
    let config = integration_tests::emulator_config().await;
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let table = format!("bench-{}", uuid::Uuid::new_v4());
    bookinglink::store::dynamo::create_table(&ddb, &table)
        .await
        .expect("create the table");
    let store = DynamoStore::new(ddb, table);
    let secrets = Arc::new(SecretsManager::new(aws_sdk_secretsmanager::Client::new(
        &config,
    )));
    let prefix = format!("bench-{}/", uuid::Uuid::new_v4());

    let company = "c0000000-0000-4000-8000-0000000000be".to_string();
    store
        .create_company(CompanyCreation {
            company: &Company {
                id: company.clone(),
                name: "Benk AS".into(),
                org_number: "923609016".into(),
                invoice_email: None,
                created_at: 0,
                created_by: "bench".into(),
            },
            admin: Some(&Membership {
                user_sub: "bench".into(),
                company_id: company.clone(),
                email: Some("bench@example.no".into()),
                name: None,
                created_at: 0,
                invited_by: None,
            }),
            audit: &seed_entry(&company, "company_created", serde_json::json!({}), 0),
        })
        .await
        .expect("create the company");
    let mut seeders = JoinSet::new();
    let store = Arc::new(store);
    for n in 0..locations {
        let (store, secrets, prefix, company) = (
            store.clone(),
            secrets.clone(),
            prefix.clone(),
            company.clone(),
        );
        seeders.spawn(async move {
            let location = fleet_location(&company, n, "bench");
            let id = location.id.clone();
            let version_id = uuid::Uuid::new_v4().to_string();
            secrets
                .put_pending(
                    &format!("{prefix}{company}/{id}"),
                    NewVersion {
                        id: &version_id,
                        key: &ApiKey::new(vendor_sandbox::KEY_OK),
                        tags: &[],
                    },
                )
                .await
                .expect("store the key");
            store
                .create_location(LocationCreation {
                    location: &location,
                    // The fleet is seeded into one company, beyond what one company may create.
                    max_per_company: u32::MAX,
                    audit: &seed_entry(&company, "location_created", serde_json::json!({}), 0),
                })
                .await
                .expect("create the location");
            let booking = saved_pasientsky(version_id);
            store
                .save_booking(BookingSave {
                    write: LocationWrite {
                        company_id: &company,
                        location_id: &id,
                        expected_version: 1,
                        now: 0,
                        by: "bench",
                        audit: &seed_entry(&company, "booking_saved", serde_json::json!({}), 0),
                    },
                    booking: &booking,
                    offline: false,
                })
                .await
                .expect("save the configuration");
        });
        // Seed with bounded concurrency so the emulator is not flooded.
        while seeders.len() >= 32 {
            seeders.join_next().await;
        }
    }
    while seeders.join_next().await.is_some() {}

    (store, secrets, prefix)
}

/// The same configurations kept in memory.
fn seed_memory(locations: u64) -> (Arc<dyn RevalidationStore>, Arc<dyn KeyStore>, String) {
    let store = MemoryRevalidation::default();
    let secrets = MemoryKeyStore::default();
    let runtime = tokio::runtime::Handle::current();
    for n in 0..locations {
        let location = fleet_location("c", n, "bench");
        let version_id = format!("v{n}");
        let name = format!("c/{}", location.id);
        tokio::task::block_in_place(|| {
            runtime.block_on(secrets.put_pending(
                &name,
                NewVersion {
                    id: &version_id,
                    key: &ApiKey::new(vendor_sandbox::KEY_OK),
                    tags: &[],
                },
            ))
        })
        .expect("store the key");
        store.add(SavedConfig {
            company_id: location.company_id,
            location_id: location.id,
            location_name: location.name,
            booking: saved_pasientsky(version_id),
        });
    }
    (Arc::new(store), Arc::new(secrets), String::new())
}
