//! The route table in `shared/src/routes.rs` is the source of truth; the SAM template (what is
//! deployed) and the `cargo lambda watch` router (what runs locally) must say the same.

use std::collections::BTreeSet;

use bookinglink::routes::ROUTES;
use integration_tests::repo_file;

/// `(function, method, path)` for every HttpApi event of every function in the template.
fn template_routes() -> BTreeSet<(String, String, String)> {
    let template = repo_file("infra/template.yaml");
    let mut routes = BTreeSet::new();
    let mut function = String::new();
    let mut method = String::new();
    for line in template.lines() {
        let line = line.trim();
        if let Some(binary) = line.strip_prefix("Binary:") {
            function = binary.trim().to_string();
        } else if let Some(m) = line.strip_prefix("Method:") {
            method = m.trim().to_string();
        } else if let Some(p) = line.strip_prefix("Path:") {
            routes.insert((function.clone(), method.clone(), p.trim().to_string()));
        }
    }
    routes
}

#[test]
fn the_sam_template_routes_exactly_the_route_table() {
    let expected: BTreeSet<(String, String, String)> = ROUTES
        .iter()
        .map(|r| {
            (
                r.function.to_string(),
                r.method.to_string(),
                r.path.to_string(),
            )
        })
        .chain([(
            "locations".to_string(),
            "OPTIONS".to_string(),
            "/{proxy+}".to_string(),
        )])
        .collect();
    assert_eq!(template_routes(), expected);
}

#[test]
fn the_local_router_sends_every_route_to_its_function() {
    let manifest = repo_file("Cargo.toml");
    let router: Vec<(String, String)> = manifest
        .split("[workspace.metadata.lambda.watch.router]")
        .nth(1)
        .expect("Cargo.toml has a watch router")
        .lines()
        .take_while(|l| !l.starts_with('['))
        .filter_map(|l| l.split_once(" = "))
        .map(|(path, function)| {
            (
                path.trim_matches('"').to_string(),
                function.trim_matches('"').to_string(),
            )
        })
        .collect();
    for route in ROUTES {
        assert!(
            router
                .iter()
                .any(|(path, function)| path == route.path && function == route.function),
            "{} {} is not routed to {} by cargo lambda watch",
            route.method,
            route.path,
            route.function
        );
    }
}

#[test]
fn the_template_never_enables_development_identity_headers() {
    let template = repo_file("infra/template.yaml");
    let assignments = template
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter(|l| l.contains("DEV_IDENTITY_HEADERS"))
        .count();
    assert_eq!(
        assignments, 0,
        "DEV_IDENTITY_HEADERS must never be set in the SAM template"
    );
    assert_eq!(
        template
            .lines()
            .filter(|l| !l.trim_start().starts_with('#') && l.contains("VENDOR_SANDBOX_URL"))
            .count(),
        0,
        "VENDOR_SANDBOX_URL must never be set in the SAM template"
    );
}

/// The vendor settings the template passes (ASPIT's unconfirmed hosts) default to the catalog's
/// values, and the functions read them under the names the adapters use.
#[test]
fn the_templates_vendor_settings_default_to_the_catalog() {
    use bookinglink::vendors::{allowed_hosts_var, base_url_var, parse_allowed_hosts};
    let text = repo_file("infra/template.yaml");
    let template = integration_tests::permissions::template();
    for (system_id, prefix) in [("physica", "Physica"), ("psykbase", "Psykbase")] {
        let system = bookinglink::catalog::system(system_id).unwrap();
        assert!(system.allowed_hosts_configurable, "{system_id}");
        let default = |parameter: &str| {
            template["Parameters"][parameter]["Default"]
                .as_str()
                .unwrap_or_else(|| panic!("parameter {parameter} with a default"))
                .to_owned()
        };
        let hosts = default(&format!("{prefix}AllowedHosts"));
        assert_eq!(parse_allowed_hosts(&hosts).unwrap(), system.allowed_hosts);
        assert_eq!(default(&format!("{prefix}BaseUrl")), "", "{system_id}");
        for (var, parameter) in [
            (
                allowed_hosts_var(system_id),
                format!("{prefix}AllowedHosts"),
            ),
            (base_url_var(system_id), format!("{prefix}BaseUrl")),
        ] {
            assert!(
                text.contains(&format!("{var}: !Ref {parameter}")),
                "{var} is set from {parameter}"
            );
        }
    }
}
