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

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::catalog::{self, BookingSystem};
use crate::mail::MailError;

/// The environment variable naming the CloudWatch namespace; unset, nothing is written.
pub const NAMESPACE_VAR: &str = "METRICS_NAMESPACE";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    /// The CloudWatch unit name.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// A dimension and the only values it can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    /// A booking system's catalog id (`pasientsky`, `extensor`, ...).
    System,
    /// How a connection check ended ([`Outcome`]).
    Outcome,
    /// Why the mail service refused a mail ([`MailRefusal`]).
    Reason,
}

impl Dimension {
    pub const ALL: [Dimension; 3] = [Dimension::System, Dimension::Outcome, Dimension::Reason];

    pub fn name(self) -> &'static str {
        match self {
            Dimension::System => "System",
            Dimension::Outcome => "Outcome",
            Dimension::Reason => "Reason",
        }
    }

    /// Every value the code can write for this dimension.
    pub fn values(self) -> Vec<&'static str> {
        match self {
            Dimension::System => catalog::systems().iter().map(|s| s.id).collect(),
            Dimension::Outcome => Outcome::ALL.iter().map(|o| o.as_str()).collect(),
            Dimension::Reason => MailRefusal::ALL.iter().map(|r| r.as_str()).collect(),
        }
    }
}

/// One metric: its name, unit, and the dimension sets each datum is written with (an empty
/// set is the metric without dimensions, the total).
#[derive(Debug, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub unit: Unit,
    pub dimension_sets: &'static [&'static [Dimension]],
    /// What one datum means, for the runbook's readers.
    pub meaning: &'static str,
}

use Dimension::{Outcome as OutcomeDim, Reason, System};

const NONE: &[&[Dimension]] = &[&[]];

pub const CONNECTION_CHECKS: Metric = Metric {
    name: "ConnectionChecks",
    unit: Unit::Count,
    dimension_sets: &[&[System, OutcomeDim], &[System]],
    meaning: "one connection check against a vendor (test, save or revalidation)",
};
pub const CONNECTION_CHECK_DURATION: Metric = Metric {
    name: "ConnectionCheckDuration",
    unit: Unit::Milliseconds,
    dimension_sets: &[&[System]],
    meaning: "how long one check took, the vendor's answers included",
};
pub const LOCKOUTS_STARTED: Metric = Metric {
    name: "LockoutsStarted",
    unit: Unit::Count,
    dimension_sets: NONE,
    meaning: "an administrator reached the failed-check limit and is locked out for an hour",
};
pub const DETAILS_MAILS_SENT: Metric = Metric {
    name: "DetailsMailsSent",
    unit: Unit::Count,
    dimension_sets: NONE,
    meaning: "a \"Forespør detaljer\" request the mail service accepted",
};
pub const DETAILS_MAILS_REFUSED: Metric = Metric {
    name: "DetailsMailsRefused",
    unit: Unit::Count,
    dimension_sets: &[&[], &[Reason]],
    meaning: "a \"Forespør detaljer\" request the mail service refused",
};
pub const INVITATIONS_SENT: Metric = Metric {
    name: "InvitationsSent",
    unit: Unit::Count,
    dimension_sets: NONE,
    meaning: "an invitation mail the mail service accepted",
};
pub const REVALIDATION_CHECKED: Metric = Metric {
    name: "RevalidationChecked",
    unit: Unit::Count,
    dimension_sets: NONE,
    meaning: "saved configurations checked by one revalidation invocation",
};
pub const REVALIDATION_BROKEN: Metric = Metric {
    name: "RevalidationBroken",
    unit: Unit::Count,
    dimension_sets: NONE,
    meaning: "connections that went from working to failing in one invocation",
};
pub const REVALIDATION_RECOVERED: Metric = Metric {
    name: "RevalidationRecovered",
    unit: Unit::Count,
    dimension_sets: NONE,
    meaning: "connections that went from failing to working in one invocation",
};
pub const REVALIDATION_UNAVAILABLE: Metric = Metric {
    name: "RevalidationUnavailable",
    unit: Unit::Count,
    dimension_sets: NONE,
    meaning: "checks in one invocation whose vendor gave no usable answer",
};
pub const REVALIDATION_SKIPPED: Metric = Metric {
    name: "RevalidationSkipped",
    unit: Unit::Count,
    dimension_sets: NONE,
    meaning: "saved configurations not checked (stored key unreadable, unknown system)",
};
pub const REVALIDATION_DURATION: Metric = Metric {
    name: "RevalidationDuration",
    unit: Unit::Milliseconds,
    dimension_sets: NONE,
    meaning: "wall time of one revalidation invocation that held the run",
};
pub const REVALIDATION_RUNS_COMPLETED: Metric = Metric {
    name: "RevalidationRunsCompleted",
    unit: Unit::Count,
    dimension_sets: NONE,
    meaning: "tonight's scheduled run (named by the Oslo date) checked its last page",
};
pub const REVALIDATION_RUN_LOCATIONS: Metric = Metric {
    name: "RevalidationRunLocations",
    unit: Unit::Count,
    dimension_sets: NONE,
    meaning: "saved configurations the completed run checked, over all its invocations",
};

