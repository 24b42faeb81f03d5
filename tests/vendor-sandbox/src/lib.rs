//! A stand-in for every booking-system vendor, on loopback only. Documented test credentials
//! succeed; other values produce each failure the adapters must explain (see
//! `docs/vendor-sandbox.md`). Paths are `/{system id}/...` followed by the vendor's own path,
//! which is what the adapters call when `VENDOR_SANDBOX_URL` is set.
//!
//! Independent of the `bookinglink` crate on purpose: it encodes the vendors' protocols as
//! documented, so it tests the adapters rather than mirroring them.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited, combinators::BoxBody};
use hyper::body::{Body, Frame, Incoming};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, LOCATION};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Keys shared by every system that takes one.
pub const KEY_OK: &str = "sandbox-key-ok";
pub const KEY_500: &str = "sandbox-key-500";
pub const KEY_SLOW: &str = "sandbox-key-slow";
pub const KEY_MALFORMED: &str = "sandbox-key-malformed";
pub const KEY_REDIRECT: &str = "sandbox-key-redirect";
pub const KEY_HUGE: &str = "sandbox-key-huge";
/// Unconfirmed-contract systems only: the clinic is found, then the calendar request fails.
pub const KEY_CALENDARS_500: &str = "sandbox-key-calendars-500";
/// EG Pasientsky only: a 200 whose body is an error (EG documents no error answers).
pub const KEY_200_ERROR: &str = "sandbox-key-200-error";
/// EG Pasientsky only: a 400 with an error body.
pub const KEY_400: &str = "sandbox-key-400";
/// EasyPractice only: a real token created without the scope `calendars-read` (403).
pub const KEY_NO_SCOPE: &str = "sandbox-key-no-scope";

/// EG Pasientsky clinic ids.
pub const PASIENTSKY_CLINIC_OK: &str = "00000000-0000-4000-8000-000000000001";
pub const PASIENTSKY_CLINIC_NO_CALENDARS: &str = "00000000-0000-4000-8000-000000000002";
pub const PASIENTSKY_CLINIC_UNKNOWN: &str = "00000000-0000-4000-8000-000000000404";
/// Answers 200 with an error body that says 404.
pub const PASIENTSKY_CLINIC_ERROR_BODY: &str = "00000000-0000-4000-8000-000000000e04";
/// EG Pasientsky departments: UUIDs, written in lower case in EG's answers.
pub const PASIENTSKY_DEPT_OK: &str = "00000000-0000-4000-8000-0000000000d1";
pub const PASIENTSKY_DEPT_OTHER: &str = "00000000-0000-4000-8000-0000000000d2";
pub const PASIENTSKY_DEPT_UNKNOWN: &str = "00000000-0000-4000-8000-0000000000d9";

/// Clinic ids for Physica, Psykbase, HANO and Konfidens.
pub const CLINIC_OK: &str = "clinic-ok";
pub const CLINIC_NO_CALENDARS: &str = "clinic-no-calendars";
pub const CLINIC_UNKNOWN: &str = "clinic-unknown";

/// Departments of the contract systems: `dept-ok` owns an open calendar; `dept-closed` exists
/// with no calendar open for online booking; `dept-unknown` exists nowhere.
pub const DEPT_OK: &str = "dept-ok";
pub const DEPT_CLOSED: &str = "dept-closed";
pub const DEPT_UNKNOWN: &str = "dept-unknown";

/// Where the redirect scenario points: the cloud metadata service.
pub const REDIRECT_TARGET: &str = "http://169.254.169.254/latest/meta-data/";
/// Bigger than any adapter accepts (256 KiB).
pub const HUGE_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Added before every answer (benchmarks).
    pub latency: Duration,
    /// How long the slow scenario waits; longer than the adapters' default deadline (8 s).
    pub slow: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            latency: Duration::ZERO,
            slow: Duration::from_secs(12),
        }
    }
}

