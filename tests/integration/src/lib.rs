//! Support for integration tests: AWS clients pointed at the emulator that the test command
//! started, a fresh table per test (so tests run in parallel without seeing each other), and
//! API Gateway HTTP API events built the way API Gateway builds them.

use std::collections::HashMap;

use bookinglink::aws::SdkConfig;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

/// An AWS SDK client of the crate `$sdk` for `$config`, with `$interceptor` on every request:
/// the same builder calls over each service crate's own types.
macro_rules! client_with_interceptor {
    ($sdk:ident, $config:expr, $interceptor:expr) => {
        $sdk::Client::from_conf(
            $sdk::config::Builder::from($config)
                .interceptor($interceptor)
                .build(),
        )
    };
}

/// A file of the repository, by its path from the root (`infra/template.yaml`).
pub fn repo_file(path: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    std::fs::read_to_string(format!("{root}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `infra/openapi.yaml` as JSON (anchors and aliases resolved), read once per test binary.
pub fn openapi_document() -> &'static Value {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        serde_norway::from_str(&repo_file("infra/openapi.yaml")).expect("openapi.yaml is YAML")
    })
}

pub mod demo;
pub mod leaks;
pub mod permissions;
pub mod round_trips;
pub mod runtime_api;
pub mod stack;

/// AWS configuration for the emulator, built the way the functions build theirs (so every
/// integration test goes through the production HTTP client). The test command exports
/// `AWS_ENDPOINT_URL`; without it these tests would talk to AWS, so they refuse to run.
pub async fn emulator_config() -> SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.0.0.1") || endpoint.starts_with("http://localhost"),
        "integration tests need the local AWS emulator: run them with scripts/test (AWS_ENDPOINT_URL={endpoint:?})"
    );
    bookinglink::aws::config().expect("the AWS settings scripts/test exports")
}

/// Lets the emulator's SES send from `address`, as a verified identity in the account would.
pub async fn verify_sender(config: &SdkConfig, address: &str) -> Result<(), String> {
    aws_sdk_ses::Client::new(config)
        .verify_email_identity()
        .email_address(address)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "verify {address} in the emulator: {}",
                aws_sdk_ses::error::DisplayErrorContext(&e)
            )
        })
}

/// A new, empty table with the production schema, named uniquely for one test.
pub async fn fresh_table() -> (aws_sdk_dynamodb::Client, String) {
    let config = emulator_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = format!("test-{}", uuid::Uuid::new_v4());
    bookinglink::store::dynamo::create_table(&client, &table)
        .await
        .expect("create the test table in the emulator");
    leaks::capture_logs();
    leaks::record_table(&table);
    (client, table)
}

/// Who the event says is calling.
#[derive(Clone, Debug)]
pub enum Identity {
    /// Claims from API Gateway's JWT authorizer.
    Jwt {
        sub: String,
        email: String,
    },
    /// Claims of a platform operator: the groups claim as API Gateway flattens it.
    Operator {
        sub: String,
    },
    /// Claims with an address the identity provider has not verified.
    Unverified {
        sub: String,
        email: String,
    },
    /// Only the development headers.
    DevHeaders {
        sub: String,
        email: String,
    },
    Anonymous,
}

impl Identity {
    /// A signed-in user whose verified address is `<sub>@example.no`.
    pub fn jwt(sub: &str) -> Self {
        Identity::Jwt {
            sub: sub.into(),
            email: format!("{sub}@example.no"),
        }
    }

    /// A signed-in user with the verified address `email`.
    pub fn with_email(sub: &str, email: &str) -> Self {
        Identity::Jwt {
            sub: sub.into(),
            email: email.into(),
        }
    }

    /// A signed-in user whose address `email` the identity provider has not verified.
    pub fn unverified(sub: &str, email: &str) -> Self {
        Identity::Unverified {
            sub: sub.into(),
            email: email.into(),
        }
    }

    pub fn operator(sub: &str) -> Self {
        Identity::Operator { sub: sub.into() }
    }

    /// The subject, if there is one.
    pub fn sub(&self) -> Option<&str> {
        match self {
            Identity::Jwt { sub, .. }
            | Identity::Operator { sub }
            | Identity::Unverified { sub, .. }
            | Identity::DevHeaders { sub, .. } => Some(sub),
            Identity::Anonymous => None,
        }
    }

    /// The address the identity claims.
    pub fn email(&self) -> Option<String> {
        match self {
            Identity::Jwt { email, .. }
            | Identity::Unverified { email, .. }
            | Identity::DevHeaders { email, .. } => Some(email.clone()),
            Identity::Operator { sub } => Some(format!("{sub}@bookinglink.no")),
            Identity::Anonymous => None,
        }
    }
}

