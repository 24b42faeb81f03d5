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

#[cfg(feature = "aws")]
pub use aws_types::SdkConfig;

/// AWS configuration from the environment Lambda gives every function: `AWS_REGION` and the
/// execution role's credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`); `AWS_ENDPOINT_URL`, when set, points every service at the local
/// emulator. The HTTP client is [`crate::aws_http`]'s.
///
/// Deliberately not `aws-config`'s provider chain: on Lambda the credentials are always in the
/// environment, and the chain (profile files, SSO, IMDS, containers, web identity) only cost
/// start-up time and the STS/SSO SDKs in every binary. Running these functions somewhere whose
/// credentials come from elsewhere (SnapStart's container endpoint, an EC2 role) would need a
/// provider here. Missing settings fail the cold start with the variable's name.
#[cfg(feature = "aws")]
pub fn aws_config() -> Result<SdkConfig, String> {
    aws_config_from(|name| std::env::var(name).ok())
}

#[cfg(feature = "aws")]
fn aws_config_from(env: impl Fn(&str) -> Option<String>) -> Result<SdkConfig, String> {
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
    use aws_types::region::Region;

    let var = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    let required =
        |name: &str| var(name).ok_or_else(|| format!("environment variable {name} must be set"));
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .ok_or("environment variable AWS_REGION must be set")?;
    let credentials = Credentials::new(
        required("AWS_ACCESS_KEY_ID")?,
        required("AWS_SECRET_ACCESS_KEY")?,
        var("AWS_SESSION_TOKEN"),
        None,
        "environment",
    );
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(crate::aws_http::http_client());
    if let Some(endpoint) = var("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(endpoint);
    }
    Ok(config.build())
}

/// A required setting; its absence is a deployment mistake worth failing the cold start for.
pub fn required_env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("environment variable {name} must be set"))
}

#[cfg(all(test, feature = "aws"))]
mod tests {
    use super::*;
    use aws_credential_types::provider::ProvideCredentials;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    const LAMBDA: &[(&str, &str)] = &[
        ("AWS_REGION", "eu-north-1"),
        ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", "token"),
    ];

    #[tokio::test]
    async fn lambdas_environment_gives_region_role_credentials_and_aws_endpoints() {
        let config = aws_config_from(env(LAMBDA)).unwrap();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-north-1"));
        assert_eq!(config.endpoint_url(), None);
        assert!(config.http_client().is_some());
        let credentials = config
            .credentials_provider()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(credentials.access_key_id(), "ASIAEXAMPLE");
        assert_eq!(credentials.secret_access_key(), "secret");
        assert_eq!(credentials.session_token(), Some("token"));
    }

    #[test]
    fn the_emulators_endpoint_and_the_default_region_are_taken_when_set() {
        let config = aws_config_from(env(&[
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
        ]))
        .unwrap();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:4566"));
    }

    #[test]
    fn a_missing_setting_is_named() {
        for missing in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            let vars: Vec<_> = LAMBDA
                .iter()
                .copied()
                .map(|(k, v)| if k == missing { (k, " ") } else { (k, v) })
                .collect();
            let err = aws_config_from(env(&vars)).unwrap_err();
            assert!(err.contains(missing), "{missing}: {err}");
        }
    }
}
