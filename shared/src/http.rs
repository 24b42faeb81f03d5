//! The one place where HTTP meets the domain: reading a Lambda HTTP request into what the
//! domain needs (caller, language, body, query), and turning results and problems into
//! responses.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{Map, Value, json};

use crate::i18n::Lang;
use crate::identity::{self, Caller};
use crate::messages as msg;
use crate::model::Page;
use crate::problem::Problem;
use crate::routes::{self, Matched};
use crate::validate;

pub const PROBLEM_JSON: &str = "application/problem+json";
pub const JSON: &str = "application/json";

/// A request as the domain sees it.
pub struct Incoming {
    pub method: String,
    pub path: String,
    pub lang: Lang,
    pub caller: Option<Caller>,
    req: Request,
}

impl Incoming {
    pub fn new(req: Request, dev_identity_headers: bool) -> Self {
        let lang = Lang::from_accept_language(
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        );
        let caller = identity::caller(&req, dev_identity_headers);
        Incoming {
            method: req.method().as_str().to_string(),
            path: req.uri().path().to_string(),
            lang,
            caller,
            req,
        }
    }

    /// The route this request names, when `function` serves it; a route of another function
    /// is a 404 here, like an unknown one.
    pub fn route_of(&self, function: &str) -> Result<Matched, Problem> {
        let matched = routes::resolve(&self.method, &self.path)?;
        if matched.route.function != function {
            return Err(Problem::route_not_found());
        }
        Ok(matched)
    }

    pub fn caller(&self) -> Result<&Caller, Problem> {
        self.caller.as_ref().ok_or_else(Problem::unauthenticated)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.req.headers().get(name).and_then(|v| v.to_str().ok())
    }

    pub fn query(&self, name: &str) -> Option<String> {
        self.req
            .query_string_parameters_ref()
            .and_then(|q| q.first(name).map(str::to_string))
    }

    /// The body as a JSON object, after the size, encoding, media type and syntax checks.
    pub fn json_object(&self) -> Result<Map<String, Value>, Problem> {
        let bytes: &[u8] = match self.req.body() {
            Body::Empty => &[],
            Body::Text(t) => t.as_bytes(),
            Body::Binary(b) => b,
            _ => &[],
        };
        if bytes.len() > validate::MAX_BODY_BYTES {
            return Err(Problem::payload_too_large(validate::MAX_BODY_BYTES));
        }
        if let Some(content_type) = self.header("content-type")
            && !is_json_media_type(content_type)
        {
            return Err(Problem::unsupported_media_type());
        }
        validate::parse_object(bytes)
    }

    /// The page size from `?limit=`, 1 to `max`, or `default` when absent.
    pub fn limit(&self, default: u32, max: u32) -> Result<u32, Problem> {
        match self.query("limit") {
            None => Ok(default),
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| Problem::invalid_parameter("limit", msg::invalid_limit(max))),
        }
    }

    /// The search text from `?q=`, at most `max_chars` characters without control characters.
    pub fn search_query(&self, max_chars: usize) -> Result<Option<String>, Problem> {
        match self.query("q") {
            Some(q) if q.chars().count() > max_chars || q.chars().any(char::is_control) => Err(
                Problem::invalid_parameter("q", msg::invalid_search_query(max_chars)),
            ),
            q => Ok(q),
        }
    }

    /// The item id to continue after, from the opaque `?cursor=`.
    pub fn cursor(&self) -> Result<Option<String>, Problem> {
        self.query("cursor").map(|c| decode_cursor(&c)).transpose()
    }

    /// The version from `If-Match` (`"3"`, `W/"3"` or `3`), if sent.
    pub fn if_match_version(&self) -> Result<Option<u64>, Problem> {
        let Some(raw) = self.header("if-match") else {
            return Ok(None);
        };
        let tag = raw.trim().trim_start_matches("W/").trim_matches('"');
        tag.parse::<u64>()
            .ok()
            .filter(|v| *v >= 1)
            .map(Some)
            .ok_or_else(|| Problem::invalid_parameter("If-Match", msg::INVALID_IF_MATCH))
    }
}

fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == JSON || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Cursors are opaque to clients; inside they carry the last item's id. They are checked on
/// the way back in, so a forged cursor cannot steer a query outside the caller's partition.
fn encode_cursor(after: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{after}"))
}

pub fn decode_cursor(cursor: &str) -> Result<String, Problem> {
    let invalid = || Problem::invalid_parameter("cursor", msg::INVALID_CURSOR);
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.as_bytes())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let id = text.strip_prefix("v1:").ok_or_else(invalid)?;
    if crate::routes::is_uuid(id) {
        Ok(id.to_string())
    } else {
        Err(invalid())
    }
}

