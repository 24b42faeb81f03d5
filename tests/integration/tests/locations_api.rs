//! The companies and locations API through the real `locations` handler, against the AWS
//! emulator. Each test gets its own table, so the tests run in parallel.

use std::sync::Arc;

use bookinglink::clock::SystemClock;
use bookinglink::store::dynamo::DynamoStore;
use bookinglink::store::{AuditStore, PageRequest};
use integration_tests::{
    Answer, Identity, binary_event, emulator_config, event, fresh_table, leaks, location_named,
    majorstuen,
};
use lambda_http::Request;
use serde_json::{Value, json};

struct Api {
    app: locations::App,
    store: Arc<DynamoStore>,
}

impl Api {
    async fn new() -> Self {
        Self::with_dev_headers(false).await
    }

    async fn with_dev_headers(dev_identity_headers: bool) -> Self {
        let (client, table) = fresh_table().await;
        let store = Arc::new(DynamoStore::new(client, table));
        Api {
            store: store.clone(),
            app: locations::App {
                store,
                clock: Arc::new(SystemClock),
                dev_identity_headers,
                max_locations_per_company: bookinglink::domain::locations::DEFAULT_MAX_PER_COMPANY,
            },
        }
    }

    async fn call(&self, method: &str, path: &str, who: &Identity, body: Option<Value>) -> Answer {
        let body = body.map(|b| b.to_string());
        self.send(event(method, path, who, &[], body.as_deref()))
            .await
    }

    async fn send(&self, request: Request) -> Answer {
        Answer::from(locations::handle(&self.app, request).await)
    }

    /// A company `who` administers, as an operator's registration and an accepted invitation
    /// leave it.
    async fn company(&self, who: &Identity, org_number: &str) -> String {
        integration_tests::demo::company_with_admin(
            self.app.store.as_ref(),
            who.sub().unwrap(),
            &who.email().unwrap(),
            "Fysio AS",
            org_number,
            0,
        )
        .await
        .unwrap()
        .id
    }

    async fn location(&self, who: &Identity, company: &str, name: &str) -> Value {
        let answer = self
            .call(
                "POST",
                &format!("/v1/companies/{company}/locations"),
                who,
                Some(location_named(name)),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.raw);
        answer.body
    }
}

fn ola() -> Identity {
    Identity::jwt("ola")
}

fn kari() -> Identity {
    Identity::jwt("kari")
}

/// A platform operator: the only one who registers companies.
fn op() -> Identity {
    Identity::operator("drift")
}

