//! `infra/openapi.yaml` is the admin API's contract. These tests keep it true:
//! - it documents exactly the routes of `bookinglink::routes::ROUTES`, and the SAM template's
//!   HttpApi routes are exactly the documented ones;
//! - its booking-system ids are the catalog's;
//! - the real handlers' answers (success and the main errors of every operation, against the
//!   emulator and the in-process vendor sandbox) have a documented status, media type and
//!   required headers, and their bodies validate against the documented schema.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bookinglink::mail::{MailError, RecordingMailer};
use bookinglink::routes::ROUTES;
use integration_tests::stack::sandbox_vendors;
use integration_tests::{Answer, Identity, event, leaks, link_parameter};
use serde_json::{Value, json};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn repo_file(path: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    std::fs::read_to_string(format!("{root}/{path}")).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// The document as JSON (anchors and aliases resolved).
fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_norway::from_str(&repo_file("infra/openapi.yaml")).expect("openapi.yaml is YAML")
    })
}

/// `(METHOD, path)` of every operation in the document.
fn documented_routes() -> BTreeSet<(String, String)> {
    let paths = document()["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

#[test]
fn the_document_describes_exactly_the_route_table() {
    let code: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let documented = documented_routes();
    let undocumented: Vec<_> = code.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&code).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "routes in ROUTES but not in infra/openapi.yaml: {undocumented:?}; \
         operations in infra/openapi.yaml but not in ROUTES: {unknown:?}"
    );
}