/// A running sandbox on the current Tokio runtime; stops when dropped.
pub struct Sandbox {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Sandbox {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the value for `VENDOR_SANDBOX_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves until the process ends (the binary's main loop).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the sandbox on `127.0.0.1:port` (0 picks a free port) on the current runtime.
pub async fn start(port: u16, options: Options) -> io::Result<Sandbox> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let service = service_fn(move |req| handle(req, options));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(Sandbox { addr, task })
}

/// Starts a sandbox on its own thread and runtime that lives until the process exits, and
/// returns its URL. For test binaries: one sandbox shared by every `#[tokio::test]`, each of
/// which has its own short-lived runtime.
pub fn start_background(options: Options) -> io::Result<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("vendor-sandbox".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                match start(0, options).await {
                    Ok(sandbox) => {
                        let _ = tx.send(Ok(sandbox.url()));
                        sandbox.wait().await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        })?;
    rx.recv()
        .map_err(|_| io::Error::other("sandbox thread ended"))?
}

/// The one sandbox of a test process (started by the first caller, with no added latency and
/// `slow` for its slow scenarios), so every test of a binary talks to the same server.
pub fn shared(slow: Duration) -> &'static str {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        start_background(Options {
            latency: Duration::ZERO,
            slow,
        })
        .expect("start the vendor sandbox")
    })
}

type Reply = Response<BoxBody<Bytes, Infallible>>;

async fn handle(req: Request<Incoming>, options: Options) -> Result<Reply, Infallible> {
    if !options.latency.is_zero() {
        tokio::time::sleep(options.latency).await;
    }
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let bearer = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let body = match Limited::new(req.into_body(), 64 * 1024).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            return Ok(json_reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"error": "too large"}),
            ));
        }
    };
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let answer = match (&method, segments.as_slice()) {
        (&Method::POST, ["pasientsky", clinic, "search"]) => pasientsky_search(clinic, &body),
        (&Method::GET, ["easypractice", "api", "v1", "bookings"]) => {
            easypractice_bookings(bearer.as_deref(), &query)
        }
        (&Method::GET, ["extensor", .., scenario]) => extensor(scenario),
        (&Method::GET, [system, "v1", "clinics", clinic, rest @ ..])
            if ["physica", "psykbase", "hano", "konfidens"].contains(system) =>
        {
            contract(bearer.as_deref(), clinic, rest, &query)
        }
        _ => Answer::Json(StatusCode::NOT_FOUND, json!({"error": "no such endpoint"})),
    };
    Ok(answer.into_reply(options).await)
}

/// What a handler decided, before the slow scenario's wait.
#[derive(Debug)]
enum Answer {
    Json(StatusCode, Value),
    Html(StatusCode, &'static str),
    Malformed,
    Redirect,
    /// `declared`: with a Content-Length; otherwise streamed in chunks without one.
    Huge {
        declared: bool,
    },
    Slow(Box<Answer>),
}

impl Answer {
    async fn into_reply(self, options: Options) -> Reply {
        match self {
            Answer::Json(status, value) => json_reply(status, value),
            Answer::Html(status, page) => {
                let mut reply = raw_reply(status, page);
                reply.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
                reply
            }
            Answer::Malformed => raw_reply(StatusCode::OK, r#"{"data": {"calendars": [{"id": "#),
            Answer::Redirect => {
                let mut reply = raw_reply(StatusCode::FOUND, "");
                reply
                    .headers_mut()
                    .insert(LOCATION, HeaderValue::from_static(REDIRECT_TARGET));
                reply
            }
            Answer::Huge { declared: true } => {
                let mut body = Vec::with_capacity(HUGE_BODY_BYTES + 16);
                body.extend_from_slice(b"{\"padding\":\"");
                body.resize(HUGE_BODY_BYTES, b'x');
                body.extend_from_slice(b"\"}");
                let mut reply = Response::new(Full::new(Bytes::from(body)).boxed());
                reply
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                reply
            }
            Answer::Huge { declared: false } => {
                let mut reply = Response::new(
                    Chunks {
                        remaining: HUGE_BODY_BYTES,
                    }
                    .boxed(),
                );
                reply
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                reply
            }
            Answer::Slow(inner) => {
                tokio::time::sleep(options.slow).await;
                Box::pin(inner.into_reply(options)).await
            }
        }
    }
}

fn json_reply(status: StatusCode, value: Value) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(value.to_string())).boxed());
    *reply.status_mut() = status;
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reply
}

fn raw_reply(status: StatusCode, body: &'static str) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from_static(body.as_bytes())).boxed());
    *reply.status_mut() = status;
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reply
}

/// A body of unknown length, so the client cannot refuse it from the headers alone and has to
/// stop reading by itself.
struct Chunks {
    remaining: usize,
}

impl Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        static CHUNK: [u8; 16 * 1024] = [b' '; 16 * 1024];
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let n = self.remaining.min(CHUNK.len());
        self.remaining -= n;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&CHUNK[..n])))))
    }
}

