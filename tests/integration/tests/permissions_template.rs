//! The roles in the SAM template against the permissions table in `infra/README.md`
//! ("Permissions"), both ways: a role may grant no action, resource, leading key or condition
//! the table lacks, and every row of the table must be granted. Each grant is compared as
//! (action, resource, leading key or condition), so the table may group rows differently from
//! the template's statements. On top of that, every DynamoDB grant must be scoped by
//! `dynamodb:LeadingKeys`, and no role may scan, use a wildcard or reach past the secrets'
//! name prefix.

use std::collections::{BTreeMap, BTreeSet};

use bookinglink::routes::ROUTES;
use integration_tests::permissions::{
    Grant, NO_CONDITION, SECRETS, template, template_grants, template_statements,
};
use integration_tests::repo_file;

/// Role (function binary or IAM role) → what it is granted.
type Grants = BTreeMap<String, BTreeSet<Grant>>;

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
    // The functions the route table names, and the scheduled one.
    let functions: BTreeSet<&str> = ROUTES
        .iter()
        .map(|route| route.function)
        .chain(["revalidate"])
        .collect();
    assert_eq!(
        functions,
        BTreeSet::from([
            "admins",
            "locations",
            "request-details",
            "revalidate",
            "test-and-save",
            "test-connection",
        ]),
        "the API's functions changed: a function gone from the route table is no longer \
         checked against the permissions table, so this set changes only on purpose"
    );
    for function in functions {
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
            assert_eq!(s.resources, [SECRETS], "{what}");
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
