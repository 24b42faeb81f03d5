//! The SAM template's permissions, read and enforced in tests.
//!
//! [`template_statements`] reads every role of `infra/template.yaml` (each SAM function by its
//! binary's name, each IAM role by its logical id) into statements whose grants are compared
//! as (action, resource, leading key or condition): the form of the permissions table in
//! `infra/README.md` (`tests/permissions_template.rs` holds the two together).
//!
//! [`guarded_dynamodb`] and [`guarded_secretsmanager`] build clients that act as IAM would for
//! one function's role: an interceptor works out the action, the resource and the partition
//! key of every item a request reaches (each key of a `BatchGetItem`, each item of a
//! `TransactWriteItems` as the action it is authorized as, the index's partition key for a
//! query on an index) and panics, naming what is missing from the template, when the role
//! does not grant it. Tests that run the functions on such clients prove that the template
//! grants each function what its code paths use.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::repo_file;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, Input,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use bookinglink::aws::SdkConfig;
use serde_norway::Value as Yaml;

/// (action, resource, leading key or condition).
pub type Grant = (String, String, String);

/// Written where a grant has no condition.
pub const NO_CONDITION: &str = "none";

/// The secrets' name prefix as the template writes the resource.
pub const SECRETS: &str = "secret:${SecretNamePrefix}*";

pub fn template() -> Yaml {
    serde_norway::from_str(&repo_file("infra/template.yaml")).expect("template is YAML")
}

/// The intrinsic function of a `!Tag value` node (`Ref`, `Sub`, …) and its argument.
fn intrinsic(value: &Yaml) -> Option<(String, &Yaml)> {
    match value {
        Yaml::Tagged(t) => Some((
            t.tag.to_string().trim_start_matches('!').to_string(),
            &t.value,
        )),
        _ => None,
    }
}

/// `!GetAtt X.Arn` as the table writes it: `table` for the table, else the resource's name.
fn resource_name(logical_id: &str) -> String {
    if logical_id == "Table" {
        "table".to_string()
    } else {
        logical_id.to_string()
    }
}

/// `arn:${AWS::Partition}:<service>:${AWS::Region}:${AWS::AccountId}:<rest>` → `<rest>`.
fn without_arn_prefix(arn: &str) -> String {
    let Some(rest) = arn.strip_prefix("arn:${AWS::Partition}:") else {
        return arn.to_string();
    };
    let (_service, rest) = rest.split_once(':').expect("an ARN has a service");
    rest.strip_prefix("${AWS::Region}:${AWS::AccountId}:")
        .unwrap_or_else(|| panic!("{arn}: ARNs are in this stack's region and account"))
        .to_string()
}