#[tokio::test]
async fn create_list_get_and_edit_a_location() {
    let api = Api::new().await;
    let company = api.company(&ola(), "923609016").await;
    let created = api
        .call(
            "POST",
            &format!("/v1/companies/{company}/locations"),
            &ola(),
            Some(location_named(" Majorstuen ")),
        )
        .await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().unwrap().to_string();
    let path = format!("/v1/companies/{company}/locations/{id}");
    assert_eq!(created.header("location"), Some(path.as_str()));
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(created.body["name"], "Majorstuen");
    assert_eq!(created.body["offline"], false);
    assert_eq!(created.body["booking"], Value::Null);

    let list = api
        .call(
            "GET",
            &format!("/v1/companies/{company}/locations"),
            &ola(),
            None,
        )
        .await;
    assert_eq!(list.body["items"][0]["id"], id.as_str());
    assert_eq!(list.body["items"][0]["booking"]["state"], "not_configured");

    let got = api.call("GET", &path, &ola(), None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, created.body);

    let edited = api
        .send(event(
            "PATCH",
            &path,
            &ola(),
            &[("if-match", "\"1\"")],
            Some(r#"{"offline": true, "address": {"street": "Bogstadveien 1", "postal_code": "0355", "city": "Oslo"}}"#),
        ))
        .await;
    assert_eq!(edited.status, 200, "{}", edited.raw);
    assert_eq!(edited.header("etag"), Some("\"2\""));
    assert_eq!(edited.body["offline"], true);
    assert_eq!(edited.body["address"]["street"], "Bogstadveien 1");
    assert_eq!(edited.body["name"], "Majorstuen");
    assert_eq!(api.call("GET", &path, &ola(), None).await.body, edited.body);
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_and_changes_nothing() {
    let api = Api::new().await;
    let company = api.company(&ola(), "923609016").await;
    let id = api.location(&ola(), &company, "Majorstuen").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/companies/{company}/locations/{id}");
    let edit =
        async |path: &str, change: Value| api.call("PATCH", path, &ola(), Some(change)).await;
    let first = edit(&path, json!({"name": "Først", "version": 1})).await;
    assert_eq!(first.status, 200);
    let second = edit(&path, json!({"name": "Sist", "version": 1})).await;
    assert_eq!(second.status, 409);
    assert_eq!(second.body["code"], "version_conflict");
    assert_eq!(second.body["current_version"], 2);
    let missing_version = edit(&path, json!({"name": "Sist"})).await;
    assert_eq!(missing_version.status, 428);
    assert_eq!(missing_version.error_fields(), ["version"]);
    let now = api.call("GET", &path, &ola(), None).await;
    assert_eq!(
        (now.body["name"].as_str(), now.body["version"].as_u64()),
        (Some("Først"), Some(2))
    );
    let unknown = format!("/v1/companies/{company}/locations/10000000-0000-4000-8000-00000000dead");
    let gone = edit(&unknown, json!({"name": "X", "version": 1})).await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn lists_are_paginated_with_an_opaque_cursor() {
    let api = Api::new().await;
    let company = api.company(&ola(), "923609016").await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(
            api.location(&ola(), &company, &format!("Lokasjon {i}"))
                .await["id"]
                .clone(),
        );
    }
    let mut seen = Vec::new();
    let mut next = format!("/v1/companies/{company}/locations?limit=2");
    let mut pages = 0;
    loop {
        let page = api.call("GET", &next, &ola(), None).await;
        assert_eq!(page.status, 200, "{}", page.raw);
        pages += 1;
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|i| i["id"].clone()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => {
                next = format!("/v1/companies/{company}/locations?limit=2&cursor={cursor}")
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "every location once, in creation order");

    for bad in [
        "limit=0",
        "limit=101",
        "limit=abc",
        "cursor=%%%",
        "cursor=djE6bm90LWEtdXVpZA",
    ] {
        let answer = api
            .call(
                "GET",
                &format!("/v1/companies/{company}/locations?{bad}"),
                &ola(),
                None,
            )
            .await;
        assert_eq!(answer.status, 400, "{bad}: {}", answer.raw);
        assert_eq!(answer.body["code"], "invalid_parameter");
    }

    for org in ["974760673", "982463718"] {
        api.company(&ola(), org).await;
    }
    let first = api.call("GET", "/v1/companies?limit=2", &ola(), None).await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = api
        .call(
            "GET",
            &format!("/v1/companies?limit=2&cursor={cursor}"),
            &ola(),
            None,
        )
        .await;
    assert_eq!(second.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(second.body["next_cursor"], Value::Null);
}

#[tokio::test]
async fn an_org_number_is_registered_once_even_under_concurrency() {
    let api = Arc::new(Api::new().await);
    let attempts = (0..6).map(|i| {
        let api = api.clone();
        tokio::spawn(async move {
            let who = Identity::operator(&format!("operator-{i}"));
            api.call(
                "POST",
                "/v1/companies",
                &who,
                Some(json!({"name": "Kopi AS", "org_number": "923 609 016"})),
            )
            .await
        })
    });
    let mut statuses = Vec::new();
    for attempt in attempts {
        let answer = attempt.await.unwrap();
        if answer.status == 409 {
            assert_eq!(answer.body["code"], "org_number_taken");
            assert_eq!(answer.error_fields(), ["org_number"]);
        }
        statuses.push(answer.status);
    }
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409]);
}

#[tokio::test]
async fn every_class_of_bad_input_gets_a_problem_naming_what_is_wrong() {
    let api = Api::new().await;
    let company = api.company(&ola(), "923609016").await;
    let locations = format!("/v1/companies/{company}/locations");
    let cases: Vec<(&str, &str, u16, &str, Vec<&str>)> = vec![
        (
            "/v1/companies",
            "{\"name\": ",
            400,
            "malformed_json",
            vec![],
        ),
        ("/v1/companies", "[1, 2]", 400, "body_not_object", vec![]),
        ("/v1/companies", "null", 400, "body_not_object", vec![]),
        ("/v1/companies", "", 400, "body_required", vec![]),
        (
            "/v1/companies",
            r#"{"name": "A", "org_number": "923609016", "orgnr": 1, "admin": true}"#,
            400,
            "unknown_fields",
            vec!["admin", "orgnr"],
        ),
        (
            "/v1/companies",
            r#"{"name": 42, "org_number": "923609017", "invoice_email": "faktura@"}"#,
            422,
            "validation_failed",
            vec!["name", "org_number", "invoice_email"],
        ),
        (
            "/v1/companies",
            r#"{"name": "  ", "org_number": "12345678"}"#,
            422,
            "validation_failed",
            vec!["name", "org_number"],
        ),
        (
            &locations,
            r#"{"name": "Tab\there", "address": {"street": "", "postal_code": "364", "city": "Oslo", "zip": 1}, "phone": "x", "email": "a@b.no"}"#,
            400,
            "unknown_fields",
            vec!["address.zip"],
        ),
        (
            &locations,
            r#"{"name": "Tab\there", "address": {"street": "", "postal_code": "364", "city": "Oslo"}, "phone": "x", "email": "a@b"}"#,
            422,
            "validation_failed",
            vec![
                "name",
                "address.street",
                "address.postal_code",
                "phone",
                "email",
            ],
        ),
        (
            &locations,
            r#"{"address": "Kirkeveien 64"}"#,
            422,
            "validation_failed",
            vec!["name", "address", "phone", "email"],
        ),
    ];
    for (path, body, status, code, fields) in cases {
        let who = if path == "/v1/companies" { op() } else { ola() };
        let answer = api.send(event("POST", path, &who, &[], Some(body))).await;
        assert_eq!(
            answer.problem(),
            (status, Some(code)),
            "{body}: {}",
            answer.raw
        );
        assert_eq!(answer.content_type(), "application/problem+json");
        assert_eq!(answer.error_fields(), fields, "{body}");
        assert!(!answer.body["detail"].as_str().unwrap().is_empty());
    }

    let long_name = json!({"name": "x".repeat(121), "org_number": "923609016"});
    let answer = api
        .call("POST", "/v1/companies", &op(), Some(long_name))
        .await;
    assert_eq!(answer.body["errors"][0]["code"], "too_long");

    let too_big = format!("{{\"name\": \"{}\"}}", "x".repeat(64 * 1024));
    let answer = api
        .send(event("POST", "/v1/companies", &op(), &[], Some(&too_big)))
        .await;
    assert_eq!(answer.problem(), (413, Some("payload_too_large")));

    let latin1 = binary_event(
        "POST",
        "/v1/companies",
        &op(),
        b"{\"name\": \"Bl\xe5b\xe6r AS\"}",
    );
    let answer = Answer::from(locations::handle(&api.app, latin1).await);
    assert_eq!(answer.problem(), (400, Some("invalid_utf8")));

    let form = api
        .send(event(
            "POST",
            "/v1/companies",
            &op(),
            &[("content-type", "application/x-www-form-urlencoded")],
            Some("name=x"),
        ))
        .await;
    assert_eq!(form.status, 415);

    let unknown = api.call("GET", "/v1/clinics", &ola(), None).await;
    assert_eq!(unknown.problem(), (404, Some("route_not_found")));
    let wrong_method = api.call("DELETE", &locations, &ola(), None).await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.header("allow"), Some("GET, POST"));
    let not_an_id = api
        .call("GET", "/v1/companies/not-a-uuid/locations", &ola(), None)
        .await;
    assert_eq!(not_an_id.status, 404);

    // Nothing above was half-written: the company still has no locations.
    let list = api.call("GET", &locations, &ola(), None).await;
    assert_eq!(list.body["items"], json!([]));
}

#[tokio::test]
async fn messages_are_norwegian_unless_english_is_asked_for() {
    let api = Api::new().await;
    let body = r#"{"name": "A", "org_number": "923609017"}"#;
    let nb = api
        .send(event("POST", "/v1/companies", &op(), &[], Some(body)))
        .await;
    let en = api
        .send(event(
            "POST",
            "/v1/companies",
            &op(),
            &[("accept-language", "en-GB,en;q=0.9")],
            Some(body),
        ))
        .await;
    assert_eq!(nb.header("content-language"), Some("nb"));
    assert_eq!(en.header("content-language"), Some("en"));
    assert!(
        nb.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Organisasjonsnummeret")
    );
    assert!(
        en.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("organisation number")
    );
    assert_eq!(nb.body["code"], en.body["code"]);
}

#[tokio::test]
async fn development_identity_headers_count_only_when_switched_on() {
    let dev = Identity::DevHeaders {
        sub: "ola".into(),
        email: "ola@example.no".into(),
    };
    let production = Api::new().await;
    let ignored = production.call("GET", "/v1/companies", &dev, None).await;
    assert_eq!(ignored.status, 401);

    let local = Api::with_dev_headers(true).await;
    let company = local.company(&dev, "923609016").await;
    let listed = local.call("GET", "/v1/companies", &dev, None).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["items"][0]["id"], company.as_str());
    // The token's claims win over the headers when both are present.
    let both = local
        .send(event(
            "GET",
            "/v1/companies",
            &kari(),
            &[("x-dev-user", "ola")],
            None,
        ))
        .await;
    assert_eq!(both.body["items"], json!([]));
}

