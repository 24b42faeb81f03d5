//! `infra/openapi.yaml` is the admin API's contract. These tests keep it true:
//! - it documents exactly the routes of `bookinglink::routes::ROUTES`, and the SAM template's
//!   HttpApi routes are exactly the documented ones;
//! - its booking-system ids are the catalog's;
//! - the real handlers' answers (success and the main errors of every operation, against the
//!   emulator and the in-process vendor sandbox) have a documented status, media type and
//!   required headers, and their bodies validate against the documented schema.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bookinglink::mail::{MailError, RecordingMailer};
use bookinglink::routes::ROUTES;
use integration_tests::stack::sandbox_vendors;
use integration_tests::{
    Answer, Identity, event, last_invitation, leaks, openapi_document, pasientsky, repo_file,
};
use lambda_http::Request;
use serde_json::{Value, json};
use vendor_sandbox::{KEY_500, KEY_OK};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// `(METHOD, path)` of every operation in the document.
fn documented_routes() -> BTreeSet<(String, String)> {
    let paths = openapi_document()["paths"].as_object().expect("paths");
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
    let template = integration_tests::permissions::template();
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
    let template = integration_tests::permissions::template();
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
    let documented: Vec<&str> =
        openapi_document()["components"]["schemas"]["BookingSystemId"]["enum"]
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
    let value = openapi_document()
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
        openapi_document().pointer(&operation).is_some(),
        "{what}: operation not documented"
    );
    let status = answer.status.to_string();
    let Some(_) = openapi_document().pointer(&format!("{operation}/responses/{status}")) else {
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
    let mut root = openapi_document().clone();
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
    /// operation `method template` of the document (the request's method) and returns it.
    async fn call(&self, template: &str, request: Request) -> Answer {
        let method = request.method().to_string();
        // A non-UUID or unknown path resolves to no route; its answer is still checked against
        // `template`, and only a path that resolves can prove the label right.
        if let Ok(matched) = bookinglink::routes::resolve(&method, request.uri().path()) {
            assert_eq!(
                matched.route.path,
                template,
                "{method} {} is labelled with another operation's template",
                request.uri().path()
            );
        }
        let answer = self.api.send(request).await;
        check(&method, template, &answer);
        let checked = (method, template.to_string(), answer.status);
        self.checked.lock().unwrap().push(checked);
        answer
    }

    /// Invites `who` to `company` (as the operator) and lets them accept.
    async fn join(&self, who: &Identity, company: &str) {
        let op = Identity::operator("drift");
        let invitations = format!("/v1/companies/{company}/invitations");
        let invited = self
            .send(
                "POST",
                INVITATIONS,
                &invitations,
                &op,
                &[],
                Json(json!({"email": who.email().unwrap()})),
            )
            .await;
        assert_eq!(invited.status, 201, "{}", invited.raw);
        let (id, token) = last_invitation(&self.invitations);
        let accepted = self
            .send(
                "POST",
                ACCEPT,
                &format!("/v1/invitations/{id}/accept"),
                who,
                &[],
                Json(json!({"token": token})),
            )
            .await;
        assert_eq!(accepted.status, 200, "{}", accepted.raw);
    }
}

/// The body of a request of the walk.
enum Body<'a> {
    Json(Value),
    /// Sent as it is: malformed JSON, another media type, an oversized document.
    Text(&'a str),
}

use Body::{Json, Text};

impl Body<'_> {
    fn text(&self) -> String {
        match self {
            Json(value) => value.to_string(),
            Text(text) => text.to_string(),
        }
    }
}

/// Extra headers of a request.
type Headers<'a> = &'a [(&'a str, &'a str)];

/// A request without a body and the status the document gives its answer: (status, caller,
/// path, headers).
type Read<'a> = (u16, &'a Identity, &'a str, Headers<'a>);

/// A request with a body and the status the document gives its answer: (status, caller,
/// headers, body).
type Write<'a> = (u16, &'a Identity, Headers<'a>, Body<'a>);

