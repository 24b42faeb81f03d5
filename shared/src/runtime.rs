//! Start-up shared by every function: logging and AWS configuration, done once per cold start.

use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::filter::{EnvFilter, FilterExt, filter_fn};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// Dependencies whose debug and trace output carries what must never be logged: the Lambda
/// runtime logs each raw event (the request body with an API key, the `Authorization` header)
/// at trace; the AWS SDK logs requests and responses whole (a `PutSecretValue`'s
/// `SecretString`, a `GetSecretValue` answer, signed headers with the session token); the HTTP
/// stacks below them log headers. Matched as prefixes of the event's target (its module path).
pub const CAPPED_TARGETS: &[&str] = &[
    "lambda_runtime",
    "lambda_http",
    "aws_",
    "hyper",
    "reqwest",
    "h2",
    "rustls",
    "tower",
];

/// The most verbose level [`CAPPED_TARGETS`] may log at, whatever `RUST_LOG` says.
pub const CAPPED_LEVEL: Level = Level::INFO;

fn within_cap(metadata: &Metadata<'_>) -> bool {
    // `Level` orders more verbose as greater: TRACE > DEBUG > INFO.
    *metadata.level() <= CAPPED_LEVEL
        || !CAPPED_TARGETS
            .iter()
            .any(|prefix| metadata.target().starts_with(prefix))
}

/// The JSON log layer every function uses: one object per line with the current span's fields
/// (the Lambda runtime's span carries the request id), filtered by `directives` (`RUST_LOG`
/// syntax) and, on top of them, by the cap on [`CAPPED_TARGETS`]. Both filters must let an
/// event through, so no directive (`trace`, `lambda_runtime=trace`) lifts the cap.
pub fn log_layer<S, W>(directives: &str, writer: W) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let directives = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .with_writer(writer)
        .with_filter(directives.and(filter_fn(within_cap)))
}

/// `RUST_LOG`, or `info` when unset.
pub fn log_directives() -> String {
    std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_string())
}

/// Logs to stdout (CloudWatch) through [`log_layer`] at `RUST_LOG`'s level.
pub fn init_logging() {
    let subscriber =
        tracing_subscriber::registry().with(log_layer(&log_directives(), std::io::stdout));
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// A required setting; its absence is a deployment mistake worth failing the cold start for.
pub fn required_env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("environment variable {name} must be set"))
}

/// The whole life of an HTTP function: logging, its dependencies built once per cold start
/// (a failure ends the start, so Lambda reports an init error), then every event answered by
/// `handle`. The dependencies live as long as the process, which is what lets `handle` borrow
/// them without a reference count.
pub async fn serve_http<A, H, F>(
    build: impl Future<Output = Result<A, String>>,
    handle: H,
) -> Result<(), lambda_http::Error>
where
    A: Sync + 'static,
    H: Fn(&'static A, lambda_http::Request) -> F + Copy + Send + 'static,
    F: Future<Output = lambda_http::Response<lambda_http::Body>> + Send,
{
    init_logging();
    let app: &'static A = Box::leak(Box::new(build.await?));
    lambda_http::run(lambda_http::service_fn(move |req| async move {
        Ok::<_, lambda_http::Error>(handle(app, req).await)
    }))
    .await
}

/// A limit setting: a whole number of at least 1, or `default` when it is not set.
pub fn limit_env(name: &str, default: u32) -> Result<u32, String> {
    limit_setting(name, std::env::var(name).ok().as_deref(), default)
}

/// [`limit_env`] of a value already read.
pub fn limit_setting(name: &str, value: Option<&str>, default: u32) -> Result<u32, String> {
    match value {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("{name} must be a positive whole number")),
    }
}

/// What a unit test logged, read back as text.
#[cfg(test)]
pub(crate) mod test_log {
    use std::sync::{Arc, Mutex};

    /// A log writer that keeps every line; clones share the lines.
    #[derive(Clone, Default)]
    pub(crate) struct LogBuffer(Arc<Mutex<Vec<u8>>>);

    impl LogBuffer {
        pub(crate) fn contents(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    impl std::io::Write for LogBuffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_log::LogBuffer;
    use super::*;

    fn logged_with(directives: &str) -> String {
        let buffer = LogBuffer::default();
        let writer = buffer.clone();
        let subscriber =
            tracing_subscriber::registry().with(log_layer(directives, move || writer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "lambda_runtime::layers::api_response", body = "raw-event-body", "raw JSON event received from Lambda");
            tracing::trace!(target: "aws_smithy_runtime::client::orchestrator", request = "SecretString=sdk-body", "transmitting request");
            tracing::debug!(target: "aws_sigv4::http_request::sign", canonical = "x-amz-security-token:session-token", "signing");
            tracing::trace!(target: "hyper_util::client::legacy::pool", "hyper-detail");
            tracing::trace!(target: "reqwest::connect", "reqwest-detail");
            tracing::info!(target: "lambda_runtime::runtime", "runtime-info");
            tracing::warn!(target: "aws_smithy_runtime::client::retries", "sdk-warning");
            tracing::trace!(target: "bookinglink::booking", "own-trace");
        });
        buffer.contents()
    }

    #[test]
    fn no_filter_lifts_the_cap_on_dependencies_that_log_bodies_and_credentials() {
        for directives in [
            "trace",
            "lambda_runtime=trace,aws_smithy_runtime=trace,aws_sigv4=trace,hyper_util=trace,reqwest=trace",
            "info,lambda_runtime::layers=trace",
        ] {
            let out = logged_with(directives);
            for hidden in [
                "raw-event-body",
                "sdk-body",
                "session-token",
                "hyper-detail",
                "reqwest-detail",
            ] {
                assert!(
                    !out.contains(hidden),
                    "{directives}: {hidden} logged: {out}"
                );
            }
            // What the cap lets through still arrives.
            assert!(out.contains("runtime-info"), "{directives}: {out}");
            assert!(out.contains("sdk-warning"), "{directives}: {out}");
        }
        // Our own code's trace output follows the filter as before.
        assert!(logged_with("trace").contains("own-trace"));
        assert!(!logged_with("info").contains("own-trace"));
        assert!(!logged_with("warn").contains("runtime-info"));
    }
}
