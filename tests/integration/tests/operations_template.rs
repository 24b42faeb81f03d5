//! The operations part of the SAM template against the metrics the code writes
//! (`bookinglink::metrics`): every alarm and every dashboard graph watches a metric the code
//! emits, in the namespace the template gives the functions, with a dimension set the code
//! writes and dimension values it can take. AWS's own metrics must name this stack's resources.
//! Every function has its error and throttle alarms, every booking system its unavailable-rate
//! alarm, and the night's run its "not completed" alarm.

use std::collections::{BTreeMap, BTreeSet};

use bookinglink::metrics::{self, Dimension};
use integration_tests::permissions::template;
use serde_json::Value as Json;
use serde_norway::Value as Yaml;

/// The namespace expression the template gives the functions and the alarms read.
const NAMESPACE: &str = "Bookinglink/${AWS::StackName}";

/// The string inside a `!Tag value` node.
fn tagged<'a>(value: &'a Yaml, tag: &str) -> Option<&'a str> {
    match value {
        Yaml::Tagged(t) if t.tag == tag => t.value.as_str(),
        _ => None,
    }
}

fn resources(template: &Yaml) -> BTreeMap<String, Yaml> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_string(), v.clone()))
        .collect()
}

fn of_type(template: &Yaml, kind: &str) -> BTreeMap<String, Yaml> {
    resources(template)
        .into_iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .collect()
}

/// One metric an alarm reads: namespace node, name, and dimensions (name → value node).
struct Watched {
    namespace: Yaml,
    name: String,
    dimensions: Dimensions,
}

