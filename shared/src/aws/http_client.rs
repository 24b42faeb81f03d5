//! The AWS SDK's HTTP client: reqwest, with the TLS configuration every outbound connection
//! shares ([`crate::tls`]).
//!
//! The SDK's own client (`default-https-client`) loads the system CA store whenever a service
//! client is built, which was most of our functions' cold start; its only other way to be told
//! what to trust is PEM text, parsed again for every service client (1.0–1.4 ms each, measured).
//! This one trusts the compiled-in roots and costs tens of microseconds to build. It does what
//! the SDK asks of an HTTP client and nothing more: honour the connect and read timeouts it
//! passes, keep one connection pool per timeout setting, never follow redirects or use a proxy,
//! and classify failures the way the SDK's client does, so that its retry strategy retries the
//! same things (timeouts, I/O errors, a pooled connection the server closed).

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;

/// The HTTP client every AWS service client of a function shares (through its `SdkConfig`).
pub fn new() -> SharedHttpClient {
    SharedHttpClient::new(AwsHttpClient::default())
}

type Timeouts = (Option<Duration>, Option<Duration>);

#[derive(Debug, Default)]
struct AwsHttpClient {
    /// One connector (one reqwest client and its pool) per connect/read timeout pair the SDK
    /// asks for. The SDK asks on every attempt, nearly always with the same pair.
    connectors: Mutex<Vec<(Timeouts, SharedHttpConnector)>>,
}

impl HttpClient for AwsHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let timeouts = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self
            .connectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, connector)) = connectors.iter().find(|(t, _)| *t == timeouts) {
            return connector.clone();
        }
        let connector = SharedHttpConnector::new(ReqwestConnector::new(timeouts));
        connectors.push((timeouts, connector.clone()));
        connector
    }
}

#[derive(Debug)]
struct ReqwestConnector {
    /// A client that could not be built answers every call with the reason.
    client: Result<reqwest::Client, String>,
}