/// Every metric the code writes.
pub const ALL: &[&Metric] = &[
    &CONNECTION_CHECKS,
    &CONNECTION_CHECK_DURATION,
    &LOCKOUTS_STARTED,
    &DETAILS_MAILS_SENT,
    &DETAILS_MAILS_REFUSED,
    &INVITATIONS_SENT,
    &REVALIDATION_CHECKED,
    &REVALIDATION_BROKEN,
    &REVALIDATION_RECOVERED,
    &REVALIDATION_UNAVAILABLE,
    &REVALIDATION_SKIPPED,
    &REVALIDATION_DURATION,
    &REVALIDATION_RUNS_COMPLETED,
    &REVALIDATION_RUN_LOCATIONS,
];

pub fn metric(name: &str) -> Option<&'static Metric> {
    ALL.iter().copied().find(|m| m.name == name)
}

/// How a connection check ended, as the `Outcome` dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// The vendor rejected what was entered (counts toward the lockout).
    Rejected,
    /// Refused on our side before anything was sent (does not count).
    InputRefused,
    /// The vendor gave no usable answer.
    Unavailable,
    /// Right details, clinic not ready (no calendar open for online booking).
    SetupIncomplete,
    /// The check passed, but a step could not be confirmed from the vendor's answer.
    NotVerifiable,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::Success,
        Outcome::Rejected,
        Outcome::InputRefused,
        Outcome::Unavailable,
        Outcome::SetupIncomplete,
        Outcome::NotVerifiable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Rejected => "rejected",
            Outcome::InputRefused => "input_refused",
            Outcome::Unavailable => "unavailable",
            Outcome::SetupIncomplete => "setup_incomplete",
            Outcome::NotVerifiable => "not_verifiable",
        }
    }
}

/// A check's outcome as measured: a success that could not confirm every step (a vendor whose
/// answer shows no calendar, Extensor's booking page) is `not_verifiable`, so the share of
/// checks that prove less than they seem stays visible.
#[cfg(feature = "vendors")]
impl From<&crate::vendors::CheckReport> for Outcome {
    fn from(report: &crate::vendors::CheckReport) -> Self {
        let outcome = Outcome::from(report.outcome());
        let unverified = report
            .steps
            .iter()
            .any(|s| s.code == crate::vendors::CheckCode::NotVerifiable);
        match outcome {
            Outcome::Success if unverified => Outcome::NotVerifiable,
            other => other,
        }
    }
}

#[cfg(feature = "vendors")]
impl From<crate::vendors::CheckOutcome> for Outcome {
    fn from(outcome: crate::vendors::CheckOutcome) -> Self {
        use crate::vendors::CheckOutcome as C;
        match outcome {
            C::Success => Outcome::Success,
            C::Rejected => Outcome::Rejected,
            C::InputRefused => Outcome::InputRefused,
            C::Unavailable => Outcome::Unavailable,
            C::SetupIncomplete => Outcome::SetupIncomplete,
        }
    }
}

/// Why the mail service refused a mail, as the `Reason` dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailRefusal {
    Rejected,
    Throttled,
    Unavailable,
    Failed,
}

impl MailRefusal {
    pub const ALL: [MailRefusal; 4] = [
        MailRefusal::Rejected,
        MailRefusal::Throttled,
        MailRefusal::Unavailable,
        MailRefusal::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MailRefusal::Rejected => "rejected",
            MailRefusal::Throttled => "throttled",
            MailRefusal::Unavailable => "unavailable",
            MailRefusal::Failed => "failed",
        }
    }
}

