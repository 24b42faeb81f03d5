//! Start-up shared by every function: logging and AWS configuration, done once per cold start.

/// JSON logs, one object per line, with the current span's fields (the Lambda runtime's span
/// carries the request id). `RUST_LOG` sets the level; request bodies are never logged.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .try_init();
}

/// A required setting; its absence is a deployment mistake worth failing the cold start for.
pub fn required_env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("environment variable {name} must be set"))
}
