//! Every metric the code writes, and every value its dimensions can take.

use crate::catalog;
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

#[cfg(test)]
mod tests {
    use super::*;

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