impl From<&MailError> for MailRefusal {
    fn from(error: &MailError) -> Self {
        match error {
            MailError::Rejected(_) => MailRefusal::Rejected,
            MailError::Throttled => MailRefusal::Throttled,
            MailError::Unavailable(_) => MailRefusal::Unavailable,
            MailError::Failed(_) => MailRefusal::Failed,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What the use cases call: one line each.
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// The EMF line and where it goes.
// ---------------------------------------------------------------------------------------------

/// One EMF document: the values, the dimensions their metrics use, and one directive per
/// distinct group of dimension sets.
pub fn line(
    namespace: &str,
    timestamp_ms: u64,
    values: &[(&'static Metric, f64)],
    dimensions: &[(Dimension, &'static str)],
) -> Value {
    let mut root = Map::new();
    let mut directives: Vec<Value> = Vec::new();
    let mut groups: Vec<(&'static [&'static [Dimension]], Vec<Value>)> = Vec::new();
    for (metric, value) in values {
        root.insert(metric.name.to_string(), json!(value));
        let definition = json!({ "Name": metric.name, "Unit": metric.unit.as_str() });
        match groups
            .iter_mut()
            .find(|(sets, _)| *sets == metric.dimension_sets)
        {
            Some((_, metrics)) => metrics.push(definition),
            None => groups.push((metric.dimension_sets, vec![definition])),
        }
    }
    for dimension in values
        .iter()
        .flat_map(|(m, _)| m.dimension_sets.iter().flat_map(|s| s.iter()))
    {
        debug_assert!(
            dimensions.iter().any(|(d, _)| d == dimension),
            "metric written without its {} dimension",
            dimension.name()
        );
    }
    for (sets, metrics) in groups {
        let sets: Vec<Vec<&str>> = sets
            .iter()
            .map(|set| set.iter().map(|d| d.name()).collect())
            .collect();
        directives.push(json!({
            "Namespace": namespace,
            "Dimensions": sets,
            "Metrics": metrics,
        }));
    }
    // Only dimensions some metric of this line uses; values come from bounded enums.
    for (dimension, value) in dimensions {
        let used = values
            .iter()
            .any(|(m, _)| m.dimension_sets.iter().any(|s| s.contains(dimension)));
        if used {
            root.insert(dimension.name().to_string(), json!(value));
        }
    }
    root.insert(
        "_aws".to_string(),
        json!({ "Timestamp": timestamp_ms, "CloudWatchMetrics": directives }),
    );
    Value::Object(root)
}

fn namespace() -> Option<&'static str> {
    static NAMESPACE: OnceLock<Option<String>> = OnceLock::new();
    NAMESPACE
        .get_or_init(|| {
            std::env::var(NAMESPACE_VAR)
                .ok()
                .filter(|v| !v.trim().is_empty())
        })
        .as_deref()
}

thread_local! {
    static RECORDER: RefCell<Option<Rc<RefCell<Vec<Value>>>>> = const { RefCell::new(None) };
}

/// The namespace a recorded line carries when `METRICS_NAMESPACE` is not set.
pub const RECORDED_NAMESPACE: &str = "Bookinglink/test";

fn emit(values: &[(&'static Metric, f64)], dimensions: &[(Dimension, &'static str)]) {
    let recorder = RECORDER.with(|r| r.borrow().clone());
    let namespace = match (namespace(), &recorder) {
        (Some(ns), _) => ns,
        (None, Some(_)) => RECORDED_NAMESPACE,
        (None, None) => return,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let document = line(namespace, now, values, dimensions);
    if let Some(recorder) = recorder {
        recorder.borrow_mut().push(document);
        return;
    }
    // One write of one whole line under the lock, so it never interleaves with a log line.
    // A metric that cannot be written is not worth failing a request for.
    let mut text = document.to_string();
    text.push('\n');
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Records the lines this thread writes from now until the returned recording is dropped,
/// instead of writing them. For tests: a current-thread runtime keeps spawned tasks on the
/// test's thread.
pub fn record() -> Recording {
    let lines = Rc::new(RefCell::new(Vec::new()));
    RECORDER.with(|r| *r.borrow_mut() = Some(lines.clone()));
    Recording { lines }
}

pub struct Recording {
    lines: Rc<RefCell<Vec<Value>>>,
}

impl Recording {
    /// The EMF documents written so far.
    pub fn lines(&self) -> Vec<Value> {
        self.lines.borrow().clone()
    }

    /// The values written for `metric`, in order, with the dimensions of their line.
    pub fn values(&self, metric: &Metric) -> Vec<(f64, Map<String, Value>)> {
        self.lines()
            .into_iter()
            .filter_map(|line| {
                let value = line.get(metric.name)?.as_f64()?;
                let dims = metric
                    .dimension_sets
                    .iter()
                    .flat_map(|s| s.iter())
                    .filter_map(|d| Some((d.name().to_string(), line.get(d.name())?.clone())))
                    .collect();
                Some((value, dims))
            })
            .collect()
    }

    /// How many data were written for `metric`.
    pub fn count(&self, metric: &Metric) -> usize {
        self.values(metric).len()
    }

    /// The sum of the values written for `metric`.
    pub fn total(&self, metric: &Metric) -> f64 {
        self.values(metric).iter().map(|(v, _)| v).sum()
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        RECORDER.with(|r| *r.borrow_mut() = None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What CloudWatch requires of a document (the EMF specification), checked on a parsed
    /// line: the `_aws` metadata with a millisecond timestamp, directives with a namespace,
    /// dimension sets of at most 9 keys whose members are strings on the root, and metric
    /// definitions whose members are numbers on the root and whose units are CloudWatch's.
    fn assert_valid_emf(text: &str) -> Value {
        let doc: Value = serde_json::from_str(text).expect("one JSON document");
        let root = doc.as_object().expect("the root is an object");
        let aws = root["_aws"].as_object().expect("_aws is an object");
        assert!(aws["Timestamp"].as_u64().expect("Timestamp is an integer") > 1_600_000_000_000);
        let directives = aws["CloudWatchMetrics"].as_array().expect("directives");
        assert!(!directives.is_empty());
        for directive in directives {
            let namespace = directive["Namespace"].as_str().expect("Namespace");
            assert!(!namespace.is_empty() && namespace.len() <= 255);
            let sets = directive["Dimensions"].as_array().expect("Dimensions");
            assert!(!sets.is_empty());
            for set in sets {
                let set = set.as_array().expect("a dimension set is an array");
                assert!(set.len() <= 9);
                for key in set {
                    let key = key.as_str().expect("dimension keys are strings");
                    assert!(root[key].is_string(), "dimension {key} is a string member");
                }
            }
            let metrics = directive["Metrics"].as_array().expect("Metrics");
            assert!(!metrics.is_empty() && metrics.len() <= 100);
            for definition in metrics {
                let name = definition["Name"].as_str().expect("Name");
                assert!(root[name].is_number(), "metric {name} is a number member");
                let unit = definition["Unit"].as_str().expect("Unit");
                assert!(["Count", "Milliseconds"].contains(&unit));
            }
        }
        doc
    }

    fn written(values: &[(&'static Metric, f64)], dims: &[(Dimension, &'static str)]) -> Value {
        let doc = line("Bookinglink/prod", 1_764_547_200_000, values, dims);
        assert_valid_emf(&doc.to_string())
    }

    #[test]
    fn a_connection_check_is_one_valid_line_with_system_and_outcome() {
        let recording = record();
        let system = catalog::system("pasientsky").unwrap();
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

    #[cfg(feature = "vendors")]
    #[test]
    fn a_success_that_could_not_confirm_a_step_counts_as_not_verifiable() {
        use crate::vendors::{CheckCode, CheckReport, CheckStep, StepId, StepStatus};
        let step = |step, status, code| CheckStep {
            step,
            status,
            code,
            field: None,
        };
        let report = |steps| CheckReport {
            system: "extensor".into(),
            steps,
        };
        let reachable = step(StepId::VendorReachable, StepStatus::Ok, CheckCode::Ok);
        let ok = report(vec![reachable.clone()]);
        assert_eq!(Outcome::from(&ok), Outcome::Success);
        let unverified = report(vec![
            reachable.clone(),
            step(
                StepId::OnlineBookingOpen,
                StepStatus::Ok,
                CheckCode::NotVerifiable,
            ),
        ]);
        // A report that succeeds without confirming a step is counted apart; one that fails
        // keeps its failure's outcome.
        assert!(unverified.succeeded());
        assert_eq!(Outcome::from(&unverified), Outcome::NotVerifiable);
        let setup = report(vec![
            reachable,
            step(
                StepId::DepartmentFound,
                StepStatus::Skipped,
                CheckCode::NotVerifiable,
            ),
            step(
                StepId::OnlineBookingOpen,
                StepStatus::Failed,
                CheckCode::NoOnlineBookingCalendar,
            ),
        ]);
        assert_eq!(Outcome::from(&setup), Outcome::SetupIncomplete);
    }

    #[test]
    fn metrics_without_dimensions_use_one_empty_dimension_set() {
        let doc = written(&[(&LOCKOUTS_STARTED, 1.0)], &[]);
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Dimensions"], json!([[]]));
        assert_eq!(directive["Namespace"], "Bookinglink/prod");
        assert_eq!(doc["_aws"]["Timestamp"], json!(1_764_547_200_000u64));
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

    #[test]
    fn every_dimension_value_is_a_bounded_token() {
        for metric in ALL {
            assert!(metric.name.chars().all(|c| c.is_ascii_alphanumeric()));
            assert!(!metric.dimension_sets.is_empty(), "{}", metric.name);
            for set in metric.dimension_sets {
                for dimension in set.iter() {
                    let values = dimension.values();
                    assert!(!values.is_empty());
                    for value in values {
                        assert!(
                            value
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()),
                            "{value}"
                        );
                    }
                }
            }
        }
        assert_eq!(
            Dimension::System.values().len(),
            catalog::systems().len(),
            "one System value per catalog entry"
        );
        let names: std::collections::BTreeSet<_> = ALL.iter().map(|m| m.name).collect();
        assert_eq!(names.len(), ALL.len(), "metric names are unique");
        assert_eq!(metric("LockoutsStarted"), Some(&LOCKOUTS_STARTED));
    }
}
