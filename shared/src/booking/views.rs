//! What the booking routes answer: the check's report with the summary the form shows, the
//! saved location, and a failed save's 422.

use serde_json::{Value, json};

use super::key_store;
use crate::catalog;
use crate::clock::{self, Timestamp};
use crate::i18n::{Lang, Text};
use crate::messages as msg;
use crate::model::Location;
use crate::problem::Problem;
use crate::vendors::CheckReport;

/// What "Test kobling" found.
pub struct Tested {
    pub report: CheckReport,
    pub attempts_remaining: u32,
}

impl Tested {
    pub fn to_json(&self, lang: Lang) -> Value {
        report_json(&self.report, self.attempts_remaining, lang)
    }
}

fn report_json(report: &CheckReport, attempts_remaining: u32, lang: Lang) -> Value {
    let mut body = report.to_json(lang);
    body["status"] = json!(if report.succeeded() {
        "success"
    } else {
        "failure"
    });
    body["message"] = json!(summary_message(report, lang));
    body["attempts_remaining"] = json!(attempts_remaining);
    body
}

fn summary_message(report: &CheckReport, lang: Lang) -> String {
    if report.succeeded() {
        return msg::SUCCESS.get(lang).to_string();
    }
    match (report.failed_step(), catalog::system(&report.system)) {
        (Some(step), Some(system)) => step.message(system, lang),
        _ => msg::CHECK_FAILED.get(lang).to_string(),
    }
}

/// What "Test og lagre" saved (or, for an answer sent again, had saved).
pub struct Saved {
    pub location: Location,
    pub report: Option<CheckReport>,
    pub attempts_remaining: u32,
    /// When the location's old key will be deleted, if this save removed it (a system without
    /// a key).
    pub key_deletion: Option<Timestamp>,
}

impl Saved {
    pub fn to_json(&self, lang: Lang) -> Value {
        let mut body = json!({
            "location": self.location.to_json(),
            "check": self.report.as_ref().map(|r| report_json(r, self.attempts_remaining, lang)),
            "attempts_remaining": self.attempts_remaining,
        });
        if let Some(date) = self.key_deletion {
            body["stored_key_deletion"] = json!({
                "deletion_date": clock::rfc3339(date),
                "recovery_window_days": key_store::RECOVERY_WINDOW_DAYS,
                "message": msg::stored_key_deleted(&clock::oslo_datetime(date), &clock::rfc3339(date)).get(lang),
            });
        }
        body
    }
}

/// A report's steps without messages, as stored with the last check.
pub fn step_codes(report: &CheckReport) -> Vec<Value> {
    report
        .steps
        .iter()
        .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
        .collect()
}

/// The 422 of a save whose check did not pass: the summary as its detail, the steps, and what
/// kind of failure it was.
pub(super) fn failed_check_problem(report: &CheckReport, attempts_remaining: u32) -> Problem {
    let steps = |lang| report_json(report, attempts_remaining, lang)["steps"].clone();
    Problem::connection_test_failed(
        Text::owned(
            summary_message(report, Lang::Nb),
            summary_message(report, Lang::En),
        ),
        (steps(Lang::Nb), steps(Lang::En)),
        json!(report.outcome()),
        attempts_remaining,
    )
}