/// A successful answer before it becomes an HTTP response.
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Reply {
            status: 200,
            body,
            headers: Vec::new(),
        }
    }

    pub fn created(body: Value, location: String) -> Self {
        Reply {
            status: 201,
            body,
            headers: vec![("location", location)],
        }
    }

    /// A page of a listing: its items as `view` shows them, and the cursor of the next page
    /// (`null` on the last).
    pub fn page<T>(page: Page<T>, view: impl Fn(&T) -> Value) -> Self {
        Reply::ok(json!({
            "items": page.items.iter().map(view).collect::<Vec<_>>(),
            "next_cursor": page.next_after.as_deref().map(encode_cursor),
        }))
    }

    /// A change that has nothing to answer with.
    pub fn no_content() -> Self {
        Reply {
            status: 204,
            body: Value::Null,
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

pub fn respond(result: Result<Reply, Problem>, lang: Lang) -> Response<Body> {
    match result {
        Ok(reply) if reply.status == 204 => {
            let mut response = build(204, JSON, &Value::Null, &reply.headers, lang);
            *response.body_mut() = Body::Empty;
            response.headers_mut().remove(header::CONTENT_TYPE);
            response
        }
        Ok(reply) => build(reply.status, JSON, &reply.body, &reply.headers, lang),
        Err(problem) => {
            log_server_error(&problem);
            problem_response(&problem, lang)
        }
    }
}

/// The one log line of a 5xx: its code and the cause the conversion kept. A 503 is a
/// dependency asking us to slow down (a warning); any other 5xx is an error.
fn log_server_error(problem: &Problem) {
    let cause = problem.cause.as_deref().unwrap_or("unknown");
    match problem.status {
        503 => tracing::warn!(
            status = problem.status,
            code = problem.code,
            cause,
            "request failed"
        ),
        500.. => {
            tracing::error!(
                status = problem.status,
                code = problem.code,
                cause,
                "request failed"
            )
        }
        _ => {}
    }
}

pub fn problem_response(problem: &Problem, lang: Lang) -> Response<Body> {
    build(
        problem.status,
        PROBLEM_JSON,
        &problem.to_json(lang),
        &problem.headers,
        lang,
    )
}

fn build(
    status: u16,
    content_type: &'static str,
    body: &Value,
    headers: &[(&'static str, String)],
    lang: Lang,
) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let map = response.headers_mut();
    map.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Answers are per user and may change at any moment; no shared cache should keep them.
    map.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    map.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.pick("nb", "en")),
    );
    map.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            map.insert(*name, value);
        }
    }
    response
}

/// An HTTP function's handler around its routing: the request read (caller, language), and
/// what `route` makes of it with the function's `app` answered in the caller's language.
/// Browsers send CORS preflights without a token; API Gateway's own CORS answer carries the
/// headers, so one that reaches a function only gets an empty 204 instead of a 401 or 405.
pub async fn serve<A>(
    req: Request,
    dev_identity_headers: bool,
    app: &A,
    route: impl AsyncFnOnce(&A, &Incoming) -> Result<Reply, Problem>,
) -> Response<Body> {
    if req.method() == lambda_http::http::Method::OPTIONS {
        return preflight();
    }
    let incoming = Incoming::new(req, dev_identity_headers);
    respond(route(app, &incoming).await, incoming.lang)
}

/// The answer to a CORS preflight that reaches a function: empty, 204.
fn preflight() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;
    use crate::runtime::test_log::LogBuffer;
    use crate::store::StoreError;

    /// The response's body and every line logged while answering.
    fn answered(result: Result<Reply, Problem>) -> (u16, String, String) {
        let buffer = LogBuffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        );
        let response = tracing::subscriber::with_default(subscriber, || respond(result, Lang::Nb));
        let body = match response.body() {
            Body::Text(text) => text.clone(),
            other => panic!("a text body, not {other:?}"),
        };
        let logged = buffer.contents();
        (response.status().as_u16(), body, logged)
    }

    #[test]
    fn a_server_errors_cause_is_logged_once_at_the_edge_and_never_sent() {
        let (status, body, logged) = answered(Err(Problem::from(StoreError::Backend(
            "table bookinglink-test not found".into(),
        ))));
        assert_eq!(status, 500);
        assert!(!body.contains("bookinglink-test"), "{body}");
        assert_eq!(logged.lines().count(), 1, "{logged}");
        assert!(logged.contains("ERROR"), "{logged}");
        assert!(logged.contains("code=\"internal_error\""), "{logged}");
        assert!(
            logged.contains("table bookinglink-test not found"),
            "{logged}"
        );
    }

    #[test]
    fn a_throttled_dependency_is_a_warning_and_a_client_error_logs_nothing() {
        let (status, _, logged) = answered(Err(Problem::from(StoreError::Throttled)));
        assert_eq!(status, 503);
        assert_eq!(logged.lines().count(), 1, "{logged}");
        assert!(logged.contains("WARN"), "{logged}");
        assert!(
            logged.contains("the store is throttling requests"),
            "{logged}"
        );

        let (status, _, logged) = answered(Err(Problem::not_found()));
        assert_eq!(status, 404);
        assert_eq!(logged, "");
    }
}
