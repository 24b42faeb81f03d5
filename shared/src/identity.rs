//! Who is calling. Behind API Gateway the JWT authorizer has already verified the token and
//! hands us its claims; locally, a developer may name themselves with headers, but only when
//! the explicit development setting is on (the SAM template never turns it on).

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

pub const DEV_USER_HEADER: &str = "x-dev-user";
pub const DEV_EMAIL_HEADER: &str = "x-dev-email";
pub const DEV_NAME_HEADER: &str = "x-dev-name";

/// The environment variable that lets callers pick their identity through headers.
pub const DEV_IDENTITY_ENV: &str = "DEV_IDENTITY_HEADERS";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub sub: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// True only when `DEV_IDENTITY_HEADERS` is exactly `true`; anything else keeps it off.
pub fn dev_identity_enabled_from_env() -> bool {
    std::env::var(DEV_IDENTITY_ENV).is_ok_and(|v| v == "true")
}

pub fn caller(req: &Request, dev_identity_headers: bool) -> Option<Caller> {
    if let Some(caller) = from_jwt_claims(req) {
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
        return Some(Caller {
            sub,
            email: header(DEV_EMAIL_HEADER),
            name: header(DEV_NAME_HEADER),
        });
    }
    None
}

fn from_jwt_claims(req: &Request) -> Option<Caller> {
    let RequestContext::ApiGatewayV2(context) = req.request_context_ref()? else {
        return None;
    };
    let claims = &context.authorizer.as_ref()?.jwt.as_ref()?.claims;
    let sub = claims.get("sub").filter(|s| plausible_sub(s))?.clone();
    let claim = |name: &str| claims.get(name).filter(|v| !v.is_empty()).cloned();
    Some(Caller {
        sub,
        email: claim("email"),
        name: claim("name"),
    })
}

/// The subject becomes part of DynamoDB keys; refuse anything an identity provider would
/// never issue rather than store it.
fn plausible_sub(sub: &str) -> bool {
    !sub.is_empty() && sub.len() <= 256 && !sub.chars().any(char::is_control)
}
