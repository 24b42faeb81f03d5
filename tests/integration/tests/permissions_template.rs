//! The roles in the SAM template against the permissions table in `infra/README.md`
//! ("Permissions"), both ways: a role may grant no action, resource, leading key or condition
//! the table lacks, and every row of the table must be granted. Each grant is compared as
//! (action, resource, leading key or condition), so the table may group rows differently from
//! the template's statements. On top of that, every DynamoDB grant must be scoped by
//! `dynamodb:LeadingKeys`, and no role may scan, use a wildcard or reach past the secrets'
//! name prefix.

use std::collections::{BTreeMap, BTreeSet};

use serde_norway::Value as Yaml;

/// (action, resource, leading key or condition).
type Grant = (String, String, String);

/// Role (function binary or IAM role) → what it is granted.
type Grants = BTreeMap<String, BTreeSet<Grant>>;

/// Written where a grant has no condition.
const NO_CONDITION: &str = "none";

fn repo_file(path: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    std::fs::read_to_string(format!("{root}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn template() -> Yaml {
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
struct Statement {
    sid: String,
    actions: Vec<String>,
    resources: Vec<String>,
    /// The leading keys of `ForAllValues:StringLike` on `dynamodb:LeadingKeys`, if any.
    leading_keys: Vec<String>,
    /// Every other condition, as `key Operator value`.
    conditions: Vec<String>,
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

    fn grants(&self) -> Vec<Grant> {
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
fn template_statements(template: &Yaml) -> BTreeMap<String, Vec<Statement>> {
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

fn template_grants() -> Grants {
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

/// The backticked words of a table cell.
fn ticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The rows of the table under "## Permissions" in infra/README.md.
fn documented_grants() -> Grants {
    let readme = repo_file("infra/README.md");
    let section = readme
        .split("\n## Permissions\n")
        .nth(1)
        .expect("infra/README.md has a Permissions section");
    let section = section.split("\n## ").next().unwrap();
    let mut grants = Grants::new();
    let rows = section
        .lines()
        .skip_while(|l| !l.starts_with("| Role |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'));
    for row in rows {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(cells.len(), 4, "{row}");
        let role = ticked(cells[0]);
        assert_eq!(role.len(), 1, "one role per row: {row}");
        let (actions, resources) = (ticked(cells[1]), ticked(cells[2]));
        assert!(!actions.is_empty() && !resources.is_empty(), "{row}");
        let conditions = match ticked(cells[3]) {
            none if none.is_empty() && cells[3] == NO_CONDITION => vec![NO_CONDITION.to_string()],
            none if none.is_empty() => panic!("say `none` where there is no condition: {row}"),
            some => some,
        };
        let granted = grants.entry(role[0].clone()).or_default();
        for action in &actions {
            for resource in &resources {
                for condition in &conditions {
                    granted.insert((action.clone(), resource.clone(), condition.clone()));
                }
            }
        }
    }
    assert!(!grants.is_empty(), "the Permissions table has rows");
    grants
}

fn listing(grants: &BTreeSet<Grant>) -> String {
    grants
        .iter()
        .map(|(a, r, c)| format!("\n  {a} on {r} ({c})"))
        .collect()
}

#[test]
fn the_permissions_table_is_exactly_what_the_template_grants() {
    let granted = template_grants();
    let documented = documented_grants();
    let roles: BTreeSet<&String> = granted.keys().chain(documented.keys()).collect();
    let mut problems = String::new();
    for role in roles {
        let empty = BTreeSet::new();
        let (g, d) = (
            granted.get(role).unwrap_or(&empty),
            documented.get(role).unwrap_or(&empty),
        );
        let undocumented: BTreeSet<Grant> = g.difference(d).cloned().collect();
        let missing: BTreeSet<Grant> = d.difference(g).cloned().collect();
        if !undocumented.is_empty() {
            problems.push_str(&format!(
                "\n{role} is granted what the table lacks:{}",
                listing(&undocumented)
            ));
        }
        if !missing.is_empty() {
            problems.push_str(&format!(
                "\n{role} lacks what the table lists:{}",
                listing(&missing)
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "infra/README.md vs template:{problems}"
    );
}

#[test]
fn every_function_of_the_api_is_in_the_table() {
    let documented = documented_grants();
    for function in [
        "locations",
        "test-connection",
        "test-and-save",
        "request-details",
        "admins",
        "revalidate",
    ] {
        assert!(documented.contains_key(function), "{function}");
    }
}

/// DynamoDB grants never reach past the partitions a statement names: each is on the table or
/// a named index, scoped by leading keys, and no action reads or writes without one.
#[test]
fn every_dynamodb_grant_is_scoped_to_partitions() {
    // A scan has no leading key, so LeadingKeys (ForAllValues of an empty set) would let it
    // read everything; PartiQL and batch writes are not used; wildcards grant what is unnamed.
    let forbidden = [
        "dynamodb:Scan",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:PartiQLSelect",
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
    ];
    let mut dynamodb_statements = 0;
    for (role, statements) in template_statements(&template()) {
        for s in statements {
            let what = format!("{role}: {}", s.sid);
            for action in &s.actions {
                assert!(!action.contains('*'), "{what}: {action}");
                assert!(!forbidden.contains(&action.as_str()), "{what}: {action}");
            }
            for resource in &s.resources {
                assert!(
                    !resource.contains("/index/*") && resource != "*",
                    "{what}: {resource}"
                );
            }
            if !s.actions.iter().any(|a| a.starts_with("dynamodb:")) {
                continue;
            }
            dynamodb_statements += 1;
            assert!(
                s.actions.iter().all(|a| a.starts_with("dynamodb:")),
                "{what}: one service per statement"
            );
            assert!(
                !s.leading_keys.is_empty(),
                "{what}: no dynamodb:LeadingKeys"
            );
            assert!(s.conditions.is_empty(), "{what}: {:?}", s.conditions);
            for resource in &s.resources {
                let on_index = resource.strip_prefix("table/index/");
                assert!(
                    resource == "table" || on_index.is_some_and(|i| i.starts_with("gsi")),
                    "{what}: {resource}"
                );
                if on_index.is_some() {
                    assert_eq!(
                        s.actions,
                        ["dynamodb:Query"],
                        "{what}: indexes are only queried"
                    );
                }
            }
            for key in &s.leading_keys {
                // A prefix ends its partition's type with `#` before the wildcard, so `USER#*`
                // can never match another type's partition (`USERS…`).
                assert!(
                    !key.contains('*') || key.ends_with("#*"),
                    "{what}: leading key {key}"
                );
                assert!(!key.contains('?'), "{what}: leading key {key}");
            }
        }
    }
    assert!(
        dynamodb_statements >= 6,
        "the functions' table access was found"
    );
}

#[test]
fn secrets_are_reached_only_under_the_name_prefix_and_deleted_only_with_a_recovery_window() {
    for (role, statements) in template_statements(&template()) {
        for s in statements {
            let what = format!("{role}: {}", s.sid);
            if !s.actions.iter().any(|a| a.starts_with("secretsmanager:")) {
                continue;
            }
            assert_eq!(s.resources, ["secret:${SecretNamePrefix}*"], "{what}");
            let deletes = s.actions.iter().any(|a| a == "secretsmanager:DeleteSecret");
            if deletes {
                assert_eq!(
                    s.actions.len(),
                    1,
                    "{what}: DeleteSecret has its own condition"
                );
                assert_eq!(
                    s.conditions,
                    ["secretsmanager:RecoveryWindowInDays NumericGreaterThanEqual 7"],
                    "{what}"
                );
            }
        }
    }
}

#[test]
fn mail_goes_only_from_the_sender() {
    for (role, statements) in template_statements(&template()) {
        for s in statements {
            if s.actions.iter().any(|a| a.starts_with("ses:")) {
                assert_eq!(s.actions, ["ses:SendEmail"], "{role}: {}", s.sid);
                assert_eq!(
                    s.conditions,
                    ["ses:FromAddress StringEquals ${MailSender}"],
                    "{role}: {}",
                    s.sid
                );
            }
        }
    }
}
