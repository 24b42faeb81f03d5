//! Counting AWS round trips in tests. Production wiring never sees this: a test builds its
//! clients with [`counted_dynamodb`] / [`counted_secretsmanager`] / [`counted_ses`], which add
//! one interceptor ([`CountCalls`]) through each service's config builder, and hands those
//! clients to the same stores the functions use.
//!
//! Every SDK call (one *execution*, whatever its retries) is recorded with its service,
//! operation and the logical time it started (`read_before_execution`) and ended
//! (`read_after_execution`). Other steps of a request (the vendor call) can be recorded in the
//! same log with [`CallLog::start`] / [`CallLog::end`].
//!
//! **Rounds.** The number of serial round trips is the length of the longest chain of calls in
//! which each call started after the previous one ended: calls started together
//! (`tokio::join!`) and overlapping each other count as one round, calls awaited one after
//! another as one round each. See [`rounds`].

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use bookinglink::aws::SdkConfig;

/// One recorded call. `started`/`ended` are ticks of the log's logical clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub service: String,
    pub operation: String,
    pub started: u64,
    /// `None` while the call is running.
    pub ended: Option<u64>,
}

impl Call {
    /// `Service.Operation`, e.g. `DynamoDB.GetItem`.
    pub fn label(&self) -> String {
        format!("{}.{}", self.service, self.operation)
    }
}

#[derive(Default)]
struct State {
    tick: u64,
    calls: Vec<Call>,
}

/// The calls made through counted clients, shared by every client built with it.
#[derive(Clone, Default)]
pub struct CallLog(Arc<Mutex<State>>);

impl std::fmt::Debug for CallLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.calls()).finish()
    }
}

impl CallLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the start of a call; returns its index for [`CallLog::end`].
    pub fn start(&self, service: &str, operation: &str) -> usize {
        let mut state = self.0.lock().unwrap();
        state.tick += 1;
        let started = state.tick;
        state.calls.push(Call {
            service: service.to_string(),
            operation: operation.to_string(),
            started,
            ended: None,
        });
        state.calls.len() - 1
    }

    pub fn end(&self, index: usize) {
        let mut state = self.0.lock().unwrap();
        state.tick += 1;
        let tick = state.tick;
        if let Some(call) = state.calls.get_mut(index) {
            call.ended = Some(tick);
        }
    }

    fn name(&self, index: usize, service: &str, operation: &str) {
        let mut state = self.0.lock().unwrap();
        if let Some(call) = state.calls.get_mut(index) {
            call.service = service.to_string();
            call.operation = operation.to_string();
        }
    }

    /// Forgets everything recorded so far (e.g. after a test's set-up).
    pub fn clear(&self) {
        self.0.lock().unwrap().calls.clear();
    }

    pub fn calls(&self) -> Vec<Call> {
        self.0.lock().unwrap().calls.clone()
    }

    /// `Service.Operation` of every call, in start order.
    pub fn labels(&self) -> Vec<String> {
        self.calls().iter().map(Call::label).collect()
    }

    /// Serial rounds of every recorded call.
    pub fn rounds(&self) -> usize {
        rounds(&self.calls())
    }

    /// Serial rounds of the calls that ended before the first call of `service` started, and
    /// of those that started after its last one ended: the AWS round trips before and after
    /// e.g. the vendor call. Panics if no such call was recorded or one overlaps it.
    pub fn rounds_around(&self, service: &str) -> (usize, usize) {
        let calls = self.calls();
        let marks: Vec<&Call> = calls.iter().filter(|c| c.service == service).collect();
        assert!(!marks.is_empty(), "no {service} call recorded: {calls:?}");
        let first = marks.iter().map(|c| c.started).min().unwrap();
        let last = marks
            .iter()
            .map(|c| c.ended.expect("the call ended"))
            .max()
            .unwrap();
        let others: Vec<&Call> = calls.iter().filter(|c| c.service != service).collect();
        let before: Vec<Call> = others
            .iter()
            .filter(|c| c.ended.is_some_and(|e| e < first))
            .map(|c| (*c).clone())
            .collect();
        let after: Vec<Call> = others
            .iter()
            .filter(|c| c.started > last)
            .map(|c| (*c).clone())
            .collect();
        assert_eq!(
            before.len() + after.len(),
            others.len(),
            "a call overlaps the {service} call: {calls:?}"
        );
        (rounds(&before), rounds(&after))
    }
}

/// The length of the longest chain of calls in which each started after the previous ended.
/// A call still running counts as ending after everything.
pub fn rounds(calls: &[Call]) -> usize {
    let mut sorted: Vec<&Call> = calls.iter().collect();
    sorted.sort_by_key(|c| c.started);
    let mut depth = vec![0usize; sorted.len()];
    for i in 0..sorted.len() {
        let before = (0..i)
            .filter(|&j| sorted[j].ended.is_some_and(|e| e < sorted[i].started))
            .map(|j| depth[j])
            .max()
            .unwrap_or(0);
        depth[i] = before + 1;
    }
    depth.into_iter().max().unwrap_or(0)
}

/// The interceptor: records each execution's start and end in a [`CallLog`].
#[derive(Debug, Clone)]
pub struct CountCalls(pub CallLog);

/// Which log entry an execution is, carried in the execution's own config bag.
#[derive(Debug, Clone)]
struct CallIndex(usize);

impl Storable for CallIndex {
    type Storer = StoreReplace<Self>;
}

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Client interceptors run here before the operation's configuration is applied, so
        // the operation's name is filled in at `read_before_serialization`.
        let index = self.0.start("?", "?");
        cfg.interceptor_state().store_put(CallIndex(index));
        Ok(())
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(CallIndex(index)), Some(metadata)) =
            (cfg.load::<CallIndex>(), cfg.load::<Metadata>())
        {
            self.0.name(*index, metadata.service(), metadata.name());
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(CallIndex(index)) = cfg.load::<CallIndex>() {
            self.0.end(*index);
        }
        Ok(())
    }
}

/// A DynamoDB client for `config` whose calls are recorded in `log`.
pub fn counted_dynamodb(config: &SdkConfig, log: &CallLog) -> aws_sdk_dynamodb::Client {
    client_with_interceptor!(aws_sdk_dynamodb, config, CountCalls(log.clone()))
}

/// A Secrets Manager client for `config` whose calls are recorded in `log`.
pub fn counted_secretsmanager(config: &SdkConfig, log: &CallLog) -> aws_sdk_secretsmanager::Client {
    client_with_interceptor!(aws_sdk_secretsmanager, config, CountCalls(log.clone()))
}

/// An SES client for `config` whose calls are recorded in `log`.
pub fn counted_ses(config: &SdkConfig, log: &CallLog) -> aws_sdk_ses::Client {
    client_with_interceptor!(aws_sdk_ses, config, CountCalls(log.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(started: u64, ended: u64) -> Call {
        Call {
            service: "s".into(),
            operation: "o".into(),
            started,
            ended: Some(ended),
        }
    }

    #[test]
    fn overlapping_calls_are_one_round_and_awaited_ones_add_up() {
        assert_eq!(rounds(&[]), 0);
        // Two calls joined, then one after both.
        assert_eq!(rounds(&[call(1, 3), call(2, 4), call(5, 6)]), 2);
        // Three calls one after another.
        assert_eq!(rounds(&[call(1, 2), call(3, 4), call(5, 6)]), 3);
        // A long call overlapping two short serial ones: the chain of two decides.
        assert_eq!(rounds(&[call(1, 10), call(2, 3), call(4, 5)]), 2);
    }
}