/// A `!Sub` string with `${X.Arn}` written as the resource's name and the given variables
/// replaced.
fn substitute(text: &str, variables: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("a closed ${…}") + start;
        let name = &rest[start + 2..end];
        match (variables.get(name), name.strip_suffix(".Arn")) {
            (Some(value), _) => out.push_str(value),
            (None, Some(resource)) => out.push_str(&resource_name(resource)),
            (None, None) => out.push_str(&rest[start..=end]),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    without_arn_prefix(&out)
}

/// One value of a policy (a resource, a condition value) as the table writes it.
fn render(value: &Yaml) -> String {
    let (function, argument) = match (intrinsic(value), value) {
        (Some(call), _) => call,
        (None, Yaml::String(text)) => return text.clone(),
        (None, Yaml::Number(n)) => return n.to_string(),
        (None, other) => panic!("{other:?} in a policy"),
    };
    match function.as_str() {
        "Ref" => format!("${{{}}}", argument.as_str().expect("!Ref name")),
        "GetAtt" => {
            let target = argument.as_str().expect("!GetAtt X.Arn");
            resource_name(
                target
                    .strip_suffix(".Arn")
                    .expect("only ARNs are granted on"),
            )
        }
        "Sub" => match argument {
            Yaml::Sequence(parts) => {
                let variables = parts[1]
                    .as_mapping()
                    .expect("!Sub variables")
                    .iter()
                    .map(|(k, v)| (k.as_str().unwrap().to_string(), render(v)))
                    .collect();
                substitute(parts[0].as_str().expect("!Sub text"), &variables)
            }
            text => substitute(text.as_str().expect("!Sub text"), &BTreeMap::new()),
        },
        // `!Select [1, !Split ["@", !Ref X]]`: the domain of an address parameter.
        "Select" => {
            let parts = argument.as_sequence().expect("!Select [index, list]");
            let (split, list) = intrinsic(&parts[1]).expect("!Select of a !Split");
            let list = list.as_sequence().expect("!Split [separator, text]");
            assert_eq!(
                (parts[0].as_u64(), split.as_str(), list[0].as_str()),
                (Some(1), "Split", Some("@")),
                "only the domain of an address is selected"
            );
            let address = render(&list[1]);
            format!(
                "<domain of {}>",
                address.trim_start_matches("${").trim_end_matches('}')
            )
        }
        other => panic!("!{other} in a policy"),
    }
}

/// A resource node: one, a list, or `!If` (both branches: what the role gets when the
/// condition holds, and what it gets otherwise).
fn resources(value: &Yaml) -> Vec<String> {
    match value {
        Yaml::Sequence(items) => items.iter().flat_map(resources).collect(),
        _ => match intrinsic(value) {
            Some((function, branches)) if function == "If" => {
                let branches = branches.as_sequence().expect("!If [condition, a, b]");
                branches[1..].iter().flat_map(resources).collect()
            }
            _ => vec![render(value)],
        },
    }
}

fn strings(value: &Yaml) -> Vec<String> {
    match value {
        Yaml::Sequence(items) => items.iter().map(render).collect(),
        other => vec![render(other)],
    }
}

/// One statement of a policy.
pub struct Statement {
    pub sid: String,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    /// The leading keys of `ForAllValues:StringLike` on `dynamodb:LeadingKeys`, if any.
    pub leading_keys: Vec<String>,
    /// Every other condition, as `key Operator value`.
    pub conditions: Vec<String>,
}

impl Statement {
    fn parse(statement: &Yaml, role: &str) -> Statement {
        let sid = statement["Sid"].as_str().unwrap_or("(no Sid)").to_string();
        let what = format!("{role}: statement {sid}");
        assert_eq!(statement["Effect"].as_str(), Some("Allow"), "{what}");
        for unsupported in ["NotAction", "NotResource", "Principal"] {
            assert!(statement[unsupported].is_null(), "{what}: {unsupported}");
        }
        let mut leading_keys = Vec::new();
        let mut conditions = Vec::new();
        if let Some(operators) = statement["Condition"].as_mapping() {
            for (operator, keys) in operators {
                let operator = operator.as_str().expect("condition operator");
                for (key, values) in keys.as_mapping().expect("condition keys") {
                    let key = key.as_str().expect("condition key");
                    if key == "dynamodb:LeadingKeys" {
                        assert_eq!(
                            operator, "ForAllValues:StringLike",
                            "{what}: leading keys need ForAllValues (every key of the request)"
                        );
                        leading_keys.extend(strings(values));
                    } else {
                        for value in strings(values) {
                            conditions.push(format!("{key} {operator} {value}"));
                        }
                    }
                }
            }
        }
        Statement {
            actions: strings(&statement["Action"]),
            resources: resources(&statement["Resource"]),
            leading_keys,
            conditions,
            sid,
        }
    }

    pub fn grants(&self) -> Vec<Grant> {
        let conditions: Vec<String> = match (&self.leading_keys[..], &self.conditions[..]) {
            ([], []) => vec![NO_CONDITION.to_string()],
            ([], all) => vec![all.join(" and ")],
            (keys, []) => keys.to_vec(),
            (_, _) => panic!(
                "{}: leading keys with other conditions are not written in the table",
                self.sid
            ),
        };
        let mut out = Vec::new();
        for action in &self.actions {
            for resource in &self.resources {
                for condition in &conditions {
                    out.push((action.clone(), resource.clone(), condition.clone()));
                }
            }
        }
        out
    }
}

/// Every role of the template with its statements: each SAM function by its binary's name,
/// each IAM role by its logical id. Only inline policy documents are allowed: a SAM policy
/// template or a managed policy would grant what the table cannot see.
pub fn template_statements(template: &Yaml) -> BTreeMap<String, Vec<Statement>> {
    let mut roles = BTreeMap::new();
    for (id, resource) in template["Resources"].as_mapping().expect("Resources") {
        let id = id.as_str().expect("logical id");
        let props = &resource["Properties"];
        let (role, documents): (String, Vec<&Yaml>) = match resource["Type"].as_str() {
            Some("AWS::Serverless::Function") => {
                assert!(props["Role"].is_null(), "{id}: SAM builds the role");
                let binary = resource["Metadata"]["BuildProperties"]["Binary"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{id}: Metadata.BuildProperties.Binary"));
                let documents: Vec<&Yaml> = props["Policies"]
                    .as_sequence()
                    .map(|p| p.iter().collect())
                    .unwrap_or_default();
                for policy in &documents {
                    assert!(
                        policy["Statement"].is_sequence(),
                        "{id}: only inline policy documents, not {policy:?}"
                    );
                }
                (binary.to_string(), documents)
            }
            Some("AWS::IAM::Role") => {
                assert!(
                    props["ManagedPolicyArns"].is_null(),
                    "{id}: managed policies"
                );
                let documents = props["Policies"]
                    .as_sequence()
                    .map(|p| p.iter().map(|p| &p["PolicyDocument"]).collect())
                    .unwrap_or_default();
                (id.to_string(), documents)
            }
            Some("AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy") => {
                panic!("{id}: policies live on their role, where the table finds them")
            }
            _ => continue,
        };
        let statements = documents
            .iter()
            .flat_map(|d| d["Statement"].as_sequence().expect("Statement").iter())
            .map(|s| Statement::parse(s, &role))
            .collect();
        roles.insert(role, statements);
    }
    roles
}

/// Role → every grant of its statements.
pub fn template_grants() -> BTreeMap<String, BTreeSet<Grant>> {
    template_statements(&template())
        .into_iter()
        .map(|(role, statements)| {
            (
                role,
                statements.iter().flat_map(Statement::grants).collect(),
            )
        })
        .collect()
}

/// IAM's `StringLike`: `*` matches any run of characters, `?` any one.
fn like(pattern: &str, value: &str) -> bool {
    match pattern.chars().next() {
        None => value.is_empty(),
        Some('*') => (0..=value.len())
            .filter(|i| value.is_char_boundary(*i))
            .any(|i| like(&pattern[1..], &value[i..])),
        Some(p) => value.chars().next().is_some_and(|v| {
            (p == '?' || p == v) && like(&pattern[p.len_utf8()..], &value[v.len_utf8()..])
        }),
    }
}

/// What one request asks of the role: an action on a resource (as the table writes it), with
/// the request's values of the condition keys the template uses.
#[derive(Debug)]
struct Access {
    action: String,
    resource: String,
    leading_key: Option<String>,
    recovery_window_days: Option<i64>,
}

/// One function's role as IAM would apply it to that function's clients.
#[derive(Debug)]
struct Role {
    name: String,
    grants: BTreeSet<Grant>,
}

impl Role {
    fn of(name: &str) -> Arc<Role> {
        let grants = template_grants()
            .remove(name)
            .unwrap_or_else(|| panic!("no role {name} in infra/template.yaml"));
        Arc::new(Role {
            name: name.to_string(),
            grants,
        })
    }

    fn allows(&self, access: &Access) -> bool {
        self.grants.iter().any(|(action, resource, condition)| {
            action == &access.action
                && resource == &access.resource
                && match (condition.as_str(), &access.leading_key) {
                    (NO_CONDITION, _) => true,
                    (c, _) if c.starts_with("secretsmanager:RecoveryWindowInDays ") => {
                        let least = c
                            .strip_prefix(
                                "secretsmanager:RecoveryWindowInDays NumericGreaterThanEqual ",
                            )
                            .and_then(|n| n.parse::<i64>().ok());
                        least.is_some_and(|least| {
                            access.recovery_window_days.is_some_and(|d| d >= least)
                        })
                    }
                    (pattern, Some(key)) if !pattern.contains(' ') => like(pattern, key),
                    _ => false,
                }
        })
    }

    fn enforce(&self, accesses: Vec<Access>) {
        for access in accesses {
            assert!(
                self.allows(&access),
                "access denied: infra/template.yaml does not grant the {} function {} on {}{}{}",
                self.name,
                access.action,
                access.resource,
                access
                    .leading_key
                    .as_deref()
                    .map(|k| format!(" for the partition {k}"))
                    .unwrap_or_default(),
                access
                    .recovery_window_days
                    .map(|d| format!(" with a recovery window of {d} days"))
                    .unwrap_or_default(),
            );
        }
    }
}

fn partition(key: Option<&std::collections::HashMap<String, AttributeValue>>) -> Option<String> {
    match key?.get("pk")? {
        AttributeValue::S(pk) => Some(pk.clone()),
        _ => None,
    }
}

/// The partition a query reads: the value its key condition compares the partition key to
/// (`pk = :pk AND …`, or with an alias, `#pk = :pk`).
fn queried_partition(input: &aws_sdk_dynamodb::operation::query::QueryInput) -> Option<String> {
    let condition = input.key_condition_expression()?;
    let first = condition.split(" AND ").next()?;
    let (_, placeholder) = first.split_once('=')?;
    match input
        .expression_attribute_values()?
        .get(placeholder.trim())?
    {
        AttributeValue::S(value) => Some(value.clone()),
        _ => None,
    }
}

fn dynamodb_accesses(input: &Input, operation: &str, table: &str) -> Vec<Access> {
    use aws_sdk_dynamodb::operation as op;
    let item = |action: &str, on_table: Option<&str>, leading_key: Option<String>| {
        assert_eq!(on_table, Some(table), "a request to another table");
        Access {
            action: format!("dynamodb:{action}"),
            resource: "table".to_string(),
            leading_key,
            recovery_window_days: None,
        }
    };
    if let Some(i) = input.downcast_ref::<op::get_item::GetItemInput>() {
        return vec![item("GetItem", i.table_name(), partition(i.key()))];
    }
    if let Some(i) = input.downcast_ref::<op::put_item::PutItemInput>() {
        return vec![item("PutItem", i.table_name(), partition(i.item()))];
    }
    if let Some(i) = input.downcast_ref::<op::update_item::UpdateItemInput>() {
        return vec![item("UpdateItem", i.table_name(), partition(i.key()))];
    }
    if let Some(i) = input.downcast_ref::<op::delete_item::DeleteItemInput>() {
        return vec![item("DeleteItem", i.table_name(), partition(i.key()))];
    }
    if let Some(i) = input.downcast_ref::<op::query::QueryInput>() {
        let mut access = item("Query", i.table_name(), queried_partition(i));
        if let Some(index) = i.index_name() {
            access.resource = format!("table/index/{index}");
        }
        return vec![access];
    }
    if let Some(i) = input.downcast_ref::<op::batch_get_item::BatchGetItemInput>() {
        let mut accesses = Vec::new();
        for (name, request) in i.request_items().into_iter().flatten() {
            for key in request.keys() {
                accesses.push(item("BatchGetItem", Some(name), partition(Some(key))));
            }
        }
        return accesses;
    }
    if let Some(i) = input.downcast_ref::<op::transact_write_items::TransactWriteItemsInput>() {
        return i
            .transact_items()
            .iter()
            .map(
                |t| match (t.put(), t.update(), t.delete(), t.condition_check()) {
                    (Some(p), ..) => {
                        item("PutItem", Some(p.table_name()), partition(Some(p.item())))
                    }
                    (_, Some(u), ..) => {
                        item("UpdateItem", Some(u.table_name()), partition(Some(u.key())))
                    }
                    (_, _, Some(d), _) => {
                        item("DeleteItem", Some(d.table_name()), partition(Some(d.key())))
                    }
                    (_, _, _, Some(c)) => item(
                        "ConditionCheckItem",
                        Some(c.table_name()),
                        partition(Some(c.key())),
                    ),
                    _ => panic!("an empty transaction item"),
                },
            )
            .collect();
    }
    // Anything else (a scan, a table operation) is granted to no function.
    vec![Access {
        action: format!("dynamodb:{operation}"),
        resource: "table".to_string(),
        leading_key: None,
        recovery_window_days: None,
    }]
}

fn secretsmanager_accesses(input: &Input, operation: &str, prefix: &str) -> Vec<Access> {
    use aws_sdk_secretsmanager::operation as op;
    let on = |action: &str, name: Option<&str>| {
        let name = name.unwrap_or_default();
        Access {
            action: format!("secretsmanager:{action}"),
            resource: if name.starts_with(prefix) {
                SECRETS.to_string()
            } else {
                format!("secret:{name}")
            },
            leading_key: None,
            recovery_window_days: None,
        }
    };
    if let Some(i) = input.downcast_ref::<op::create_secret::CreateSecretInput>() {
        let mut accesses = vec![on("CreateSecret", i.name())];
        // Tags given at creation are authorized as TagResource too.
        if !i.tags().is_empty() {
            accesses.push(on("TagResource", i.name()));
        }
        return accesses;
    }
    if let Some(i) = input.downcast_ref::<op::put_secret_value::PutSecretValueInput>() {
        return vec![on("PutSecretValue", i.secret_id())];
    }
    if let Some(i) = input.downcast_ref::<op::get_secret_value::GetSecretValueInput>() {
        return vec![on("GetSecretValue", i.secret_id())];
    }
    if let Some(i) = input.downcast_ref::<op::describe_secret::DescribeSecretInput>() {
        return vec![on("DescribeSecret", i.secret_id())];
    }
    if let Some(i) =
        input.downcast_ref::<op::update_secret_version_stage::UpdateSecretVersionStageInput>()
    {
        return vec![on("UpdateSecretVersionStage", i.secret_id())];
    }
    if let Some(i) = input.downcast_ref::<op::restore_secret::RestoreSecretInput>() {
        return vec![on("RestoreSecret", i.secret_id())];
    }
    if let Some(i) = input.downcast_ref::<op::delete_secret::DeleteSecretInput>() {
        let mut access = on("DeleteSecret", i.secret_id());
        access.recovery_window_days = i.recovery_window_in_days();
        return vec![access];
    }
    if let Some(i) = input.downcast_ref::<op::tag_resource::TagResourceInput>() {
        return vec![on("TagResource", i.secret_id())];
    }
    vec![on(operation, None)]
}

#[derive(Debug)]
enum Service {
    DynamoDb { table: String },
    SecretsManager { prefix: String },
}

/// The interceptor: every request checked against the role before it is sent.
#[derive(Debug)]
struct EnforceRole {
    role: Arc<Role>,
    service: Service,
}

impl EnforceRole {
    fn of(function: &str, service: Service) -> Self {
        EnforceRole {
            role: Role::of(function),
            service,
        }
    }
}

impl Intercept for EnforceRole {
    fn name(&self) -> &'static str {
        "EnforceRole"
    }

    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_default();
        let accesses = match &self.service {
            Service::DynamoDb { table } => dynamodb_accesses(context.input(), &operation, table),
            Service::SecretsManager { prefix } => {
                secretsmanager_accesses(context.input(), &operation, prefix)
            }
        };
        self.role.enforce(accesses);
        Ok(())
    }
}

