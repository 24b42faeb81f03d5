//! Who is calling. Behind API Gateway the JWT authorizer has already verified the token and
//! hands us its claims; locally, a developer may name themselves with headers, but only when
//! the explicit development setting is on (the SAM template never turns it on).
//!
//! Two things come from the token besides the subject: whether its e-mail address is verified
//! (`email_verified`), and whether the caller is a platform operator (a configured claim that
//! holds a configured group, by default `cognito:groups` containing `bookinglink-operators`).
//! Everything else a caller may do comes from membership items in the table.

use std::sync::OnceLock;

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

pub const DEV_USER_HEADER: &str = "x-dev-user";
pub const DEV_EMAIL_HEADER: &str = "x-dev-email";
pub const DEV_NAME_HEADER: &str = "x-dev-name";
/// Comma-separated groups of a development identity (`X-Dev-Groups: bookinglink-operators`).
pub const DEV_GROUPS_HEADER: &str = "x-dev-groups";

/// The environment variable that lets callers pick their identity through headers.
pub const DEV_IDENTITY_ENV: &str = "DEV_IDENTITY_HEADERS";
/// The claim that carries the caller's groups, and the group that makes an operator.
pub const OPERATOR_CLAIM_ENV: &str = "OPERATOR_CLAIM";
pub const OPERATOR_GROUP_ENV: &str = "OPERATOR_GROUP";
pub const DEFAULT_OPERATOR_CLAIM: &str = "cognito:groups";
pub const DEFAULT_OPERATOR_GROUP: &str = "bookinglink-operators";

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Caller {
    pub sub: String,
    /// The address the token names. Only [`Caller::verified_email`] may be trusted with mail.
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// A platform operator: registers companies, manages administrators, lifts lockouts.
    pub operator: bool,
    /// The API Gateway request id of this call, for the audit trail.
    pub request_id: Option<String>,
}

impl Caller {
    /// A caller with only a subject: no e-mail, no operator rights.
    pub fn new(sub: impl Into<String>) -> Self {
        Caller {
            sub: sub.into(),
            ..Caller::default()
        }
    }

    /// The e-mail address, when the identity provider has verified it.
    pub fn verified_email(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.email_verified)
    }
}

/// Which claim and group make a caller a platform operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorRule {
    pub claim: String,
    pub group: String,
}

impl Default for OperatorRule {
    fn default() -> Self {
        OperatorRule {
            claim: DEFAULT_OPERATOR_CLAIM.into(),
            group: DEFAULT_OPERATOR_GROUP.into(),
        }
    }
}

impl OperatorRule {
    /// `OPERATOR_CLAIM` and `OPERATOR_GROUP`, each defaulting when unset or empty; read once
    /// per process, like every other setting of a function.
    pub fn configured() -> &'static OperatorRule {
        static RULE: OnceLock<OperatorRule> = OnceLock::new();
        RULE.get_or_init(|| {
            let setting = |name: &str, default: &str| {
                std::env::var(name)
                    .ok()
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| default.to_string())
            };
            OperatorRule {
                claim: setting(OPERATOR_CLAIM_ENV, DEFAULT_OPERATOR_CLAIM),
                group: setting(OPERATOR_GROUP_ENV, DEFAULT_OPERATOR_GROUP),
            }
        })
    }
}

/// True only when `DEV_IDENTITY_HEADERS` is exactly `true`; anything else keeps it off.
pub fn dev_identity_enabled_from_env() -> bool {
    std::env::var(DEV_IDENTITY_ENV).is_ok_and(|v| v == "true")
}

pub fn caller(req: &Request, dev_identity_headers: bool) -> Option<Caller> {
    caller_with(req, dev_identity_headers, OperatorRule::configured())
}

pub fn caller_with(
    req: &Request,
    dev_identity_headers: bool,
    rule: &OperatorRule,
) -> Option<Caller> {
    let request_id = request_id(req);
    if let Some(mut caller) = from_jwt_claims(req, rule) {
        caller.request_id = request_id;
        return Some(caller);
    }
    if dev_identity_headers {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let sub = header(DEV_USER_HEADER).filter(|s| plausible_sub(s))?;
        let email = header(DEV_EMAIL_HEADER);
        let operator = header(DEV_GROUPS_HEADER)
            .is_some_and(|groups| groups.split(',').any(|g| g.trim() == rule.group));
        return Some(Caller {
            sub,
            // A developer names their own address; locally that stands for a verified one.
            email_verified: email.is_some(),
            email,
            name: header(DEV_NAME_HEADER),
            operator,
            request_id,
        });
    }
    None
}

fn request_id(req: &Request) -> Option<String> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
        _ => None,
    }
    .filter(|id| !id.is_empty())
    .or_else(|| req.lambda_context_ref().map(|c| c.request_id.clone()))
    .filter(|id| !id.is_empty())
}

fn from_jwt_claims(req: &Request, rule: &OperatorRule) -> Option<Caller> {
    let RequestContext::ApiGatewayV2(context) = req.request_context_ref()? else {
        return None;
    };
    let claims = &context.authorizer.as_ref()?.jwt.as_ref()?.claims;
    let sub = claims.get("sub").filter(|s| plausible_sub(s))?.clone();
    let claim = |name: &str| claims.get(name).filter(|v| !v.is_empty()).cloned();
    Some(Caller {
        sub,
        email: claim("email"),
        // API Gateway hands every claim over as a string; a boolean `true` arrives as "true".
        email_verified: claim("email_verified").is_some_and(|v| v.eq_ignore_ascii_case("true")),
        name: claim("name"),
        operator: claim(&rule.claim).is_some_and(|groups| claim_lists(&groups, &rule.group)),
        request_id: None,
    })
}

