//! How an adapter builds its report, step by step.

use super::{CheckCode, CheckReport, CheckStep, StepId, StepStatus};
use crate::catalog::{BookingSystem, FieldId};

/// Builds a report: every planned step starts as `skipped`/`not_checked` and is settled in
/// order by the adapter.
pub(crate) struct Plan {
    system: &'static str,
    steps: Vec<CheckStep>,
}

impl Plan {
    pub(crate) fn new(system: &BookingSystem, steps: &[StepId]) -> Plan {
        Plan {
            system: system.id,
            steps: steps
                .iter()
                .map(|&step| CheckStep {
                    step,
                    status: StepStatus::Skipped,
                    code: CheckCode::NotChecked,
                    field: None,
                })
                .collect(),
        }
    }

    fn get(&mut self, step: StepId) -> Option<&mut CheckStep> {
        self.steps.iter_mut().find(|s| s.step == step)
    }

    pub(crate) fn ok(&mut self, step: StepId) {
        if let Some(s) = self.get(step) {
            s.status = StepStatus::Ok;
            s.code = CheckCode::Ok;
        }
    }

    /// Passes each of `steps`, in order.
    pub(crate) fn passed(&mut self, steps: &[StepId]) {
        for &step in steps {
            self.ok(step);
        }
    }

    /// Marks a step the vendor's answer cannot settle.
    pub(crate) fn not_verifiable(&mut self, step: StepId) {
        if let Some(s) = self.get(step) {
            s.status = StepStatus::NotVerifiable;
            s.code = CheckCode::NotVerifiable;
        }
    }

    /// Fails `step` (or, if the system does not have it, the first unsettled step) and returns
    /// the report; later steps stay `not_checked`.
    pub(crate) fn fail(
        mut self,
        step: StepId,
        code: CheckCode,
        field: Option<FieldId>,
    ) -> CheckReport {
        let index = self
            .steps
            .iter()
            .position(|s| s.step == step)
            .or_else(|| self.first_unsettled());
        if let Some(i) = index {
            let s = &mut self.steps[i];
            s.status = StepStatus::Failed;
            s.code = code;
            s.field = field;
        }
        self.finish()
    }

    /// Fails the first step not yet settled: for transport problems, which stop whatever the
    /// adapter was about to establish.
    pub(crate) fn fail_next(self, code: CheckCode, field: Option<FieldId>) -> CheckReport {
        let step = self
            .first_unsettled()
            .map(|i| self.steps[i].step)
            .unwrap_or(StepId::VendorReachable);
        self.fail(step, code, field)
    }

    fn first_unsettled(&self) -> Option<usize> {
        self.steps
            .iter()
            .position(|s| s.status == StepStatus::Skipped && s.code == CheckCode::NotChecked)
    }

    pub(crate) fn finish(self) -> CheckReport {
        CheckReport {
            system: self.system.to_owned(),
            steps: self.steps,
        }
    }
}