impl Stack {
    async fn send(
        &self,
        method: &str,
        template: &str,
        path: &str,
        who: &Identity,
        headers: Headers<'_>,
        body: Body<'_>,
    ) -> Answer {
        let body = body.text();
        self.call(template, event(method, path, who, headers, Some(&body)))
            .await
    }

    /// The operation `method template`, for requests without a body.
    fn op<'a>(&'a self, method: &'a str, template: &'a str) -> Op<'a> {
        Op {
            stack: self,
            method,
            template,
        }
    }

    /// The operation `method template` at `path`, for requests with a body.
    fn at<'a>(&'a self, method: &'a str, template: &'a str, path: &'a str) -> At<'a> {
        At {
            op: self.op(method, template),
            path,
        }
    }
}

/// One operation of the document.
struct Op<'a> {
    stack: &'a Stack,
    method: &'a str,
    template: &'a str,
}

impl Op<'_> {
    /// Sends each row, in order, and checks the status of its answer.
    async fn expect_each<const N: usize>(&self, rows: [Read<'_>; N]) {
        let rows = rows.map(|(status, who, path, headers)| (status, who, path, headers, None));
        self.expect_rows(rows).await;
    }

    async fn expect_rows<'r>(
        &self,
        rows: impl IntoIterator<Item = (u16, &'r Identity, &'r str, Headers<'r>, Option<Body<'r>>)>,
    ) {
        let Op {
            stack,
            method,
            template,
        } = self;
        for (i, (status, who, path, headers, body)) in rows.into_iter().enumerate() {
            let body = body.map(|body| body.text());
            let answer = stack
                .call(template, event(method, path, who, headers, body.as_deref()))
                .await;
            // Several rows share method, path and caller; the row number, headers and body
            // start tell them apart.
            let sent: String = body.as_deref().unwrap_or("").chars().take(200).collect();
            assert_eq!(
                answer.status, status,
                "row {i}: {method} {path} as {who:?}, headers {headers:?}, body {sent:?}: {}",
                answer.raw
            );
        }
    }
}

/// One operation of the document at one path.
struct At<'a> {
    op: Op<'a>,
    path: &'a str,
}

impl At<'_> {
    /// Sends each row, in order, and checks the status of its answer.
    async fn expect_each<const N: usize>(&self, rows: [Write<'_>; N]) {
        let rows =
            rows.map(|(status, who, headers, body)| (status, who, self.path, headers, Some(body)));
        self.op.expect_rows(rows).await;
    }
}