#[test]
fn the_sam_template_routes_exactly_the_documented_operations() {
    let template: serde_norway::Value =
        serde_norway::from_str(&repo_file("infra/template.yaml")).expect("template is YAML");
    let mut routed = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().expect("Resources") {
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (_, ev) in events {
            if ev["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let props = &ev["Properties"];
            // `$default` (no method and path) and the unauthenticated CORS preflight
            // `OPTIONS /{proxy+}` are gateway plumbing, not operations of the API.
            let (Some(method), Some(path)) = (props["Method"].as_str(), props["Path"].as_str())
            else {
                continue;
            };
            if method == "OPTIONS" {
                continue;
            }
            routed.insert((method.to_uppercase(), path.to_string()));
        }
    }
    assert_eq!(routed, documented_routes());
}

/// Each function has concurrency of its own, so one cannot take the account's from the
/// others; revalidation runs one invocation at a time. The values are the ones infra/README.md
/// gives.
#[test]
fn every_function_has_reserved_concurrency() {
    let template: serde_norway::Value =
        serde_norway::from_str(&repo_file("infra/template.yaml")).expect("template is YAML");
    let readme = repo_file("infra/README.md");
    let mut functions = 0;
    for (name, resource) in template["Resources"].as_mapping().expect("Resources") {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        functions += 1;
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_default();
        let reserved = resource["Properties"]["ReservedConcurrentExecutions"].as_u64();
        let Some(reserved) = reserved.filter(|n| *n >= 1) else {
            panic!("{name:?} has no reserved concurrency");
        };
        assert!(
            readme.contains(&format!("`{binary}` {reserved}")),
            "infra/README.md does not give {binary}'s {reserved}"
        );
        if binary == "revalidate" {
            assert_eq!(reserved, 1, "one invocation per run at a time");
        }
    }
    assert!(functions >= 5, "{functions} functions found");
}

#[test]
fn the_documented_booking_systems_are_the_catalog() {
    let documented: Vec<&str> = document()["components"]["schemas"]["BookingSystemId"]["enum"]
        .as_array()
        .expect("BookingSystemId enum")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let catalog: Vec<&str> = bookinglink::catalog::systems()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(documented, catalog);
}

/// Follows a `$ref` inside the document: the pointer (without `#`) and the value.
fn follow(pointer: String) -> (String, &'static Value) {
    let value = document()
        .pointer(&pointer)
        .unwrap_or_else(|| panic!("{pointer} is not in the document"));
    match value.get("$ref").and_then(Value::as_str) {
        Some(target) => follow(target.trim_start_matches('#').to_string()),
        None => (pointer, value),
    }
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Checks one answer of the operation `method template` against the document: the status is
/// documented, so is the media type, every required header is there, and the body validates.
fn check(method: &str, template: &str, answer: &Answer) {
    let what = format!("{method} {template} → {}", answer.status);
    let operation = format!("/paths/{}/{}", escape(template), method.to_lowercase());
    assert!(
        document().pointer(&operation).is_some(),
        "{what}: operation not documented"
    );
    let status = answer.status.to_string();
    let Some(_) = document().pointer(&format!("{operation}/responses/{status}")) else {
        panic!("{what}: status not documented; body {}", answer.raw);
    };
    let (response, doc) = follow(format!("{operation}/responses/{status}"));
    for (name, _) in doc["headers"].as_object().into_iter().flatten() {
        let (_, header) = follow(format!("{response}/headers/{}", escape(name)));
        if header["required"] == true {
            assert!(
                answer.header(name).is_some(),
                "{what}: required header {name} missing"
            );
        }
    }
    if doc.get("content").is_none() {
        assert!(
            answer.raw.is_empty(),
            "{what}: a body where none is documented"
        );
        assert!(
            answer.header("content-type").is_none(),
            "{what}: a media type without a body"
        );
        return;
    }
    let media_type = answer.content_type().split(';').next().unwrap_or("").trim();
    assert!(
        doc["content"].get(media_type).is_some(),
        "{what}: media type {media_type:?} not documented"
    );
    let schema_pointer = format!("{response}/content/{}/schema", escape(media_type));
    let validator = validator(&schema_pointer);
    let errors: Vec<String> = validator
        .iter_errors(&answer.body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: body does not match {schema_pointer}:\n  {}\nbody: {}",
        errors.join("\n  "),
        answer.raw
    );
}

/// The compiled schema at `pointer` (cached: compiling resolves the whole document).
fn validator(pointer: &str) -> Arc<jsonschema::Validator> {
    static CACHE: Mutex<BTreeMap<String, Arc<jsonschema::Validator>>> = Mutex::new(BTreeMap::new());
    let mut cache = CACHE.lock().unwrap();
    if let Some(validator) = cache.get(pointer) {
        return validator.clone();
    }
    let mut root = document().clone();
    // A JSON pointer in a URI fragment: `{` and `}` (path templates) must be percent-encoded.
    let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
    root["$ref"] = json!(format!("#{fragment}"));
    let validator = Arc::new(
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("{pointer}: schema does not compile: {e}")),
    );
    cache.insert(pointer.to_string(), validator.clone());
    validator
}

const COMPANIES: &str = "/v1/companies";
const LOCATIONS: &str = "/v1/companies/{companyId}/locations";
const LOCATION: &str = "/v1/companies/{companyId}/locations/{locationId}";
const CATALOG: &str = "/v1/booking-systems";
const TEST: &str = "/v1/companies/{companyId}/locations/{locationId}/booking/test";
const SAVE: &str = "/v1/companies/{companyId}/locations/{locationId}/booking/save";
const DETAILS: &str = "/v1/companies/{companyId}/locations/{locationId}/booking/request-details";
const ME: &str = "/v1/me";
const INVITATIONS: &str = "/v1/companies/{companyId}/invitations";
const INVITATION: &str = "/v1/companies/{companyId}/invitations/{invitationId}";
const ACCEPT: &str = "/v1/invitations/{invitationId}/accept";
const ADMINISTRATORS: &str = "/v1/companies/{companyId}/administrators";
const ADMINISTRATOR: &str = "/v1/companies/{companyId}/administrators/{userId}";
const LOCKOUT: &str = "/v1/administrators/{userId}/lockout";
const AUDIT: &str = "/v1/companies/{companyId}/audit";

struct Stack {
    api: integration_tests::stack::Stack,
    mailer: Arc<RecordingMailer>,
    invitations: Arc<RecordingMailer>,
    checked: Mutex<Vec<(String, String, u16)>>,
}

impl Stack {
    async fn new() -> Self {
        let mailer = Arc::new(RecordingMailer::new());
        let invitations = Arc::new(RecordingMailer::new());
        let api = integration_tests::stack::Stack::builder()
            .vendors(Arc::new(sandbox_vendors(Duration::from_millis(1500))))
            .mail(mailer.clone())
            .invitations(invitations.clone())
            .build()
            .await;
        Stack {
            api,
            mailer,
            invitations,
            checked: Mutex::new(Vec::new()),
        }
    }

    /// Sends a request to the function the route table names, checks the answer against the
    /// operation `method template` of the document and returns it.
    async fn call(
        &self,
        method: &str,
        template: &str,
        path: &str,
        who: &Identity,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Answer {
        let answer = self.api.send(event(method, path, who, headers, body)).await;
        check(method, template, &answer);
        self.checked.lock().unwrap().push((
            method.to_string(),
            template.to_string(),
            answer.status,
        ));
        answer
    }

    /// The invitation id and token of the last invitation mail.
    fn last_invitation(&self) -> (String, String) {
        let mail = self.invitations.sent().pop().expect("an invitation mail");
        (
            link_parameter(&mail.text, "invitation").expect("invitation= in the link"),
            link_parameter(&mail.text, "token").expect("token= in the link"),
        )
    }

    /// Invites `who` to `company` (as the operator) and lets them accept.
    async fn join(&self, who: &Identity, company: &str) {
        let op = Identity::operator("drift");
        let invitations = format!("/v1/companies/{company}/invitations");
        let invited = self
            .json(
                "POST",
                INVITATIONS,
                &invitations,
                &op,
                json!({"email": who.email().unwrap()}),
            )
            .await;
        assert_eq!(invited.status, 201, "{}", invited.raw);
        let (id, token) = self.last_invitation();
        let accepted = self
            .json(
                "POST",
                ACCEPT,
                &format!("/v1/invitations/{id}/accept"),
                who,
                json!({"token": token}),
            )
            .await;
        assert_eq!(accepted.status, 200, "{}", accepted.raw);
    }

    async fn json(
        &self,
        method: &str,
        template: &str,
        path: &str,
        who: &Identity,
        body: Value,
    ) -> Answer {
        self.call(method, template, path, who, &[], Some(&body.to_string()))
            .await
    }
}

fn expect(answer: &Answer, status: u16) {
    assert_eq!(answer.status, status, "{}", answer.raw);
}

fn pasientsky(key: &str) -> Value {
    json!({
        "system": "pasientsky",
        "external_id": "00000000-0000-4000-8000-000000000001",
        "external_department_id": "00000000-0000-4000-8000-0000000000d1",
        "api_key": key,
    })
}

#[test]
fn every_operation_answers_as_documented() {
    // Walking every operation in one test nests the handlers of every function in one future,
    // whose polling outgrows a test thread's 2 MiB stack in a debug build.
    std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the walk")
                .block_on(walk_every_operation())
        })
        .expect("a thread for the walk")
        .join()
        .expect("every operation answers as documented");
}