impl ReqwestConnector {
    fn new((connect_timeout, read_timeout): Timeouts) -> Self {
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(crate::tls::client_config())
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if let Some(timeout) = connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        if let Some(timeout) = read_timeout {
            builder = builder.read_timeout(timeout);
        }
        ReqwestConnector {
            client: builder.build().map_err(|e| e.to_string()),
        }
    }
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = match &self.client {
            Ok(client) => client.clone(),
            Err(reason) => {
                let reason = format!("the HTTP client could not be built: {reason}");
                return HttpConnectorFuture::ready(Err(ConnectorError::other(reason.into(), None)));
            }
        };
        let request = match to_reqwest(request) {
            Ok(request) => request,
            Err(err) => return HttpConnectorFuture::ready(Err(ConnectorError::user(err))),
        };
        HttpConnectorFuture::new(async move {
            let response = client.execute(request).await.map_err(connector_error)?;
            let response = http::Response::from(response).map(SdkBody::from_body_1_x);
            HttpResponse::try_from(response).map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

fn to_reqwest(
    request: HttpRequest,
) -> Result<reqwest::Request, aws_smithy_runtime_api::box_error::BoxError> {
    let (parts, body) = request.try_into_http1x()?.into_parts();
    // Every request our functions make has its body in memory; a streaming one is passed on
    // as a stream.
    let body = match body.bytes() {
        Some(bytes) => reqwest::Body::from(bytes.to_vec()),
        None => reqwest::Body::wrap(body),
    };
    Ok(reqwest::Request::try_from(http::Request::from_parts(
        parts, body,
    ))?)
}

/// The classification the SDK's retry strategy acts on: timeouts and I/O errors are retried,
/// and so is a pooled connection that the server closed while the function was frozen between
/// invocations (hyper's "incomplete message"), as the SDK's own client does.
fn connector_error(err: reqwest::Error) -> ConnectorError {
    if err.is_timeout() {
        return ConnectorError::timeout(err.into());
    }
    if err.is_connect() {
        return ConnectorError::io(err.into());
    }
    if let Some(hyper_error) = find_source::<hyper::Error>(&err) {
        if hyper_error.is_incomplete_message() || hyper_error.is_closed() {
            return ConnectorError::other(err.into(), Some(ErrorKind::TransientError));
        }
        if hyper_error.is_user() {
            return ConnectorError::user(err.into());
        }
    }
    if find_source::<std::io::Error>(&err).is_some() {
        return ConnectorError::io(err.into());
    }
    ConnectorError::other(err.into(), None)
}

fn find_source<'a, E: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a E> {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(found) = err.downcast_ref::<E>() {
            return Some(found);
        }
        next = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    fn connector(settings: HttpConnectorSettings) -> SharedHttpConnector {
        let components = RuntimeComponentsBuilder::for_tests()
            .build()
            .expect("test runtime components");
        new().http_connector(&settings, &components)
    }

    fn post(url: &str, body: &'static str) -> HttpRequest {
        let request = http::Request::builder()
            .method("POST")
            .uri(url)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", "DynamoDB_20120810.GetItem")
            .body(SdkBody::from(body))
            .unwrap();
        HttpRequest::try_from(request).unwrap()
    }

    /// A request that gets no answer: the connector's error.
    async fn failed_call(
        settings: HttpConnectorSettings,
        url: &str,
        body: &'static str,
    ) -> ConnectorError {
        connector(settings).call(post(url, body)).await.unwrap_err()
    }

    /// A one-connection HTTP server on loopback: reads one request, hands it to the test, then
    /// writes `answer` (or closes the connection when it is `None`).
    async fn server(answer: Option<&'static str>) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            // Headers, then the body its content-length announces.
            loop {
                let n = socket.read(&mut buf).await.unwrap();
                seen.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&seen).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if seen.len() >= end + 4 + length || n == 0 {
                        break;
                    }
                }
            }
            if let Some(answer) = answer {
                socket.write_all(answer.as_bytes()).await.unwrap();
            }
            String::from_utf8_lossy(&seen).to_string()
        });
        (url, task)
    }

    #[tokio::test]
    async fn a_request_and_its_answer_pass_through_unchanged() {
        let (url, server) = server(Some(
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-requestid: R1\r\ncontent-length: 17\r\n\r\n{\"__type\":\"nope\"}",
        ))
        .await;
        let response = connector(HttpConnectorSettings::builder().build())
            .call(post(&url, "{\"TableName\":\"t\"}"))
            .await
            .expect("an answer, even an error status, is a response");
        assert_eq!(response.status().as_u16(), 400);
        assert_eq!(response.headers().get("x-amzn-requestid"), Some("R1"));
        assert_eq!(
            response.body().bytes(),
            None,
            "the body arrives as a stream"
        );
        let body = aws_smithy_types::byte_stream::ByteStream::new(response.into_body())
            .collect()
            .await
            .unwrap()
            .into_bytes();
        assert_eq!(&body[..], b"{\"__type\":\"nope\"}");

        let seen = server.await.unwrap().to_ascii_lowercase();
        assert!(seen.starts_with("post / http/1.1\r\n"), "{seen}");
        assert!(
            seen.contains("x-amz-target: dynamodb_20120810.getitem\r\n"),
            "{seen}"
        );
        assert!(seen.contains("content-length: 17\r\n"), "{seen}");
        assert!(seen.ends_with("{\"tablename\":\"t\"}"), "{seen}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_io_error_the_sdk_retries() {
        // Bind and drop to find a port nobody listens on.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        drop(listener);
        let err = failed_call(HttpConnectorSettings::builder().build(), &url, "{}").await;
        assert!(err.is_io(), "{err:?}");
    }

    #[tokio::test]
    async fn a_connection_closed_without_an_answer_is_retried() {
        let (url, _server) = server(None).await;
        let err = failed_call(HttpConnectorSettings::builder().build(), &url, "{}").await;
        assert!(
            err.is_io() || err.as_other() == Some(ErrorKind::TransientError),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn the_read_timeout_the_sdk_asks_for_is_honoured() {
        // Accepts and reads, never answers.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let _server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            while socket.read(&mut buf).await.unwrap_or(0) > 0 {}
        });
        let settings = HttpConnectorSettings::builder()
            .read_timeout(Duration::from_millis(200))
            .build();
        let err = failed_call(settings, &url, "{}").await;
        assert!(err.is_timeout(), "{err:?}");
    }

    #[tokio::test]
    async fn an_endpoint_whose_certificate_no_root_vouches_for_gets_nothing() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "https://localhost:{}/",
            listener.local_addr().unwrap().port()
        );
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut tls = rustls::ServerConnection::new(std::sync::Arc::new(
                crate::tls::self_signed_server("localhost"),
            ))
            .unwrap();
            // Fails when the client aborts the handshake; the request never arrives.
            let mut stream = rustls::Stream::new(&mut tls, &mut socket);
            let mut buf = [0u8; 1024];
            std::io::Read::read(&mut stream, &mut buf).map(|_| buf)
        });
        let err = failed_call(
            HttpConnectorSettings::builder().build(),
            &url,
            "{\"secret\":\"not sent\"}",
        )
        .await;
        assert!(
            format!("{err:?}").contains("UnknownIssuer"),
            "refused for its certificate: {err:?}"
        );
        assert!(
            server.join().unwrap().is_err(),
            "the server read no request"
        );
    }

    #[test]
    fn one_connector_per_timeout_setting_so_service_clients_share_a_pool() {
        let client = AwsHttpClient::default();
        let components = RuntimeComponentsBuilder::for_tests().build().unwrap();
        let a = HttpConnectorSettings::builder()
            .connect_timeout(Duration::from_millis(3100))
            .build();
        let b = HttpConnectorSettings::builder()
            .connect_timeout(Duration::from_secs(1))
            .build();
        client.http_connector(&a, &components);
        client.http_connector(&a, &components);
        client.http_connector(&b, &components);
        assert_eq!(client.connectors.lock().unwrap().len(), 2);
    }
}