/// A DynamoDB client on `table` that may do only what `function`'s role grants.
pub fn guarded_dynamodb(
    config: &SdkConfig,
    function: &str,
    table: &str,
) -> aws_sdk_dynamodb::Client {
    let table = table.to_string();
    let service = Service::DynamoDb { table };
    client_with_interceptor!(aws_sdk_dynamodb, config, EnforceRole::of(function, service))
}

/// A Secrets Manager client that may do only what `function`'s role grants; `prefix` is the
/// secrets' name prefix the function is given (`SecretNamePrefix`).
pub fn guarded_secretsmanager(
    config: &SdkConfig,
    function: &str,
    prefix: &str,
) -> aws_sdk_secretsmanager::Client {
    let prefix = prefix.to_string();
    let service = Service::SecretsManager { prefix };
    client_with_interceptor!(
        aws_sdk_secretsmanager,
        config,
        EnforceRole::of(function, service)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_like_matches_as_iam_does() {
        assert!(like("COMPANY#*", "COMPANY#c1"));
        assert!(like("COMPANY#*", "COMPANY#"));
        assert!(!like("COMPANY#*", "COMPANIES"));
        assert!(like("COMPANIES", "COMPANIES"));
        assert!(!like("USER#*", "ATTEMPTS#USER#x"));
        assert!(like("a?c", "abc"));
    }

    #[test]
    fn a_role_allows_only_its_grants() {
        let role = Role::of("test-connection");
        let access = |action: &str, key: &str| Access {
            action: action.to_string(),
            resource: "table".to_string(),
            leading_key: Some(key.to_string()),
            recovery_window_days: None,
        };
        assert!(role.allows(&access("dynamodb:PutItem", "ATTEMPTS#ola")));
        assert!(role.allows(&access("dynamodb:GetItem", "COMPANY#c1")));
        assert!(!role.allows(&access("dynamodb:PutItem", "COMPANY#c1")));
        assert!(!role.allows(&access("dynamodb:Scan", "COMPANY#c1")));
        let save = Role::of("test-and-save");
        let delete = |days| Access {
            action: "secretsmanager:DeleteSecret".into(),
            resource: SECRETS.into(),
            leading_key: None,
            recovery_window_days: days,
        };
        assert!(save.allows(&delete(Some(7))));
        assert!(!save.allows(&delete(None)));
        assert!(!role.allows(&delete(Some(7))));
    }
}