/// The failures every key-taking vendor can be asked for, by key.
fn key_scenario(key: &str, ok: impl FnOnce() -> Answer) -> Option<Answer> {
    Some(match key {
        KEY_500 => Answer::Json(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "internal error"}),
        ),
        KEY_SLOW => Answer::Slow(Box::new(ok())),
        KEY_MALFORMED => Answer::Malformed,
        KEY_REDIRECT => Answer::Redirect,
        KEY_HUGE => Answer::Huge { declared: false },
        _ => return None,
    })
}

fn unauthorized() -> Answer {
    Answer::Json(
        StatusCode::UNAUTHORIZED,
        json!({"error": "invalid api key"}),
    )
}

/// `POST /{clinicId}/search` of the EG Pasientsky partner API. Our assumption about its errors:
/// the key is checked first (401), then the clinic (404).
fn pasientsky_search(clinic: &str, body: &[u8]) -> Answer {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return Answer::Json(StatusCode::BAD_REQUEST, json!({"error": "invalid json"}));
    };
    let from = request["dateRange"]["from"].as_str();
    let to = request["dateRange"]["to"].as_str();
    if from.is_none() || to.is_none() {
        return Answer::Json(
            StatusCode::BAD_REQUEST,
            json!({"error": "dateRange required"}),
        );
    }
    let key = request["apikey"].as_str().unwrap_or("");
    let calendars = |clinic: &str| match clinic {
        PASIENTSKY_CLINIC_OK => json!([
            {"id": "cal-1", "name": "Fysioterapeut Hansen", "ownedByDepartment": PASIENTSKY_DEPT_OK,
             "containsSelectedTimeslotTypes": true, "sortingPosition": 1},
            {"id": "cal-2", "name": "Manuellterapeut Berg", "ownedByDepartment": PASIENTSKY_DEPT_OTHER,
             "containsSelectedTimeslotTypes": true, "sortingPosition": 2}
        ]),
        _ => json!([]),
    };
    let found = |clinic: &str| {
        Answer::Json(
            StatusCode::OK,
            json!({"data": {
                "calendars": calendars(clinic),
                "dateSlots": [{"date": from, "availableSlots": 3}],
                "timeslotTypes": [],
                "timeslots": []
            }}),
        )
    };
    if let Some(answer) = key_scenario(key, || found(PASIENTSKY_CLINIC_OK)) {
        return answer;
    }
    // EG's docs give no error answers; these are shapes they allow.
    match key {
        KEY_OK => {}
        KEY_200_ERROR => {
            return Answer::Json(
                StatusCode::OK,
                json!({"success": false, "error": {"message": "Invalid apikey"}}),
            );
        }
        KEY_400 => {
            return Answer::Json(StatusCode::BAD_REQUEST, json!({"error": "apikey: invalid"}));
        }
        _ => return unauthorized(),
    }
    match clinic {
        PASIENTSKY_CLINIC_OK | PASIENTSKY_CLINIC_NO_CALENDARS => found(clinic),
        PASIENTSKY_CLINIC_ERROR_BODY => Answer::Json(
            StatusCode::OK,
            json!({"error": {"code": 404, "message": "Clinic not found"}}),
        ),
        _ => Answer::Json(StatusCode::NOT_FOUND, json!({"error": "clinic not found"})),
    }
}

/// `GET /api/v1/bookings?start=…&end=…` of EasyPractice's public API.
fn easypractice_bookings(bearer: Option<&str>, query: &str) -> Answer {
    let ok = || Answer::Json(StatusCode::OK, json!({"data": [], "meta": {"total": 0}}));
    if let Some(answer) = key_scenario(bearer.unwrap_or(""), ok) {
        return answer;
    }
    if bearer == Some(KEY_NO_SCOPE) {
        // A real token whose scopes do not include `calendars-read`.
        return Answer::Json(
            StatusCode::FORBIDDEN,
            json!({"message": "Invalid scope(s) provided."}),
        );
    }
    if bearer != Some(KEY_OK) {
        return Answer::Json(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Unauthenticated."}),
        );
    }
    if !query.contains("start=") || !query.contains("end=") {
        return Answer::Json(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": "start and end are required"}),
        );
    }
    ok()
}

/// An Extensor booking page: HTML, as a browser gets it. The last path segment picks the
/// scenario.
fn extensor(scenario: &str) -> Answer {
    let page = Answer::Html(StatusCode::OK, EXTENSOR_PAGE);
    match scenario {
        "ok" => page,
        "gone" => Answer::Html(StatusCode::GONE, EXTENSOR_NOT_FOUND_PAGE),
        "500" => Answer::Html(StatusCode::INTERNAL_SERVER_ERROR, "<h1>Server error</h1>"),
        "slow" => Answer::Slow(Box::new(page)),
        "redirect" => Answer::Redirect,
        // With a Content-Length, unlike the chunked answer the key scenarios give.
        "huge" => Answer::Huge { declared: true },
        _ => Answer::Html(StatusCode::NOT_FOUND, EXTENSOR_NOT_FOUND_PAGE),
    }
}