#[tokio::test]
async fn booking_systems_catalog_is_served_in_both_languages() {
    let api = Api::new().await;
    let nb = api
        .call("GET", "/v1/booking-systems", &Identity::Anonymous, None)
        .await;
    assert_eq!(nb.status, 200);
    let en = api
        .send(event(
            "GET",
            "/v1/booking-systems",
            &Identity::Anonymous,
            &[("accept-language", "en")],
            None,
        ))
        .await;
    let ids: Vec<&str> = nb.body["systems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    for id in [
        "pasientsky",
        "extensor",
        "physica",
        "psykbase",
        "hano",
        "konfidens",
        "easypractice",
    ] {
        assert!(ids.contains(&id), "{id} missing");
    }
    assert_ne!(nb.body, en.body);
}

/// A key sent where none belongs (an unknown field of a location) is refused without being
/// echoed, stored or logged.
#[tokio::test]
async fn a_key_sent_to_the_locations_routes_goes_nowhere() {
    let api = Api::new().await;
    let key = format!("sk-live-{}", uuid::Uuid::new_v4());
    leaks::watch(&key);
    let mut body = majorstuen();
    body["api_key"] = json!(key);
    let body = body.to_string();
    let ola = Identity::jwt("ola");
    let company = api.company(&ola, "923609016").await;
    let path = format!("/v1/companies/{company}/locations");
    let refused = Answer::from(
        locations::handle(&api.app, event("POST", &path, &ola, &[], Some(&body))).await,
    );
    assert_eq!(refused.status, 400, "{}", refused.raw);
    leaks::assert_no_leaks(&aws_sdk_dynamodb::Client::new(&emulator_config().await)).await;
}

