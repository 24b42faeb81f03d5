//! The EMF line and where it goes: stdout when `METRICS_NAMESPACE` is set, a test's recording
//! when one is running, nowhere otherwise.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use super::{Dimension, Metric, NAMESPACE_VAR};

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

pub(super) fn emit(values: &[(&'static Metric, f64)], dimensions: &[(Dimension, &'static str)]) {
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
pub(super) mod tests {
    use super::*;
    use crate::metrics::LOCKOUTS_STARTED;

    /// What CloudWatch requires of a document (the EMF specification), checked on a parsed
    /// line: the `_aws` metadata with a millisecond timestamp, directives with a namespace,
    /// dimension sets of at most 9 keys whose members are strings on the root, and metric
    /// definitions whose members are numbers on the root and whose units are CloudWatch's.
    pub(crate) fn assert_valid_emf(text: &str) -> Value {
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
    fn metrics_without_dimensions_use_one_empty_dimension_set() {
        let doc = written(&[(&LOCKOUTS_STARTED, 1.0)], &[]);
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Dimensions"], json!([[]]));
        assert_eq!(directive["Namespace"], "Bookinglink/prod");
        assert_eq!(doc["_aws"]["Timestamp"], json!(1_764_547_200_000u64));
    }
}