fn expect(answer: &Answer, status: u16) {
    assert_eq!(answer.status, status, "{}", answer.raw);
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
    let plain = [("content-type", "text/plain")];
    let big = format!("{{\"name\":\"{}\"}}", "x".repeat(70_000));

    // Companies: registered by an operator, administered by whoever accepts an invitation.
    let created = api
        .send("POST", COMPANIES, COMPANIES, &op, &[], Json(json!({"name": "Fysio Sentrum AS", "org_number": "923 609 016", "invoice_email": "faktura@fysio-sentrum.no"})))
        .await;
    expect(&created, 201);
    let company = created.body["id"].as_str().unwrap().to_string();
    let other = api
        .send(
            "POST",
            COMPANIES,
            COMPANIES,
            &op,
            &[],
            Json(json!({"name": "Psykologene AS", "org_number": "974760673"})),
        )
        .await;
    expect(&other, 201);
    let other_company = other.body["id"].as_str().unwrap().to_string();
    let impostor = json!({"name": "Impostor AS", "org_number": "982463718"});
    let copy = json!({"name": "Kopi AS", "org_number": "923609016"});
    let invalid = json!({"name": 5, "org_number": "923609017", "invoice_email": "x@"});
    api.at("POST", COMPANIES, COMPANIES)
        .expect_each([
            (403, &ola, &[], Json(impostor)),
            (409, &op, &[], Json(copy)),
            (422, &op, &[], Json(invalid)),
            (400, &op, &[], Json(json!({"name": "X", "nmae": "Y"}))),
            (400, &op, &[], Text("{\"name\":")),
            (400, &op, &[], Text("[1]")),
            (415, &op, &plain, Text("{}")),
            (413, &op, &[], Text(&big)),
        ])
        .await;
    let too_long = format!("/v1/companies?q={}", "x".repeat(121));
    api.op("GET", COMPANIES)
        .expect_each([
            (200, &op, "/v1/companies?q=psyk", &[]),
            (400, &op, &too_long, &[]),
        ])
        .await;

    // Invitations, accepting them, the caller's own view, administrators.
    api.join(&kari, &other_company).await;
    let invitations = format!("/v1/companies/{company}/invitations");
    let to_ola = json!({"email": "ola@example.no", "language": "en"});
    api.at("POST", INVITATIONS, &invitations)
        .expect_each([(201, &op, &[], Json(to_ola))])
        .await;
    let (ola_invitation, first_token) = last_invitation(&api.invitations);
    // Inviting the same address again sends it again, with a new token.
    let again = json!({"email": "OLA@example.no"});
    api.at("POST", INVITATIONS, &invitations)
        .expect_each([(200, &op, &[], Json(again))])
        .await;
    let (_, token) = last_invitation(&api.invitations);
    let bad_address = json!({"email": "ikke-en-adresse", "language": "de"});
    let unknown_field = json!({"email": "x@example.no", "rolle": "admin"});
    let someone = || Json(json!({"email": "x@example.no"}));
    api.at("POST", INVITATIONS, &invitations)
        .expect_each([
            (404, &kari, &[], someone()),
            (422, &op, &[], Json(bad_address)),
            (400, &op, &[], Json(unknown_field)),
            (415, &op, &plain, Text("{}")),
            (413, &op, &[], Text(&big)),
            (401, &anonymous, &[], someone()),
        ])
        .await;
    let me = api.call(ME, event("GET", ME, &ola, &[], None)).await;
    expect(&me, 200);
    assert_eq!(me.body["invitations"][0]["id"], ola_invitation.as_str());
    api.op("GET", ME)
        .expect_each([(200, &op, ME, &en), (401, &anonymous, ME, &[])])
        .await;
    let accept = format!("/v1/invitations/{ola_invitation}/accept");
    let with_token = || Json(json!({"token": token}));
    api.at("POST", ACCEPT, &accept)
        .expect_each([
            (403, &ola, &[], Json(json!({"token": first_token}))),
            (403, &kari, &[], with_token()),
            (422, &ola, &[], Json(json!({}))),
            (400, &ola, &[], Json(json!({"token": token, "x": 1}))),
        ])
        .await;
    let unknown = "/v1/invitations/01936f0e-7a3c-7c4e-9a1b-2f3d4e5f6a01/accept";
    api.at("POST", ACCEPT, unknown)
        .expect_each([(404, &ola, &[], with_token())])
        .await;
    api.at("POST", ACCEPT, &accept)
        .expect_each([
            (401, &anonymous, &[], with_token()),
            (200, &ola, &[], with_token()),
            (200, &ola, &[], with_token()),
        ])
        .await;
    // Ola, who has just accepted, is already an administrator.
    api.at("POST", INVITATIONS, &invitations)
        .expect_each([(409, &ola, &[], Json(json!({"email": "ola@example.no"})))])
        .await;
    // A revoked invitation is gone.
    api.at("POST", INVITATIONS, &invitations)
        .expect_each([(201, &ola, &[], Json(json!({"email": "per@example.no"})))])
        .await;
    let (per_invitation, per_token) = last_invitation(&api.invitations);
    let per_path = format!("/v1/companies/{company}/invitations/{per_invitation}");
    api.op("DELETE", INVITATION)
        .expect_each([
            (404, &kari, &per_path, &[]),
            (401, &anonymous, &per_path, &[]),
            (204, &ola, &per_path, &[]),
            (410, &ola, &per_path, &en),
        ])
        .await;
    let per = Identity::jwt("per");
    let per_accept = format!("/v1/invitations/{per_invitation}/accept");
    let per_token = json!({"token": per_token});
    api.at("POST", ACCEPT, &per_accept)
        .expect_each([(410, &per, &[], Json(per_token))])
        .await;
    api.join(&per, &company).await;
    let administrators = format!("/v1/companies/{company}/administrators");
    let listed = api
        .call(
            ADMINISTRATORS,
            event("GET", &administrators, &ola, &[], None),
        )
        .await;
    expect(&listed, 200);
    assert_eq!(listed.body["administrators"].as_array().unwrap().len(), 2);
    api.op("GET", ADMINISTRATORS)
        .expect_each([
            (200, &op, &administrators, &en),
            (404, &kari, &administrators, &[]),
            (401, &anonymous, &administrators, &[]),
        ])
        .await;
    let (kari_path, per_path, ola_path) = (
        format!("{administrators}/kari"),
        format!("{administrators}/per"),
        format!("{administrators}/ola"),
    );
    api.op("DELETE", ADMINISTRATOR)
        .expect_each([
            (404, &ola, &kari_path, &[]),
            (404, &kari, &per_path, &[]),
            (401, &anonymous, &per_path, &[]),
            (204, &ola, &per_path, &[]),
            (409, &ola, &ola_path, &en),
        ])
        .await;
    api.at("POST", COMPANIES, COMPANIES)
        .expect_each([(401, &anonymous, &[], Text("{}"))])
        .await;
    api.op("GET", COMPANIES)
        .expect_each([
            (200, &ola, COMPANIES, &[]),
            (200, &ola, "/v1/companies?limit=1", &en),
            (400, &ola, "/v1/companies?limit=0", &[]),
            (400, &ola, "/v1/companies?cursor=nope", &[]),
            (401, &anonymous, COMPANIES, &[]),
        ])
        .await;

    // Locations.
    let locations = format!("/v1/companies/{company}/locations");
    let new_location = |name: &str| Json(integration_tests::location_named(name));
    let mut created = Vec::new();
    for name in ["Majorstuen", "Grünerløkka"] {
        let answer = api
            .send("POST", LOCATIONS, &locations, &ola, &[], new_location(name))
            .await;
        expect(&answer, 201);
        created.push(answer.body["id"].as_str().unwrap().to_string());
    }
    let [location_id, second_id] = <[String; 2]>::try_from(created).unwrap();
    // The company's cap on locations, here at the two it has.
    api.api.locations.max_locations_per_company = 2;
    api.at("POST", LOCATIONS, &locations)
        .expect_each([(409, &ola, &[], new_location("Tåsen"))])
        .await;
    api.api.locations.max_locations_per_company =
        bookinglink::domain::locations::DEFAULT_MAX_PER_COMPANY;
    let invalid = json!({"name": "", "address": {"street": "x", "postal_code": "364", "city": "Oslo"}, "phone": "12", "email": "nei"});
    let unknown_field = json!({"name": "X", "address": {"gate": "x"}});
    api.at("POST", LOCATIONS, &locations)
        .expect_each([
            (422, &ola, &[], Json(invalid)),
            (400, &ola, &[], Json(unknown_field)),
            (404, &kari, &[], new_location("Inntrenger")),
        ])
        .await;
    let first_page = format!("{locations}?limit=1");
    api.op("GET", LOCATIONS)
        .expect_each([(200, &ola, &first_page, &[]), (404, &kari, &locations, &[])])
        .await;

    let location = format!("{locations}/{location_id}");
    let not_an_id = format!("{locations}/ikke-en-uuid");
    api.op("GET", LOCATION)
        .expect_each([
            (200, &ola, &location, &[]),
            (404, &kari, &location, &[]),
            (404, &ola, &not_an_id, &[]),
        ])
        .await;
    let renamed = json!({"name": "Majorstuen Fysio", "version": 1});
    let stale = json!({"name": "Gammel", "version": 1});
    api.at("PATCH", LOCATION, &location)
        .expect_each([
            (200, &ola, &[], Json(renamed)),
            (409, &ola, &[], Json(stale)),
            (428, &ola, &[], Json(json!({"offline": true}))),
            (
                422,
                &ola,
                &[("if-match", "\"2\"")],
                Text(r#"{"offline": "ja"}"#),
            ),
            (
                400,
                &ola,
                &[("if-match", "tre")],
                Text(r#"{"offline": true}"#),
            ),
        ])
        .await;

    // Catalog.
    api.op("GET", CATALOG)
        .expect_each([(200, &ola, CATALOG, &[]), (200, &anonymous, CATALOG, &en)])
        .await;

    // "Test kobling".
    let test = format!("{location}/booking/test");
    let key = |key: &str| Json(pasientsky(key));
    api.at("POST", TEST, &test)
        .expect_each([(200, &ola, &[], key(KEY_OK))])
        .await;
    let failed = api
        .send(
            "POST",
            TEST,
            &test,
            &ola,
            &[],
            Json(pasientsky("feil-nøkkel")),
        )
        .await;
    expect(&failed, 200);
    assert_eq!(failed.body["status"], "failure");
    let incomplete = json!({"system": "pasientsky", "external_id": "klinikk-1"});
    let unknown_field = json!({"system": "hano", "passord": "x"});
    api.at("POST", TEST, &test)
        .expect_each([
            (200, &ola, &en, key(KEY_500)),
            (422, &ola, &[], Json(incomplete)),
            (422, &ola, &[], Json(json!({"system": "journal-x"}))),
            (400, &ola, &[], Json(unknown_field)),
            (400, &ola, &[], Text("nei")),
            (415, &ola, &plain, Text("{}")),
            (413, &ola, &[], Text(&big)),
            (404, &kari, &[], key(KEY_OK)),
            (401, &anonymous, &[], key(KEY_OK)),
        ])
        .await;

    // "Test og lagre".
    let save = format!("{location}/booking/save");
    let with_version = |key: &str, version: u64| {
        let mut body = pasientsky(key);
        body["version"] = json!(version);
        Json(body)
    };
    let wrong = api
        .send(
            "POST",
            SAVE,
            &save,
            &ola,
            &[],
            with_version("feil-nøkkel", 2),
        )
        .await;
    expect(&wrong, 422);
    assert_eq!(wrong.body["code"], "connection_test_failed");
    assert_eq!(
        wrong.body["status"], 422,
        "a problem's status is the HTTP status"
    );
    let extensor =
        json!({"system": "extensor", "booking_url": "http://booking.extensor.no/x", "version": 2});
    let unknown_field = json!({"system": "pasientsky", "version": 2, "extra": 1});
    api.at("POST", SAVE, &save)
        .expect_each([
            (422, &ola, &en, with_version("feil-nøkkel", 2)),
            (428, &ola, &[], key(KEY_OK)),
            (422, &ola, &[], Json(extensor)),
            (409, &ola, &[], with_version(KEY_OK, 9)),
            (200, &ola, &[], with_version(KEY_OK, 2)),
            // Sent again after its answer was lost: answered as the save it was.
            (200, &ola, &[], with_version(KEY_OK, 2)),
            (400, &ola, &[], Json(unknown_field)),
            (404, &kari, &[], with_version(KEY_OK, 1)),
            (401, &anonymous, &[], with_version(KEY_OK, 1)),
        ])
        .await;
    // The configured location in the list and alone.
    api.op("GET", LOCATIONS)
        .expect_each([(200, &ola, &locations, &[])])
        .await;
    api.op("GET", LOCATION)
        .expect_each([(200, &ola, &location, &[])])
        .await;

    // "Forespør detaljer".
    let details = format!("{locations}/{second_id}/booking/request-details");
    let for_system = |system: &str| format!("{details}?system={system}");
    let (physica, easypractice, journal_x, hano) = (
        for_system("physica"),
        for_system("easypractice"),
        for_system("journal-x"),
        for_system("hano"),
    );
    api.op("GET", DETAILS)
        .expect_each([
            (200, &ola, &physica, &[]),
            (200, &ola, &easypractice, &en),
            (422, &ola, &details, &[]),
            (422, &ola, &journal_x, &[]),
            (404, &kari, &hano, &[]),
            (401, &anonymous, &hano, &[]),
        ])
        .await;
    let hano = || Json(json!({"system": "hano"}));
    for (failure, status) in [
        (MailError::Rejected("not verified".into()), 502),
        (MailError::Throttled, 503),
        (MailError::Unavailable("paused".into()), 503),
    ] {
        api.mailer.fail_with(Some(failure));
        api.at("POST", DETAILS, &details)
            .expect_each([(status, &ola, &[], hano())])
            .await;
    }
    api.mailer.fail_with(None);
    api.at("POST", DETAILS, &details)
        .expect_each([
            (202, &ola, &[], hano()),
            (202, &ola, &[], hano()),
            (202, &ola, &[], hano()),
            (429, &ola, &[], hano()),
            (422, &ola, &[], Json(json!({"system": 7}))),
            (400, &ola, &[], Json(json!({"system": "hano", "til": "x"}))),
            (404, &kari, &[], hano()),
        ])
        .await;
    // The location with a details request recorded.
    let second = format!("{locations}/{second_id}");
    api.op("GET", LOCATION)
        .expect_each([(200, &ola, &second, &[])])
        .await;

    // The lockout: five rejected checks, then 429 on both routes.
    let second_test = format!("{second}/booking/test");
    let second_save = format!("{second}/booking/save");
    api.at("POST", TEST, &second_test)
        .expect_each([
            (200, &ola, &[], key("feil-nøkkel")),
            (200, &ola, &[], key("feil-nøkkel")),
            (200, &ola, &[], key("feil-nøkkel")),
            (200, &ola, &[], key("feil-nøkkel")),
        ])
        .await;
    let last = api
        .send(
            "POST",
            TEST,
            &second_test,
            &ola,
            &[],
            Json(pasientsky("feil-nøkkel")),
        )
        .await;
    expect(&last, 200);
    assert_eq!(last.body["attempts_remaining"], 0);
    api.at("POST", TEST, &second_test)
        .expect_each([(429, &ola, &[], key(KEY_OK))])
        .await;
    let ok = with_version(KEY_OK, 1);
    api.at("POST", SAVE, &second_save)
        .expect_each([(429, &ola, &[], ok)])
        .await;

    // Operators lift the lockout early; nobody else may.
    let lockout = "/v1/administrators/ola/lockout";
    api.op("DELETE", LOCKOUT)
        .expect_each([
            (403, &ola, lockout, &[]),
            (401, &anonymous, lockout, &[]),
            (204, &op, lockout, &[]),
            (404, &op, lockout, &en),
        ])
        .await;
    api.at("POST", TEST, &second_test)
        .expect_each([(200, &ola, &[], key(KEY_OK))])
        .await;

    // The audit trail of everything above.
    let audit = format!("/v1/companies/{company}/audit");
    let trail = api.call(AUDIT, event("GET", &audit, &ola, &[], None)).await;
    expect(&trail, 200);
    let items = trail.body["items"].as_array().unwrap();
    assert_eq!(items[0]["action"], "details_requested", "newest first");
    assert_eq!(items.last().unwrap()["action"], "company_created");
    assert!(!trail.raw.contains(KEY_OK), "no key in the trail");
    let (two, bad_cursor) = (format!("{audit}?limit=2"), format!("{audit}?cursor=nope"));
    api.op("GET", AUDIT)
        .expect_each([
            (200, &op, &two, &en),
            (400, &ola, &bad_cursor, &[]),
            (404, &kari, &audit, &[]),
            (401, &anonymous, &audit, &[]),
        ])
        .await;

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
