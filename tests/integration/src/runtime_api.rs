//! A local Lambda Runtime API (the `2018-06-01` interface a function's runtime polls), so a
//! test can run a function the way Lambda does: through `lambda_runtime`'s own loop and
//! layers, not by calling its handler.
//!
//! The runtime finds the API through `AWS_LAMBDA_RUNTIME_API`, read once when it starts; set it
//! to [`RuntimeApi::host`] just before starting one.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

type Pending = (Value, oneshot::Sender<Value>);

struct Shared {
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Value>>>,
}

/// Serves invocations one at a time to whichever runtime polls it.
pub struct RuntimeApi {
    addr: SocketAddr,
    events: mpsc::UnboundedSender<Pending>,
    task: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the runtime API");
        let addr = listener.local_addr().unwrap();
        let (events, queue) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queue: tokio::sync::Mutex::new(queue),
            waiting: Mutex::new(HashMap::new()),
        });
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| serve(shared.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        RuntimeApi { addr, events, task }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Hands `event` to the next poll and waits for the function's answer (its response
    /// payload, or its error document).
    pub async fn invoke(&self, event: Value) -> Value {
        let (tx, rx) = oneshot::channel();
        self.events.send((event, tx)).expect("the runtime API runs");
        tokio::time::timeout(Duration::from_secs(60), rx)
            .await
            .expect("the function answered within a minute")
            .expect("the runtime API kept the invocation")
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

async fn serve(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    if path.ends_with("/runtime/invocation/next") {
        let Some((event, answer)) = shared.queue.lock().await.recv().await else {
            return Ok(reply(StatusCode::GONE, ""));
        };
        let id = uuid::Uuid::new_v4().to_string();
        shared.waiting.lock().unwrap().insert(id.clone(), answer);
        // Lambda's longest timeout, so a function that plans by its deadline may do its all.
        let deadline = SystemTime::now() + Duration::from_secs(900);
        let deadline_ms = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis();
        let mut response = reply(StatusCode::OK, event.to_string());
        let headers = response.headers_mut();
        headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
        headers.insert(
            "lambda-runtime-deadline-ms",
            deadline_ms.to_string().parse().unwrap(),
        );
        headers.insert(
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:eu-north-1:123456789012:function:local"
                .parse()
                .unwrap(),
        );
        headers.insert(
            "lambda-runtime-trace-id",
            "Root=1-00000000-000000000000000000000000".parse().unwrap(),
        );
        return Ok(response);
    }
    // `/runtime/invocation/{id}/response` or `/runtime/invocation/{id}/error`.
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    if parts.len() >= 2 {
        let id = parts[parts.len() - 2].to_string();
        let body = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
        if let Some(answer) = shared.waiting.lock().unwrap().remove(&id) {
            let _ = answer.send(value);
            return Ok(reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#));
        }
    }
    Ok(reply(StatusCode::NOT_FOUND, ""))
}
