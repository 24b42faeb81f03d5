//! The leak scan every integration test binary shares: API keys and bearer tokens must never
//! appear in an answer, a log line, a table item or a mail.
//!
//! What is watched: every key the vendor sandbox accepts or reacts to, plus whatever a test
//! registers with [`watch`] (the wrong keys it types, the tokens it sends). Answers are checked
//! as they are made ([`crate::Answer::from`] calls [`check`]); log lines as they are written,
//! through the production log layer at `trace` ([`capture_logs`], installed by
//! [`crate::fresh_table`]); table items and mails when a test calls [`assert_no_leaks`] or
//! [`check_mails`], which scans every table this binary created so far.

use std::sync::{Arc, Mutex, OnceLock};

use bookinglink::mail::OutgoingMail;
use tracing_subscriber::layer::SubscriberExt;

static WATCHED: Mutex<Vec<String>> = Mutex::new(Vec::new());
static TABLES: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// Log lines that held a watched value; a writer cannot fail a test, so they wait here.
static LOG_LEAKS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Adds a value that must never leave the request it came in.
pub fn watch(secret: &str) {
    let mut watched = WATCHED.lock().unwrap();
    if !watched.iter().any(|w| w == secret) {
        watched.push(secret.to_string());
    }
}

/// Everything watched so far, the sandbox's keys included.
pub fn watched() -> Vec<String> {
    let mut all: Vec<String> = [
        vendor_sandbox::KEY_OK,
        vendor_sandbox::KEY_500,
        vendor_sandbox::KEY_SLOW,
        vendor_sandbox::KEY_MALFORMED,
        vendor_sandbox::KEY_REDIRECT,
        vendor_sandbox::KEY_HUGE,
        vendor_sandbox::KEY_CALENDARS_500,
    ]
    .iter()
    .map(|k| k.to_string())
    .collect();
    all.extend(WATCHED.lock().unwrap().iter().cloned());
    all
}

fn leaked_in(text: &str) -> Option<String> {
    watched().into_iter().find(|w| text.contains(w.as_str()))
}

/// Fails the test if `text` (described by `what`) holds a watched value, or if a log line
/// written so far did.
pub fn check(what: &str, text: &str) {
    if let Some(secret) = leaked_in(text) {
        panic!("{what} contains the watched value {secret:?}: {text}");
    }
    let logs = LOG_LEAKS.lock().unwrap();
    assert!(
        logs.is_empty(),
        "a log line contains a watched value: {}",
        logs[0]
    );
}

/// Remembers a table so [`assert_no_leaks`] scans its items.
pub fn record_table(table: &str) {
    TABLES.lock().unwrap().push(table.to_string());
}

/// Every log line of this test binary, as the functions write them.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let line = String::from_utf8_lossy(buf);
        if leaked_in(&line).is_some() {
            LOG_LEAKS.lock().unwrap().push(line.into_owned());
        }
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs, once per binary, the functions' own log layer at `trace` (the most verbose
/// `RUST_LOG`) writing into a capture, and returns the capture.
pub fn capture_logs() -> &'static LogCapture {
    static LOGS: OnceLock<LogCapture> = OnceLock::new();
    LOGS.get_or_init(|| {
        let capture = LogCapture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::registry()
            .with(bookinglink::runtime::log_layer("trace", move || {
                writer.clone()
            }));
        let _ = tracing::subscriber::set_global_default(subscriber);
        capture
    })
}

/// Fails the test if a mail holds a watched value.
pub fn check_mails(mails: &[OutgoingMail]) {
    for mail in mails {
        check("a mail", &format!("{mail:?}"));
    }
}

/// Scans every table this binary created so far, and the log lines, for watched values.
pub async fn assert_no_leaks(ddb: &aws_sdk_dynamodb::Client) {
    let tables = TABLES.lock().unwrap().clone();
    for table in &tables {
        let mut start = None;
        loop {
            let out = ddb
                .scan()
                .table_name(table)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan a test table");
            check("a DynamoDB item", &format!("{:?}", out.items()));
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
    }
    check("the logs", &capture_logs().text());
}
