//! Operational metrics as CloudWatch Embedded Metric Format (EMF) lines in the function's own
//! log stream: CloudWatch Logs extracts them, so a metric costs no extra AWS call, no
//! permission and no latency. One JSON object per line, written to stdout like the tracing logs.
//!
//! Every metric the code can write is declared in [`ALL`]; the SAM template's alarms and
//! dashboard are tested against that list (names, units, dimensions), so an alarm cannot watch
//! a metric nobody writes. Dimensions are bounded enums only: a booking system's catalog id, a
//! check outcome, a refusal reason — never a key, an id, an e-mail address or free text, which
//! would leak and make a new (billed) metric per value.
//!
//! Lines are written only when `METRICS_NAMESPACE` is set (the template sets it for every
//! function); local runs and tests write none unless a test records them ([`record`]).
//!
//! `declared.rs` declares every metric and the values its dimensions can take; `emf.rs` turns a
//! datum into an EMF line and writes (or, in tests, records) it; this module is what the use
//! cases call, one line each.

mod declared;
mod emf;

pub use declared::*;
pub use emf::{RECORDED_NAMESPACE, Recording, line, record};

use std::time::Duration;

use crate::catalog::BookingSystem;
use crate::mail::MailError;
use Dimension::{Outcome as OutcomeDim, Reason, System};
use emf::emit;

/// One connection check against a vendor and how long it took.
pub fn connection_check(
    system: &'static BookingSystem,
    outcome: impl Into<Outcome>,
    took: Duration,
) {
    let outcome = outcome.into();
    emit(
        &[
            (&CONNECTION_CHECKS, 1.0),
            (&CONNECTION_CHECK_DURATION, millis(took)),
        ],
        &[(System, system.id), (OutcomeDim, outcome.as_str())],
    );
}

/// The check that made an administrator's failures reach the limit.
pub fn lockout_started() {
    emit(&[(&LOCKOUTS_STARTED, 1.0)], &[]);
}

pub fn details_mail_sent() {
    emit(&[(&DETAILS_MAILS_SENT, 1.0)], &[]);
}

pub fn details_mail_refused(error: &MailError) {
    emit(
        &[(&DETAILS_MAILS_REFUSED, 1.0)],
        &[(Reason, MailRefusal::from(error).as_str())],
    );
}

pub fn invitation_sent() {
    emit(&[(&INVITATIONS_SENT, 1.0)], &[]);
}

/// What one revalidation invocation did, in one line.
#[cfg(feature = "vendors")]
pub fn revalidation_invocation(summary: &crate::revalidate::RunSummary, took: Duration) {
    emit(
        &[
            (&REVALIDATION_CHECKED, summary.checked_now as f64),
            (&REVALIDATION_BROKEN, summary.broken as f64),
            (&REVALIDATION_RECOVERED, summary.recovered as f64),
            (&REVALIDATION_UNAVAILABLE, summary.unavailable as f64),
            (&REVALIDATION_SKIPPED, summary.skipped as f64),
            (&REVALIDATION_DURATION, millis(took)),
        ],
        &[],
    );
}

/// Tonight's run finished; written once, by the invocation that checked its last page. Runs
/// started by hand under another name do not write it, so they cannot stand in for a night.
pub fn revalidation_run_completed(locations_checked: u64) {
    emit(
        &[
            (&REVALIDATION_RUNS_COMPLETED, 1.0),
            (&REVALIDATION_RUN_LOCATIONS, locations_checked as f64),
        ],
        &[],
    );
}

fn millis(d: Duration) -> f64 {
    // Whole microseconds are plenty; keeps the JSON short.
    (d.as_micros() as f64) / 1_000.0
}

#[cfg(test)]
mod tests {
    use super::emf::tests::assert_valid_emf;
    use super::*;
    use crate::catalog;
    use serde_json::json;

    #[test]
    fn a_connection_check_is_one_valid_line_with_system_and_outcome() {
        let recording = record();
        let system = catalog::sys("pasientsky");
        connection_check(system, Outcome::Unavailable, Duration::from_micros(412_345));
        let lines = recording.lines();
        assert_eq!(lines.len(), 1);
        let doc = assert_valid_emf(&lines[0].to_string());
        assert_eq!(doc["ConnectionChecks"], json!(1.0));
        assert_eq!(doc["ConnectionCheckDuration"], json!(412.345));
        assert_eq!(doc["System"], "pasientsky");
        assert_eq!(doc["Outcome"], "unavailable");
        let directives = doc["_aws"]["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(
            directives.len(),
            2,
            "count and duration differ in dimensions"
        );
        assert_eq!(
            directives[0]["Dimensions"],
            json!([["System", "Outcome"], ["System"]])
        );
        assert_eq!(
            directives[0]["Metrics"],
            json!([{"Name": "ConnectionChecks", "Unit": "Count"}])
        );
        assert_eq!(directives[1]["Dimensions"], json!([["System"]]));
        assert_eq!(
            directives[1]["Metrics"],
            json!([{"Name": "ConnectionCheckDuration", "Unit": "Milliseconds"}])
        );
    }

    #[test]
    fn a_refused_mail_is_counted_in_total_and_by_reason() {
        let recording = record();
        details_mail_refused(&MailError::Unavailable("account paused".into()));
        details_mail_sent();
        let lines = recording.lines();
        assert_eq!(lines.len(), 2);
        let refused = assert_valid_emf(&lines[0].to_string());
        assert_eq!(refused["Reason"], "unavailable");
        assert_eq!(
            refused["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[], ["Reason"]])
        );
        // The error's own text (which may hold an address) never reaches the line.
        assert!(!lines[0].to_string().contains("paused"));
        assert_eq!(recording.total(&DETAILS_MAILS_SENT), 1.0);
    }

    #[test]
    fn one_revalidation_line_carries_all_its_counts() {
        let recording = record();
        revalidation_run_completed(1_234);
        let doc = assert_valid_emf(&recording.lines()[0].to_string());
        assert_eq!(doc["RevalidationRunsCompleted"], json!(1.0));
        assert_eq!(doc["RevalidationRunLocations"], json!(1234.0));
        let directives = doc["_aws"]["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 1, "same dimensions share one directive");
        assert_eq!(directives[0]["Metrics"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn nothing_is_written_or_recorded_without_a_recording_or_namespace() {
        // The test process has no METRICS_NAMESPACE: without a recording, emitting is a no-op.
        assert!(std::env::var(NAMESPACE_VAR).is_err());
        lockout_started();
        let recording = record();
        assert!(recording.lines().is_empty());
        drop(recording);
        invitation_sent();
        let recording = record();
        assert!(recording.lines().is_empty());
    }
}