/// An API Gateway HTTP API (payload 2.0) event, parsed by lambda_http exactly as in Lambda.
pub fn event(
    method: &str,
    path_and_query: &str,
    identity: &Identity,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Request {
    let event = event_json(method, path_and_query, identity, headers, body);
    lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event")
}

/// The JSON document of [`event`], as Lambda hands it to a function's runtime.
pub fn event_json(
    method: &str,
    path_and_query: &str,
    identity: &Identity,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Value {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut header_map: HashMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.to_lowercase(), v.to_string()))
        .collect();
    if body.is_some() {
        header_map
            .entry("content-type".into())
            .or_insert_with(|| "application/json".into());
    }
    let mut context = json!({
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": "api.example.no",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "tests"},
        "requestId": uuid::Uuid::new_v4().to_string(),
        "routeKey": "$default",
        "stage": "$default",
        "time": "25/Nov/2026:12:00:00 +0000",
        "timeEpoch": 1795608000000i64
    });
    match identity {
        Identity::Jwt { sub, email } => {
            context["authorizer"] = json!({"jwt": {"claims": {"sub": sub, "email": email, "email_verified": "true", "name": "Test Person"}, "scopes": null}});
        }
        Identity::Operator { sub } => {
            context["authorizer"] = json!({"jwt": {"claims": {
                "sub": sub, "email": format!("{sub}@bookinglink.no"), "email_verified": "true",
                "name": "Drift", "cognito:groups": "[bookinglink-operators other]"
            }, "scopes": null}});
        }
        Identity::Unverified { sub, email } => {
            context["authorizer"] = json!({"jwt": {"claims": {"sub": sub, "email": email, "email_verified": "false"}, "scopes": null}});
        }
        Identity::DevHeaders { sub, email } => {
            header_map.insert("x-dev-user".into(), sub.clone());
            header_map.insert("x-dev-email".into(), email.clone());
        }
        Identity::Anonymous => {}
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": header_map,
        "queryStringParameters": parse_query(query),
        "requestContext": context,
        "body": body,
        "isBase64Encoded": false
    })
}

/// Like [`event`] but with raw bytes as the body, as lambda_http hands over a payload that
/// API Gateway sent base64-encoded.
pub fn binary_event(method: &str, path: &str, identity: &Identity, body: &[u8]) -> Request {
    let (parts, _) = event(method, path, identity, &[], Some("{}")).into_parts();
    Request::from_parts(parts, Body::Binary(body.to_vec()))
}

fn parse_query(query: &str) -> Value {
    if query.is_empty() {
        return Value::Null;
    }
    let map: serde_json::Map<String, Value> = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    Value::Object(map)
}

/// A response with its body parsed.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub body: Value,
    pub raw: String,
}

impl Answer {
    pub fn from(response: Response<Body>) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let raw = match response.body() {
            Body::Text(t) => t.clone(),
            Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
            _ => String::new(),
        };
        let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
        leaks::check("an answer", &format!("{headers:?} {raw}"));
        Answer {
            status,
            headers,
            body,
            raw,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }

    /// The status and, for a problem, its stable code.
    pub fn problem(&self) -> (u16, Option<&str>) {
        (self.status, self.body["code"].as_str())
    }

    /// The first step of a connection check's report that failed.
    pub fn failed_step(&self) -> Option<&Value> {
        self.body["steps"]
            .as_array()?
            .iter()
            .find(|step| step["status"] == "failed")
    }

    /// The fields named in a problem's `errors`, in order.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["field"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Connection details the vendor sandbox knows for Pasientsky (its clinic and department with
/// an open calendar), with `key` as the API key ([`vendor_sandbox::KEY_OK`] passes; the
/// sandbox's other keys are in docs/vendor-sandbox.md).
pub fn pasientsky(key: &str) -> Value {
    json!({
        "system": "pasientsky",
        "external_id": vendor_sandbox::PASIENTSKY_CLINIC_OK,
        "external_department_id": vendor_sandbox::PASIENTSKY_DEPT_OK,
        "api_key": key,
    })
}

/// A new location, "Majorstuen", as the admin app sends it.
pub fn majorstuen() -> Value {
    location_named("Majorstuen")
}

/// A new location as the admin app sends it, at Majorstuen's address under the name `name`.
pub fn location_named(name: &str) -> Value {
    json!({
        "name": name,
        "address": {"street": "Kirkeveien 64", "postal_code": "0364", "city": "Oslo"},
        "phone": "+47 22 00 00 00",
        "email": "post@fysio.no"
    })
}

/// The invitation id and token of the link in the last mail `mailer` recorded.
pub fn last_invitation(mailer: &bookinglink::mail::RecordingMailer) -> (String, String) {
    let mail = mailer.sent().pop().expect("an invitation mail");
    (
        link_parameter(&mail.text, "invitation").expect("invitation= in the link"),
        link_parameter(&mail.text, "token").expect("token= in the link"),
    )
}

/// A query parameter of the admin-app link in an invitation mail (`invitation` or `token`).
pub fn link_parameter(mail_text: &str, name: &str) -> Option<String> {
    let link = mail_text
        .split_whitespace()
        .find(|word| word.contains("invitation=") && word.contains("token="))?;
    let url = url::Url::parse(link).ok()?;
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}