/// Whether a claim's value lists `group`. API Gateway flattens an array claim into one string
/// (`[bookinglink-operators other]`); other set-ups pass a JSON array (`["a","b"]`) or a single
/// value, or separate values with commas or spaces. A group matches only as a whole value.
pub fn claim_lists(value: &str, group: &str) -> bool {
    let trimmed = value.trim();
    if trimmed.starts_with('[')
        && let Ok(items) = serde_json::from_str::<Vec<String>>(trimmed)
    {
        return items.iter().any(|item| item == group);
    }
    trimmed
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|item| item.trim_matches('"'))
        .any(|item| item == group)
}

/// The subject becomes part of DynamoDB keys; refuse anything an identity provider would
/// never issue rather than store it.
pub fn plausible_sub(sub: &str) -> bool {
    !sub.is_empty() && sub.len() <= 256 && !sub.chars().any(char::is_control) && !sub.contains('#')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A `GET /v1/me` event with `headers`, and with the JWT authorizer's `claims` if given.
    fn request(headers: serde_json::Value, claims: Option<serde_json::Value>) -> Request {
        let mut context = json!({
            "accountId": "1", "apiId": "local", "domainName": "x", "requestId": "req-1",
            "routeKey": "$default", "stage": "$default", "time": "", "timeEpoch": 0,
            "http": {"method": "GET", "path": "/v1/me", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"}
        });
        if let Some(claims) = claims {
            context["authorizer"] = json!({"jwt": {"claims": claims, "scopes": null}});
        }
        let event = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": "/v1/me",
            "rawQueryString": "",
            "headers": headers,
            "requestContext": context,
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    /// Verified claims, with development headers that must be ignored beside them.
    fn jwt_request(claims: serde_json::Value) -> Request {
        let headers =
            json!({"x-dev-user": "someone-else", "x-dev-groups": "bookinglink-operators"});
        request(headers, Some(claims))
    }

    fn dev_request(headers: serde_json::Value) -> Request {
        request(headers, None)
    }

    #[test]
    fn array_claims_are_read_as_api_gateway_flattens_them_and_as_json() {
        let group = DEFAULT_OPERATOR_GROUP;
        assert!(claim_lists("[bookinglink-operators other]", group));
        assert!(claim_lists("[other bookinglink-operators]", group));
        assert!(claim_lists("[bookinglink-operators]", group));
        assert!(claim_lists(r#"["other","bookinglink-operators"]"#, group));
        assert!(claim_lists("bookinglink-operators", group));
        assert!(claim_lists("other,bookinglink-operators", group));
        assert!(!claim_lists("[bookinglink-operators-old other]", group));
        assert!(!claim_lists(r#"["not-bookinglink-operators"]"#, group));
        assert!(!claim_lists("[]", group));
        assert!(!claim_lists("", group));
    }

    #[test]
    fn the_token_decides_operator_and_verified_email_and_headers_are_ignored() {
        let rule = OperatorRule::default();
        let req = jwt_request(json!({
            "sub": "ola", "email": "ola@klinikk.no", "email_verified": "true",
            "cognito:groups": "[bookinglink-operators]"
        }));
        let caller = caller_with(&req, true, &rule).unwrap();
        assert_eq!(caller.sub, "ola");
        assert!(caller.operator);
        assert_eq!(caller.verified_email(), Some("ola@klinikk.no"));
        assert_eq!(caller.request_id.as_deref(), Some("req-1"));

        let req = jwt_request(json!({"sub": "kari", "email": "kari@klinikk.no"}));
        let caller = caller_with(&req, true, &rule).unwrap();
        assert!(!caller.operator, "development headers never add to a token");
        assert_eq!(caller.verified_email(), None, "email_verified missing");

        let req = jwt_request(
            json!({"sub": "per", "email": "per@x.no", "email_verified": "false", "groups": "[bookinglink-operators]"}),
        );
        let caller = caller_with(&req, false, &rule).unwrap();
        assert!(!caller.operator, "the default claim is cognito:groups");
        assert_eq!(caller.verified_email(), None);
        let custom = OperatorRule {
            claim: "groups".into(),
            group: "bookinglink-operators".into(),
        };
        assert!(caller_with(&req, false, &custom).unwrap().operator);
    }

    #[test]
    fn development_headers_name_groups_and_a_verified_address_only_when_switched_on() {
        let rule = OperatorRule::default();
        let req = dev_request(json!({
            "x-dev-user": "demo-operator", "x-dev-email": "drift@bookinglink.no",
            "x-dev-groups": "other, bookinglink-operators"
        }));
        let caller = caller_with(&req, true, &rule).unwrap();
        assert!(caller.operator);
        assert_eq!(caller.verified_email(), Some("drift@bookinglink.no"));
        assert!(caller_with(&req, false, &rule).is_none());

        let req = dev_request(json!({"x-dev-user": "demo-admin"}));
        let caller = caller_with(&req, true, &rule).unwrap();
        assert!(!caller.operator);
        assert_eq!(caller.verified_email(), None);

        let req = dev_request(json!({"x-dev-user": "USER#x"}));
        assert!(caller_with(&req, true, &rule).is_none(), "a key separator");
    }
}
