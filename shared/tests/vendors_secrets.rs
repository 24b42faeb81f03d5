//! The API key never leaves through a report (JSON in both languages, serde, Debug) or a log
//! line, whatever the vendor answers.

use bookinglink::api_key::ApiKey;
use bookinglink::catalog::{self, BookingDetails};
use bookinglink::i18n::Lang;
use bookinglink::vendors::{VendorCheck, Vendors, VendorsConfig};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vendor_sandbox as sb;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_key_appears_in_no_report_and_no_log_line() {
    let sandbox = sb::start(
        0,
        sb::Options {
            latency: Duration::ZERO,
            slow: Duration::from_secs(3),
        },
    )
    .await
    .unwrap();
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // Current-thread test runtime: every task logs on this thread.
    let _guard = tracing::subscriber::set_default(subscriber);

    let vendors = Arc::new(
        Vendors::new(VendorsConfig::sandbox(
            &sandbox.url(),
            Duration::from_millis(500),
        ))
        .unwrap(),
    );
    let secret = "sk-live-4711-must-not-leak";
    let mut keys = vec![secret.to_owned()];
    keys.extend(
        [
            sb::KEY_OK,
            sb::KEY_500,
            sb::KEY_SLOW,
            sb::KEY_MALFORMED,
            sb::KEY_REDIRECT,
            sb::KEY_HUGE,
            sb::KEY_200_ERROR,
            sb::KEY_400,
            sb::KEY_NO_SCOPE,
        ]
        .map(String::from),
    );
    // Concurrent tasks on this one thread, so the slow keys cost one deadline in total.
    let mut set = tokio::task::JoinSet::new();
    for system in catalog::systems().iter().filter(|s| s.id != "extensor") {
        for key in &keys {
            let (clinic, department) = if system.id == "pasientsky" {
                (sb::PASIENTSKY_CLINIC_OK, sb::PASIENTSKY_DEPT_OK)
            } else {
                (sb::CLINIC_OK, sb::DEPT_OK)
            };
            let details = BookingDetails {
                external_id: Some(clinic.into()),
                external_department_id: Some(department.into()),
                api_key: Some(ApiKey::new(key.clone())),
                booking_url: None,
            };
            let (vendors, key) = (vendors.clone(), key.clone());
            set.spawn(async move {
                let report = vendors.check(system, &details).await;
                let outputs = [
                    report.to_json(Lang::Nb).to_string(),
                    report.to_json(Lang::En).to_string(),
                    serde_json::to_string(&report).unwrap(),
                    format!("{report:?}"),
                    format!("{details:?}"),
                ];
                for out in outputs {
                    assert!(
                        !out.contains(key.as_str()),
                        "{} leaked {key}: {out}",
                        system.id
                    );
                }
            });
        }
    }
    let mut checked = 0;
    while let Some(done) = set.join_next().await {
        done.unwrap();
        checked += 1;
    }
    assert_eq!(checked, 6 * keys.len());
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("connection check"),
        "the check logs its outcome: {logs}"
    );
    for key in &keys {
        assert!(!logs.contains(key.as_str()), "log leaked {key}");
    }
}