fn watched(metric: &Yaml) -> Watched {
    Watched {
        namespace: metric["Namespace"].clone(),
        name: metric["MetricName"]
            .as_str()
            .expect("MetricName")
            .to_string(),
        dimensions: metric["Dimensions"]
            .as_sequence()
            .map(|ds| {
                ds.iter()
                    .map(|d| (d["Name"].as_str().unwrap().to_string(), d["Value"].clone()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The metrics an alarm evaluates: its own, or those of its metric-math queries.
fn alarm_metrics(alarm: &Yaml) -> Vec<Watched> {
    let props = &alarm["Properties"];
    match props["Metrics"].as_sequence() {
        Some(queries) => queries
            .iter()
            .filter(|q| !q["MetricStat"].is_null())
            .map(|q| watched(&q["MetricStat"]["Metric"]))
            .collect(),
        None => vec![watched(props)],
    }
}

fn dimension_named(name: &str) -> Option<Dimension> {
    Dimension::ALL.iter().copied().find(|d| d.name() == name)
}

/// A metric of our namespace must be one the code writes, with one of the dimension sets the
/// code writes it with, and values (where given) it can take.
fn check_ours(name: &str, dimensions: &[(String, Option<String>)]) -> Result<(), String> {
    let metric = metrics::metric(name).ok_or_else(|| format!("no code writes {name}"))?;
    let names: BTreeSet<&str> = dimensions.iter().map(|(n, _)| n.as_str()).collect();
    let written = metric
        .dimension_sets
        .iter()
        .any(|set| set.iter().map(|d| d.name()).collect::<BTreeSet<_>>() == names);
    if !written {
        return Err(format!(
            "{name} is never written with dimensions {names:?} (sets: {:?})",
            metric.dimension_sets
        ));
    }
    for (dim, value) in dimensions {
        let dimension = dimension_named(dim).ok_or_else(|| format!("unknown dimension {dim}"))?;
        if let Some(value) = value
            && !dimension.values().contains(&value.as_str())
        {
            return Err(format!("{name}: {dim}={value} is never written"));
        }
    }
    Ok(())
}

#[test]
fn every_alarm_watches_a_metric_the_code_or_this_stack_produces() {
    let template = template();
    let functions = of_type(&template, "AWS::Serverless::Function");
    let queues = of_type(&template, "AWS::SQS::Queue");
    let alarms = of_type(&template, "AWS::CloudWatch::Alarm");
    assert!(alarms.len() >= 20, "{} alarms", alarms.len());
    for (id, alarm) in &alarms {
        let props = &alarm["Properties"];
        for actions in ["AlarmActions", "OKActions"] {
            let targets: Vec<_> = props[actions]
                .as_sequence()
                .unwrap_or_else(|| panic!("{id} has no {actions}"))
                .iter()
                .filter_map(|t| tagged(t, "Ref"))
                .collect();
            assert_eq!(targets, ["AlarmTopic"], "{id} {actions}");
        }
        assert!(
            props["AlarmDescription"]
                .as_str()
                .or_else(|| tagged(&props["AlarmDescription"], "Sub"))
                .is_some_and(|d| d.contains("docs/operations.md")),
            "{id} points to its runbook entry"
        );
        for metric in alarm_metrics(alarm) {
            let what = format!("{id}: {}", metric.name);
            if tagged(&metric.namespace, "Sub") == Some(NAMESPACE) {
                let dims: Vec<(String, Option<String>)> = metric
                    .dimensions
                    .iter()
                    .map(|(n, v)| (n.clone(), v.as_str().map(str::to_string)))
                    .collect();
                assert!(
                    metric.dimensions.iter().all(|(_, v)| v.as_str().is_some()),
                    "{what}: dimension values are literals"
                );
                check_ours(&metric.name, &dims).unwrap_or_else(|e| panic!("{what}: {e}"));
                continue;
            }
            let namespace = metric
                .namespace
                .as_str()
                .unwrap_or_else(|| panic!("{what}: namespace {:?}", metric.namespace));
            let dims: Vec<(&str, &Yaml)> = metric
                .dimensions
                .iter()
                .map(|(n, v)| (n.as_str(), v))
                .collect();
            match (namespace, dims.as_slice()) {
                ("AWS/Lambda", [("FunctionName", v)]) => {
                    let target = tagged(v, "Ref").expect("a !Ref");
                    assert!(functions.contains_key(target), "{what}: {target}");
                    assert!(["Errors", "Throttles"].contains(&metric.name.as_str()));
                }
                ("AWS/ApiGateway", [("ApiId", v)]) => {
                    assert_eq!(tagged(v, "Ref"), Some("HttpApi"), "{what}");
                    assert!(["5xx", "Count"].contains(&metric.name.as_str()), "{what}");
                }
                ("AWS/SQS", [("QueueName", v)]) => {
                    let att = tagged(v, "GetAtt").expect("a !GetAtt");
                    let queue = att.strip_suffix(".QueueName").expect(".QueueName");
                    assert!(queues.contains_key(queue), "{what}: {queue}");
                }
                ("AWS/SES", [("ses:configuration-set", v)]) => {
                    assert_eq!(tagged(v, "Ref"), Some("SesConfigurationSet"), "{what}");
                    assert_eq!(
                        alarm["Condition"].as_str(),
                        Some("HasSesConfigurationSet"),
                        "{what}: only with a configuration set"
                    );
                }
                other => panic!("{what}: unexpected metric {other:?}"),
            }
        }
    }
}

#[test]
fn the_functions_write_the_namespace_the_alarms_read() {
    let template = template();
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(
        tagged(&globals[metrics::NAMESPACE_VAR], "Sub"),
        Some(NAMESPACE)
    );
    for (id, function) in of_type(&template, "AWS::Serverless::Function") {
        let own = &function["Properties"]["Environment"]["Variables"];
        assert!(
            own[metrics::NAMESPACE_VAR].is_null(),
            "{id} must not override the metrics namespace"
        );
    }
}

/// The dimensions (name, value) of one metric an alarm reads.
type Dimensions = Vec<(String, Yaml)>;

/// The alarm ids watching `metric` (plain or through metric math), with their dimensions.
fn alarms_on(template: &Yaml, name: &str) -> Vec<(String, Vec<Dimensions>)> {
    of_type(template, "AWS::CloudWatch::Alarm")
        .into_iter()
        .filter_map(|(id, alarm)| {
            let dims: Vec<_> = alarm_metrics(&alarm)
                .into_iter()
                .filter(|m| m.name == name)
                .map(|m| m.dimensions)
                .collect();
            (!dims.is_empty()).then_some((id, dims))
        })
        .collect()
}

#[test]
fn every_function_has_an_errors_and_a_throttles_alarm() {
    let template = template();
    for metric in ["Errors", "Throttles"] {
        let watched: BTreeSet<String> = alarms_on(&template, metric)
            .into_iter()
            .flat_map(|(_, dims)| dims)
            .filter_map(|d| tagged(&d[0].1, "Ref").map(str::to_string))
            .collect();
        let functions: BTreeSet<String> = of_type(&template, "AWS::Serverless::Function")
            .into_keys()
            .collect();
        assert_eq!(watched, functions, "{metric}");
    }
}

#[test]
fn every_booking_system_has_an_unavailable_rate_alarm() {
    let template = template();
    let mut covered = BTreeSet::new();
    for (id, dims) in alarms_on(&template, metrics::CONNECTION_CHECKS.name) {
        // The share: unavailable checks of one system over all its checks, in one expression.
        let value = |set: &Dimensions, name: &str| {
            set.iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, v)| v.as_str().map(str::to_string))
        };
        let systems: BTreeSet<_> = dims.iter().filter_map(|d| value(d, "System")).collect();
        assert_eq!(systems.len(), 1, "{id} watches one system");
        let outcomes: Vec<_> = dims.iter().map(|d| value(d, "Outcome")).collect();
        assert!(outcomes.contains(&Some("unavailable".into())), "{id}");
        assert!(outcomes.contains(&None), "{id} divides by all checks");
        let alarm = &resources(&template)[&id];
        let expression = alarm["Properties"]["Metrics"]
            .as_sequence()
            .unwrap()
            .iter()
            .find_map(|q| q["Expression"].as_str())
            .expect("a metric-math expression");
        assert!(expression.contains("/ checks"), "{id}: {expression}");
        assert_eq!(
            alarm["Properties"]["Metrics"][1]["MetricStat"]["Period"],
            1800
        );
        covered.extend(systems);
    }
    let catalog: BTreeSet<String> = Dimension::System
        .values()
        .into_iter()
        .map(str::to_string)
        .collect();
    assert_eq!(covered, catalog);
}

#[test]
fn a_night_without_a_completed_run_alarms_and_the_schedule_has_a_dead_letter_queue() {
    let template = template();
    let nightly = alarms_on(&template, metrics::REVALIDATION_RUNS_COMPLETED.name);
    assert_eq!(nightly.len(), 1);
    let alarm = &resources(&template)[&nightly[0].0]["Properties"];
    assert_eq!(alarm["TreatMissingData"], "breaching");
    assert_eq!(alarm["Period"], 86400);
    assert_eq!(alarm["EvaluationPeriods"], 1);
    assert_eq!(alarm["ComparisonOperator"], "LessThanThreshold");
    assert_eq!(
        alarm["EvaluationWindow"]["WallClockWindow"]["Timezone"],
        "-05:00"
    );

    let schedule = &resources(&template)["RevalidateFunction"]["Properties"]["Events"]["Nightly"];
    assert_eq!(schedule["Type"], "ScheduleV2");
    let props = &schedule["Properties"];
    assert!(
        props["RetryPolicy"]["MaximumRetryAttempts"]
            .as_u64()
            .unwrap()
            >= 1
    );
    let dlq = tagged(&props["DeadLetterConfig"]["Arn"], "GetAtt").expect("a queue's Arn");
    let queue = dlq.strip_suffix(".Arn").unwrap();
    assert_eq!(resources(&template)[queue]["Type"], "AWS::SQS::Queue");
    let role = tagged(&props["RoleArn"], "GetAtt").expect("the schedule's own role");
    // The queue lets exactly that role send to it, and an alarm watches its depth.
    let policy = of_type(&template, "AWS::SQS::QueuePolicy")
        .into_values()
        .find(|p| tagged(&p["Properties"]["Queues"][0], "Ref") == Some(queue))
        .expect("a policy on the dead-letter queue");
    let allow = &policy["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(allow["Effect"], "Allow");
    assert_eq!(allow["Action"], "sqs:SendMessage");
    assert_eq!(tagged(&allow["Principal"]["AWS"], "GetAtt"), Some(role));
    assert_eq!(
        alarms_on(&template, "ApproximateNumberOfMessagesVisible").len(),
        1
    );
}

/// The dashboard's JSON, with `${...}` replaced: pseudo parameters by sample values, resource
/// references by `ref:<id>` / `att:<id>.<attribute>` (each checked to exist).
fn dashboard(template: &Yaml) -> Json {
    let dashboards = of_type(template, "AWS::CloudWatch::Dashboard");
    assert_eq!(dashboards.len(), 1);
    let body = dashboards.values().next().unwrap()["Properties"]["DashboardBody"].clone();
    let mut text = tagged(&body, "Sub")
        .expect("DashboardBody is a !Sub")
        .to_string();
    let ids = resources(template);
    while let Some(start) = text.find("${") {
        let end = start + text[start..].find('}').unwrap();
        let name = &text[start + 2..end];
        let replacement = match name {
            "AWS::StackName" => "STACK".to_string(),
            "AWS::Region" => "eu-north-1".to_string(),
            _ => {
                let id = name.split('.').next().unwrap();
                assert!(ids.contains_key(id), "the dashboard names {id}");
                if name.contains('.') {
                    format!("att:{name}")
                } else {
                    format!("ref:{name}")
                }
            }
        };
        text.replace_range(start..=end, &replacement);
    }
    serde_json::from_str(&text).expect("DashboardBody is JSON")
}

#[test]
fn the_dashboard_graphs_every_metric_the_code_writes_and_nothing_else() {
    let template = template();
    let body = dashboard(&template);
    let ours = "Bookinglink/STACK";
    let mut shown = BTreeSet::new();
    let widgets = body["widgets"].as_array().unwrap();
    for widget in widgets {
        let title = widget["properties"]["title"].as_str().unwrap_or_default();
        if widget["type"] == "alarm" {
            let alarms = of_type(&template, "AWS::CloudWatch::Alarm");
            let listed: BTreeSet<String> = widget["properties"]["alarms"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    let id = a.as_str().unwrap().strip_prefix("att:").unwrap();
                    id.strip_suffix(".Arn").unwrap().to_string()
                })
                .collect();
            let unconditional: BTreeSet<String> = alarms
                .iter()
                .filter(|(_, a)| a["Condition"].is_null())
                .map(|(id, _)| id.clone())
                .collect();
            assert_eq!(listed, unconditional, "the alarm widget lists every alarm");
            continue;
        }
        let Some(lines) = widget["properties"]["metrics"].as_array() else {
            continue;
        };
        for line in lines {
            let line = line.as_array().unwrap();
            if let Some(expression) = line[0]["expression"].as_str() {
                // SEARCH('{namespace,Dim,...} MetricName="Name"', 'stat', period)
                let schema =
                    &expression[expression.find('{').unwrap() + 1..expression.find('}').unwrap()];
                let mut parts = schema.split(',');
                assert_eq!(parts.next(), Some(ours), "{title}");
                let dims: Vec<(String, Option<String>)> =
                    parts.map(|d| (d.to_string(), None)).collect();
                let name_at = expression.find("MetricName=\"").unwrap() + "MetricName=\"".len();
                let name = &expression[name_at..name_at + expression[name_at..].find('"').unwrap()];
                check_ours(name, &dims).unwrap_or_else(|e| panic!("{title}: {e}"));
                shown.insert(name.to_string());
                continue;
            }
            let strings: Vec<&str> = line.iter().filter_map(Json::as_str).collect();
            let (namespace, name, pairs) = (strings[0], strings[1], &strings[2..]);
            let dims: Vec<(String, Option<String>)> = pairs
                .chunks(2)
                .map(|p| (p[0].to_string(), Some(p[1].to_string())))
                .collect();
            if namespace == ours {
                check_ours(name, &dims).unwrap_or_else(|e| panic!("{title}: {e}"));
                shown.insert(name.to_string());
            } else {
                assert!(
                    ["AWS/ApiGateway", "AWS/Lambda", "AWS/SQS"].contains(&namespace),
                    "{title}: {namespace}"
                );
                assert!(
                    dims.iter().all(|(_, v)| v
                        .as_deref()
                        .is_some_and(|v| v.starts_with("ref:") || v.starts_with("att:"))),
                    "{title}: {name} names this stack's resources"
                );
            }
        }
    }
    let written: BTreeSet<String> = metrics::ALL.iter().map(|m| m.name.to_string()).collect();
    assert_eq!(
        shown, written,
        "every metric the code writes is on the dashboard"
    );
}