const EXTENSOR_PAGE: &str = "<!doctype html><html lang=\"nb\"><head><meta charset=\"utf-8\">\
<title>Bestill time - Sandbox Fysio</title></head><body><h1>Bestill time</h1>\
<form><select name=\"behandler\"><option>Behandler 1</option></select></form></body></html>";

const EXTENSOR_NOT_FOUND_PAGE: &str = "<!doctype html><html><head><title>Siden finnes ikke</title>\
</head><body><h1>404</h1><p>Siden finnes ikke.</p></body></html>";

/// Bookinglink's proposed contract (Physica, Psykbase, HANO, Konfidens).
fn contract(bearer: Option<&str>, clinic: &str, rest: &[&str], query: &str) -> Answer {
    let key = bearer.unwrap_or("");
    let departments = match clinic {
        CLINIC_OK => {
            json!([{"id": DEPT_OK, "name": "Sentrum"}, {"id": DEPT_CLOSED, "name": "Vest"}])
        }
        _ => json!([{"id": DEPT_OK, "name": "Sentrum"}]),
    };
    let clinic_answer = || {
        Answer::Json(
            StatusCode::OK,
            json!({"id": clinic, "name": "Sandbox-klinikken", "departments": departments}),
        )
    };
    match rest {
        [] => {
            if let Some(answer) = key_scenario(key, clinic_answer) {
                return answer;
            }
            if key != KEY_OK && key != KEY_CALENDARS_500 {
                return unauthorized();
            }
            match clinic {
                CLINIC_OK | CLINIC_NO_CALENDARS => clinic_answer(),
                _ => Answer::Json(StatusCode::NOT_FOUND, json!({"error": "clinic not found"})),
            }
        }
        ["calendars"] => {
            if key == KEY_CALENDARS_500 {
                return Answer::Json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "internal"}),
                );
            }
            if key != KEY_OK {
                return unauthorized();
            }
            let all = match clinic {
                CLINIC_OK => vec![
                    json!({"id": "cal-1", "name": "Behandler 1", "departmentId": DEPT_OK, "onlineBooking": true}),
                    json!({"id": "cal-2", "name": "Behandler 2", "departmentId": DEPT_CLOSED, "onlineBooking": false}),
                ],
                CLINIC_NO_CALENDARS => vec![
                    json!({"id": "cal-1", "name": "Behandler 1", "departmentId": DEPT_OK, "onlineBooking": false}),
                ],
                _ => {
                    return Answer::Json(
                        StatusCode::NOT_FOUND,
                        json!({"error": "clinic not found"}),
                    );
                }
            };
            let department = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("departmentId="))
                .map(percent_decode);
            let calendars: Vec<Value> = all
                .into_iter()
                .filter(|c| department.as_deref().is_none_or(|d| c["departmentId"] == d))
                .collect();
            Answer::Json(StatusCode::OK, json!({"calendars": calendars}))
        }
        _ => Answer::Json(StatusCode::NOT_FOUND, json!({"error": "no such endpoint"})),
    }
}

fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Fb%3f"), "a/b?");
        assert_eq!(percent_decode("dept%"), "dept%");
        assert_eq!(percent_decode("x%4"), "x%4");
    }

    #[test]
    fn pasientsky_checks_the_key_before_the_clinic() {
        let body = |key: &str| {
            json!({"apikey": key, "dateRange": {"from": "2026-01-01", "to": "2026-01-08"}})
                .to_string()
                .into_bytes()
        };
        let status = |a: Answer| match a {
            Answer::Json(s, _) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            status(pasientsky_search(PASIENTSKY_CLINIC_UNKNOWN, &body("x"))),
            401
        );
        assert_eq!(
            status(pasientsky_search(PASIENTSKY_CLINIC_UNKNOWN, &body(KEY_OK))),
            404
        );
        assert_eq!(
            status(pasientsky_search(PASIENTSKY_CLINIC_OK, &body(KEY_OK))),
            200
        );
        assert_eq!(status(pasientsky_search(PASIENTSKY_CLINIC_OK, b"{}")), 400);
    }
}