#[tokio::test]
async fn a_company_gets_no_more_locations_than_its_limit_even_under_concurrency() {
    let mut api = Api::new().await;
    api.app.max_locations_per_company = 3;
    let ola = Identity::jwt("ola");
    let company = api.company(&ola, "923609016").await;
    let other = api.company(&ola, "986753043").await;
    api.location(&ola, &company, "Majorstuen").await;
    let api = Arc::new(api);
    let path = format!("/v1/companies/{company}/locations");
    let attempts: Vec<_> = (0..6)
        .map(|i| {
            let (api, ola, path) = (api.clone(), ola.clone(), path.clone());
            tokio::spawn(async move {
                api.call(
                    "POST",
                    &path,
                    &ola,
                    Some(location_named(&format!("Filial {i}"))),
                )
                .await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        let answer = attempt.await.unwrap();
        if answer.status == 409 {
            assert_eq!(answer.content_type(), "application/problem+json");
            assert_eq!(answer.body["code"], "too_many_locations");
            assert_eq!(answer.error_fields(), ["companyId"]);
            assert_eq!(answer.body["errors"][0]["code"], "too_many_locations");
            let detail = answer.body["detail"].as_str().unwrap();
            assert!(detail.contains("allerede 3 lokasjoner"), "{detail}");
        }
        statuses.push(answer.status);
    }
    statuses.sort();
    assert_eq!(statuses, [201, 201, 409, 409, 409, 409]);

    let listed = api.call("GET", &path, &ola, None).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 3);
    // A refused create leaves no audit entry: one per location.
    let created = api
        .store
        .audit_of(
            &company,
            PageRequest {
                after: None,
                limit: 100,
            },
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|entry| entry.action == "location_created")
        .count();
    assert_eq!(created, 3);
    let english = api
        .send(event(
            "POST",
            &path,
            &ola,
            &[("accept-language", "en")],
            Some(&location_named("En til").to_string()),
        ))
        .await;
    assert_eq!(english.status, 409);
    let detail = english.body["detail"].as_str().unwrap();
    assert!(detail.contains("already has 3 locations"), "{detail}");
    // The limit is the company's own: another company of the same administrator has room.
    api.location(&ola, &other, "Tromsø").await;
}