async fn walk_every_operation() {
    let mut api = Stack::new().await;
    let ola = Identity::jwt("ola");
    let kari = Identity::jwt("kari");
    let op = Identity::operator("drift");
    let anonymous = Identity::Anonymous;
    let en = [("accept-language", "en")];

    // Companies: registered by an operator, administered by whoever accepts an invitation.
    let created = api
        .json("POST", COMPANIES, COMPANIES, &op, json!({"name": "Fysio Sentrum AS", "org_number": "923 609 016", "invoice_email": "faktura@fysio-sentrum.no"}))
        .await;
    expect(&created, 201);
    let company = created.body["id"].as_str().unwrap().to_string();
    let other = api
        .json(
            "POST",
            COMPANIES,
            COMPANIES,
            &op,
            json!({"name": "Psykologene AS", "org_number": "974760673"}),
        )
        .await;
    expect(&other, 201);
    let other_company = other.body["id"].as_str().unwrap().to_string();
    expect(
        &api.json(
            "POST",
            COMPANIES,
            COMPANIES,
            &ola,
            json!({"name": "Impostor AS", "org_number": "982463718"}),
        )
        .await,
        403,
    );
    expect(
        &api.json(
            "POST",
            COMPANIES,
            COMPANIES,
            &op,
            json!({"name": "Kopi AS", "org_number": "923609016"}),
        )
        .await,
        409,
    );
    expect(
        &api.json(
            "POST",
            COMPANIES,
            COMPANIES,
            &op,
            json!({"name": 5, "org_number": "923609017", "invoice_email": "x@"}),
        )
        .await,
        422,
    );
    expect(
        &api.json(
            "POST",
            COMPANIES,
            COMPANIES,
            &op,
            json!({"name": "X", "nmae": "Y"}),
        )
        .await,
        400,
    );
    expect(
        &api.call("POST", COMPANIES, COMPANIES, &op, &[], Some("{\"name\":"))
            .await,
        400,
    );
    expect(
        &api.call("POST", COMPANIES, COMPANIES, &op, &[], Some("[1]"))
            .await,
        400,
    );
    expect(
        &api.call(
            "POST",
            COMPANIES,
            COMPANIES,
            &op,
            &[("content-type", "text/plain")],
            Some("{}"),
        )
        .await,
        415,
    );
    let big = format!("{{\"name\":\"{}\"}}", "x".repeat(70_000));
    expect(
        &api.call("POST", COMPANIES, COMPANIES, &op, &[], Some(&big))
            .await,
        413,
    );
    expect(
        &api.call("GET", COMPANIES, "/v1/companies?q=psyk", &op, &[], None)
            .await,
        200,
    );
    expect(
        &api.call(
            "GET",
            COMPANIES,
            &format!("/v1/companies?q={}", "x".repeat(121)),
            &op,
            &[],
            None,
        )
        .await,
        400,
    );

    // Invitations, accepting them, the caller's own view, administrators.
    api.join(&kari, &other_company).await;
    let invitations = format!("/v1/companies/{company}/invitations");
    expect(
        &api.json(
            "POST",
            INVITATIONS,
            &invitations,
            &op,
            json!({"email": "ola@example.no", "language": "en"}),
        )
        .await,
        201,
    );
    let (ola_invitation, first_token) = api.last_invitation();
    // Inviting the same address again sends it again, with a new token.
    expect(
        &api.json(
            "POST",
            INVITATIONS,
            &invitations,
            &op,
            json!({"email": "OLA@example.no"}),
        )
        .await,
        200,
    );
    let (_, token) = api.last_invitation();
    expect(
        &api.json(
            "POST",
            INVITATIONS,
            &invitations,
            &kari,
            json!({"email": "x@example.no"}),
        )
        .await,
        404,
    );
    expect(
        &api.json(
            "POST",
            INVITATIONS,
            &invitations,
            &op,
            json!({"email": "ikke-en-adresse", "language": "de"}),
        )
        .await,
        422,
    );
    expect(
        &api.json(
            "POST",
            INVITATIONS,
            &invitations,
            &op,
            json!({"email": "x@example.no", "rolle": "admin"}),
        )
        .await,
        400,
    );
    expect(
        &api.call(
            "POST",
            INVITATIONS,
            &invitations,
            &op,
            &[("content-type", "text/plain")],
            Some("{}"),
        )
        .await,
        415,
    );
    expect(
        &api.call("POST", INVITATIONS, &invitations, &op, &[], Some(&big))
            .await,
        413,
    );
    expect(
        &api.json(
            "POST",
            INVITATIONS,
            &invitations,
            &anonymous,
            json!({"email": "x@example.no"}),
        )
        .await,
        401,
    );
    let me = api.call("GET", ME, ME, &ola, &[], None).await;
    expect(&me, 200);
    assert_eq!(me.body["invitations"][0]["id"], ola_invitation.as_str());
    expect(&api.call("GET", ME, ME, &op, &en, None).await, 200);
    expect(&api.call("GET", ME, ME, &anonymous, &[], None).await, 401);
    let accept = format!("/v1/invitations/{ola_invitation}/accept");
    expect(
        &api.json("POST", ACCEPT, &accept, &ola, json!({"token": first_token}))
            .await,
        403,
    );
    expect(
        &api.json("POST", ACCEPT, &accept, &kari, json!({"token": token}))
            .await,
        403,
    );
    expect(
        &api.json("POST", ACCEPT, &accept, &ola, json!({})).await,
        422,
    );
    expect(
        &api.json(
            "POST",
            ACCEPT,
            &accept,
            &ola,
            json!({"token": token, "x": 1}),
        )
        .await,
        400,
    );
    expect(
        &api.json(
            "POST",
            ACCEPT,
            "/v1/invitations/01936f0e-7a3c-7c4e-9a1b-2f3d4e5f6a01/accept",
            &ola,
            json!({"token": token}),
        )
        .await,
        404,
    );
    expect(
        &api.json("POST", ACCEPT, &accept, &anonymous, json!({"token": token}))
            .await,
        401,
    );
    expect(
        &api.json("POST", ACCEPT, &accept, &ola, json!({"token": token}))
            .await,
        200,
    );
    expect(
        &api.json("POST", ACCEPT, &accept, &ola, json!({"token": token}))
            .await,
        200,
    );
    expect(
        &api.json(
            "POST",
            INVITATIONS,
            &invitations,
            &ola,
            json!({"email": "ola@example.no"}),
        )
        .await,
        409,
    );
    // A revoked invitation is gone.
    expect(
        &api.json(
            "POST",
            INVITATIONS,
            &invitations,
            &ola,
            json!({"email": "per@example.no"}),
        )
        .await,
        201,
    );
    let (per_invitation, per_token) = api.last_invitation();
    let per_path = format!("/v1/companies/{company}/invitations/{per_invitation}");
    expect(
        &api.call("DELETE", INVITATION, &per_path, &kari, &[], None)
            .await,
        404,
    );
    expect(
        &api.call("DELETE", INVITATION, &per_path, &anonymous, &[], None)
            .await,
        401,
    );
    expect(
        &api.call("DELETE", INVITATION, &per_path, &ola, &[], None)
            .await,
        204,
    );
    expect(
        &api.call("DELETE", INVITATION, &per_path, &ola, &en, None)
            .await,
        410,
    );
    let per = Identity::jwt("per");
    expect(
        &api.json(
            "POST",
            ACCEPT,
            &format!("/v1/invitations/{per_invitation}/accept"),
            &per,
            json!({"token": per_token}),
        )
        .await,
        410,
    );
    api.join(&per, &company).await;
    let administrators = format!("/v1/companies/{company}/administrators");
    let listed = api
        .call("GET", ADMINISTRATORS, &administrators, &ola, &[], None)
        .await;
    expect(&listed, 200);
    assert_eq!(listed.body["administrators"].as_array().unwrap().len(), 2);
    expect(
        &api.call("GET", ADMINISTRATORS, &administrators, &op, &en, None)
            .await,
        200,
    );
    expect(
        &api.call("GET", ADMINISTRATORS, &administrators, &kari, &[], None)
            .await,
        404,
    );
    expect(
        &api.call(
            "GET",
            ADMINISTRATORS,
            &administrators,
            &anonymous,
            &[],
            None,
        )
        .await,
        401,
    );
    expect(
        &api.call(
            "DELETE",
            ADMINISTRATOR,
            &format!("{administrators}/kari"),
            &ola,
            &[],
            None,
        )
        .await,
        404,
    );
    expect(
        &api.call(
            "DELETE",
            ADMINISTRATOR,
            &format!("{administrators}/per"),
            &kari,
            &[],
            None,
        )
        .await,
        404,
    );
    expect(
        &api.call(
            "DELETE",
            ADMINISTRATOR,
            &format!("{administrators}/per"),
            &anonymous,
            &[],
            None,
        )
        .await,
        401,
    );
    expect(
        &api.call(
            "DELETE",
            ADMINISTRATOR,
            &format!("{administrators}/per"),
            &ola,
            &[],
            None,
        )
        .await,
        204,
    );
    expect(
        &api.call(
            "DELETE",
            ADMINISTRATOR,
            &format!("{administrators}/ola"),
            &ola,
            &en,
            None,
        )
        .await,
        409,
    );
    expect(
        &api.call("POST", COMPANIES, COMPANIES, &anonymous, &[], Some("{}"))
            .await,
        401,
    );
    expect(
        &api.call("GET", COMPANIES, COMPANIES, &ola, &[], None).await,
        200,
    );
    expect(
        &api.call("GET", COMPANIES, "/v1/companies?limit=1", &ola, &en, None)
            .await,
        200,
    );
    expect(
        &api.call("GET", COMPANIES, "/v1/companies?limit=0", &ola, &[], None)
            .await,
        400,
    );
    expect(
        &api.call(
            "GET",
            COMPANIES,
            "/v1/companies?cursor=nope",
            &ola,
            &[],
            None,
        )
        .await,
        400,
    );
    expect(
        &api.call("GET", COMPANIES, COMPANIES, &anonymous, &[], None)
            .await,
        401,
    );

    // Locations.
    let locations = format!("/v1/companies/{company}/locations");
    let new_location = |name: &str| {
        json!({
            "name": name,
            "address": {"street": "Kirkeveien 64", "postal_code": "0364", "city": "Oslo"},
            "phone": "+47 22 00 00 01",
            "email": "majorstuen@fysio-sentrum.no"
        })
    };
    let created = api
        .json(
            "POST",
            LOCATIONS,
            &locations,
            &ola,
            new_location("Majorstuen"),
        )
        .await;
    expect(&created, 201);
    let location_id = created.body["id"].as_str().unwrap().to_string();
    let second = api
        .json(
            "POST",
            LOCATIONS,
            &locations,
            &ola,
            new_location("Grünerløkka"),
        )
        .await;
    expect(&second, 201);
    let second_id = second.body["id"].as_str().unwrap().to_string();
    // The company's cap on locations, here at the two it has.
    api.api.locations.max_locations_per_company = 2;
    expect(
        &api.json("POST", LOCATIONS, &locations, &ola, new_location("Tåsen"))
            .await,
        409,
    );
    api.api.locations.max_locations_per_company =
        bookinglink::domain::locations::DEFAULT_MAX_PER_COMPANY;
    expect(&api.json("POST", LOCATIONS, &locations, &ola, json!({"name": "", "address": {"street": "x", "postal_code": "364", "city": "Oslo"}, "phone": "12", "email": "nei"})).await, 422);
    expect(
        &api.json(
            "POST",
            LOCATIONS,
            &locations,
            &ola,
            json!({"name": "X", "address": {"gate": "x"}}),
        )
        .await,
        400,
    );
    expect(
        &api.json(
            "POST",
            LOCATIONS,
            &locations,
            &kari,
            new_location("Inntrenger"),
        )
        .await,
        404,
    );
    expect(
        &api.call(
            "GET",
            LOCATIONS,
            &format!("{locations}?limit=1"),
            &ola,
            &[],
            None,
        )
        .await,
        200,
    );
    expect(
        &api.call("GET", LOCATIONS, &locations, &kari, &[], None)
            .await,
        404,
    );

    let location = format!("{locations}/{location_id}");
    expect(
        &api.call("GET", LOCATION, &location, &ola, &[], None).await,
        200,
    );
    expect(
        &api.call("GET", LOCATION, &location, &kari, &[], None).await,
        404,
    );
    expect(
        &api.call(
            "GET",
            LOCATION,
            &format!("{locations}/ikke-en-uuid"),
            &ola,
            &[],
            None,
        )
        .await,
        404,
    );
    expect(
        &api.json(
            "PATCH",
            LOCATION,
            &location,
            &ola,
            json!({"name": "Majorstuen Fysio", "version": 1}),
        )
        .await,
        200,
    );
    expect(
        &api.json(
            "PATCH",
            LOCATION,
            &location,
            &ola,
            json!({"name": "Gammel", "version": 1}),
        )
        .await,
        409,
    );
    expect(
        &api.json("PATCH", LOCATION, &location, &ola, json!({"offline": true}))
            .await,
        428,
    );
    expect(
        &api.call(
            "PATCH",
            LOCATION,
            &location,
            &ola,
            &[("if-match", "\"2\"")],
            Some(r#"{"offline": "ja"}"#),
        )
        .await,
        422,
    );
    expect(
        &api.call(
            "PATCH",
            LOCATION,
            &location,
            &ola,
            &[("if-match", "tre")],
            Some(r#"{"offline": true}"#),
        )
        .await,
        400,
    );

    // Catalog.
    expect(
        &api.call("GET", CATALOG, CATALOG, &ola, &[], None).await,
        200,
    );
    expect(
        &api.call("GET", CATALOG, CATALOG, &anonymous, &en, None)
            .await,
        200,
    );

    // "Test kobling".
    let test = format!("{location}/booking/test");
    expect(
        &api.json("POST", TEST, &test, &ola, pasientsky("sandbox-key-ok"))
            .await,
        200,
    );
    let failed = api
        .json("POST", TEST, &test, &ola, pasientsky("feil-nøkkel"))
        .await;
    expect(&failed, 200);
    assert_eq!(failed.body["status"], "failure");
    expect(
        &api.call(
            "POST",
            TEST,
            &test,
            &ola,
            &en,
            Some(&pasientsky("sandbox-key-500").to_string()),
        )
        .await,
        200,
    );
    expect(
        &api.json(
            "POST",
            TEST,
            &test,
            &ola,
            json!({"system": "pasientsky", "external_id": "klinikk-1"}),
        )
        .await,
        422,
    );
    expect(
        &api.json("POST", TEST, &test, &ola, json!({"system": "journal-x"}))
            .await,
        422,
    );
    expect(
        &api.json(
            "POST",
            TEST,
            &test,
            &ola,
            json!({"system": "hano", "passord": "x"}),
        )
        .await,
        400,
    );
    expect(
        &api.call("POST", TEST, &test, &ola, &[], Some("nei")).await,
        400,
    );
    expect(
        &api.call(
            "POST",
            TEST,
            &test,
            &ola,
            &[("content-type", "text/plain")],
            Some("{}"),
        )
        .await,
        415,
    );
    expect(
        &api.call("POST", TEST, &test, &ola, &[], Some(&big)).await,
        413,
    );
    expect(
        &api.json("POST", TEST, &test, &kari, pasientsky("sandbox-key-ok"))
            .await,
        404,
    );
    expect(
        &api.json(
            "POST",
            TEST,
            &test,
            &anonymous,
            pasientsky("sandbox-key-ok"),
        )
        .await,
        401,
    );

    // "Test og lagre".
    let save = format!("{location}/booking/save");
    let with_version = |key: &str, version: u64| {
        let mut body = pasientsky(key);
        body["version"] = json!(version);
        body
    };
    let wrong = api
        .json("POST", SAVE, &save, &ola, with_version("feil-nøkkel", 2))
        .await;
    expect(&wrong, 422);
    assert_eq!(wrong.body["code"], "connection_test_failed");
    assert_eq!(
        wrong.body["status"], 422,
        "a problem's status is the HTTP status"
    );
    expect(
        &api.call(
            "POST",
            SAVE,
            &save,
            &ola,
            &en,
            Some(&with_version("feil-nøkkel", 2).to_string()),
        )
        .await,
        422,
    );
    expect(
        &api.json("POST", SAVE, &save, &ola, pasientsky("sandbox-key-ok"))
            .await,
        428,
    );
    expect(&api.json("POST", SAVE, &save, &ola, json!({"system": "extensor", "booking_url": "http://booking.extensor.no/x", "version": 2})).await, 422);
    expect(
        &api.json("POST", SAVE, &save, &ola, with_version("sandbox-key-ok", 9))
            .await,
        409,
    );
    let saved = api
        .json("POST", SAVE, &save, &ola, with_version("sandbox-key-ok", 2))
        .await;
    expect(&saved, 200);
    // Sent again after its answer was lost: answered as the save it was.
    let replayed = api
        .json("POST", SAVE, &save, &ola, with_version("sandbox-key-ok", 2))
        .await;
    expect(&replayed, 200);
    expect(
        &api.json(
            "POST",
            SAVE,
            &save,
            &ola,
            json!({"system": "pasientsky", "version": 2, "extra": 1}),
        )
        .await,
        400,
    );
    expect(
        &api.json(
            "POST",
            SAVE,
            &save,
            &kari,
            with_version("sandbox-key-ok", 1),
        )
        .await,
        404,
    );
    expect(
        &api.json(
            "POST",
            SAVE,
            &save,
            &anonymous,
            with_version("sandbox-key-ok", 1),
        )
        .await,
        401,
    );
    // The configured location in the list and alone.
    expect(
        &api.call("GET", LOCATIONS, &locations, &ola, &[], None)
            .await,
        200,
    );
    expect(
        &api.call("GET", LOCATION, &location, &ola, &[], None).await,
        200,
    );

    // "Forespør detaljer".
    let details = format!("{locations}/{second_id}/booking/request-details");
    expect(
        &api.call(
            "GET",
            DETAILS,
            &format!("{details}?system=physica"),
            &ola,
            &[],
            None,
        )
        .await,
        200,
    );
    expect(
        &api.call(
            "GET",
            DETAILS,
            &format!("{details}?system=easypractice"),
            &ola,
            &en,
            None,
        )
        .await,
        200,
    );
    expect(
        &api.call("GET", DETAILS, &details, &ola, &[], None).await,
        422,
    );
    expect(
        &api.call(
            "GET",
            DETAILS,
            &format!("{details}?system=journal-x"),
            &ola,
            &[],
            None,
        )
        .await,
        422,
    );
    expect(
        &api.call(
            "GET",
            DETAILS,
            &format!("{details}?system=hano"),
            &kari,
            &[],
            None,
        )
        .await,
        404,
    );
    expect(
        &api.call(
            "GET",
            DETAILS,
            &format!("{details}?system=hano"),
            &anonymous,
            &[],
            None,
        )
        .await,
        401,
    );
    api.mailer
        .fail_with(Some(MailError::Rejected("not verified".into())));
    expect(
        &api.json("POST", DETAILS, &details, &ola, json!({"system": "hano"}))
            .await,
        502,
    );
    api.mailer.fail_with(Some(MailError::Throttled));
    expect(
        &api.json("POST", DETAILS, &details, &ola, json!({"system": "hano"}))
            .await,
        503,
    );
    api.mailer
        .fail_with(Some(MailError::Unavailable("paused".into())));
    expect(
        &api.json("POST", DETAILS, &details, &ola, json!({"system": "hano"}))
            .await,
        503,
    );
    api.mailer.fail_with(None);
    for _ in 0..3 {
        expect(
            &api.json("POST", DETAILS, &details, &ola, json!({"system": "hano"}))
                .await,
            202,
        );
    }
    expect(
        &api.json("POST", DETAILS, &details, &ola, json!({"system": "hano"}))
            .await,
        429,
    );
    expect(
        &api.json("POST", DETAILS, &details, &ola, json!({"system": 7}))
            .await,
        422,
    );
    expect(
        &api.json(
            "POST",
            DETAILS,
            &details,
            &ola,
            json!({"system": "hano", "til": "x"}),
        )
        .await,
        400,
    );
    expect(
        &api.json("POST", DETAILS, &details, &kari, json!({"system": "hano"}))
            .await,
        404,
    );
    // The location with a details request recorded.
    expect(
        &api.call(
            "GET",
            LOCATION,
            &format!("{locations}/{second_id}"),
            &ola,
            &[],
            None,
        )
        .await,
        200,
    );

    // The lockout: five rejected checks, then 429 on both routes.
    let second_test = format!("{locations}/{second_id}/booking/test");
    let second_save = format!("{locations}/{second_id}/booking/save");
    for _ in 0..4 {
        expect(
            &api.json("POST", TEST, &second_test, &ola, pasientsky("feil-nøkkel"))
                .await,
            200,
        );
    }
    let last = api
        .json("POST", TEST, &second_test, &ola, pasientsky("feil-nøkkel"))
        .await;
    expect(&last, 200);
    assert_eq!(last.body["attempts_remaining"], 0);
    expect(
        &api.json(
            "POST",
            TEST,
            &second_test,
            &ola,
            pasientsky("sandbox-key-ok"),
        )
        .await,
        429,
    );
    expect(
        &api.json(
            "POST",
            SAVE,
            &second_save,
            &ola,
            with_version("sandbox-key-ok", 1),
        )
        .await,
        429,
    );

    // Operators lift the lockout early; nobody else may.
    expect(
        &api.call(
            "DELETE",
            LOCKOUT,
            "/v1/administrators/ola/lockout",
            &ola,
            &[],
            None,
        )
        .await,
        403,
    );
    expect(
        &api.call(
            "DELETE",
            LOCKOUT,
            "/v1/administrators/ola/lockout",
            &anonymous,
            &[],
            None,
        )
        .await,
        401,
    );
    expect(
        &api.call(
            "DELETE",
            LOCKOUT,
            "/v1/administrators/ola/lockout",
            &op,
            &[],
            None,
        )
        .await,
        204,
    );
    expect(
        &api.call(
            "DELETE",
            LOCKOUT,
            "/v1/administrators/ola/lockout",
            &op,
            &en,
            None,
        )
        .await,
        404,
    );
    expect(
        &api.json(
            "POST",
            TEST,
            &second_test,
            &ola,
            pasientsky("sandbox-key-ok"),
        )
        .await,
        200,
    );

    // The audit trail of everything above.
    let audit = format!("/v1/companies/{company}/audit");
    let trail = api.call("GET", AUDIT, &audit, &ola, &[], None).await;
    expect(&trail, 200);
    let items = trail.body["items"].as_array().unwrap();
    assert_eq!(items[0]["action"], "details_requested", "newest first");
    assert_eq!(items.last().unwrap()["action"], "company_created");
    assert!(!trail.raw.contains("sandbox-key-ok"), "no key in the trail");
    expect(
        &api.call("GET", AUDIT, &format!("{audit}?limit=2"), &op, &en, None)
            .await,
        200,
    );
    expect(
        &api.call(
            "GET",
            AUDIT,
            &format!("{audit}?cursor=nope"),
            &ola,
            &[],
            None,
        )
        .await,
        400,
    );
    expect(&api.call("GET", AUDIT, &audit, &kari, &[], None).await, 404);
    expect(
        &api.call("GET", AUDIT, &audit, &anonymous, &[], None).await,
        401,
    );

    // Every operation was exercised, with a success and an error (the catalog is public
    // reference data: its only error, 401, comes from API Gateway).
    let checked = api.checked.lock().unwrap().clone();
    for route in ROUTES {
        let needs_error = route.path != CATALOG;
        let answers: Vec<u16> = checked
            .iter()
            .filter(|(m, t, _)| m == route.method && t == route.path)
            .map(|(_, _, s)| *s)
            .collect();
        assert!(
            answers.iter().any(|s| *s < 300) && (!needs_error || answers.iter().any(|s| *s >= 400)),
            "{} {}: needs a success and an error case, has {answers:?}",
            route.method,
            route.path
        );
    }
    // The keys typed in above: not in any item, log line or mail (answers were checked as
    // they were made).
    leaks::check_mails(&api.mailer.sent());
    leaks::assert_no_leaks(&api.api.client).await;
}
