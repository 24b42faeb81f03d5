//! The AWS SDKs' configuration, shared by every service client of a function: settings from
//! Lambda's environment, one HTTP client ([`http_client`]), and service clients built on first use
//! ([`LazyClient`]).

pub mod http_client;

pub use aws_types::SdkConfig;

/// AWS configuration from the environment Lambda gives every function: `AWS_REGION` and the
/// execution role's credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`); `AWS_ENDPOINT_URL`, when set, points every service at the local
/// emulator. The HTTP client is [`http_client`]'s.
///
/// Deliberately not `aws-config`'s provider chain: on Lambda the credentials are always in the
/// environment, and the chain (profile files, SSO, IMDS, containers, web identity) only cost
/// start-up time and the STS/SSO SDKs in every binary. Running these functions somewhere whose
/// credentials come from elsewhere (SnapStart's container endpoint, an EC2 role) would need a
/// provider here. Missing settings fail the cold start with the variable's name.
pub fn config() -> Result<SdkConfig, String> {
    config_from(|name| std::env::var(name).ok())
}

fn config_from(env: impl Fn(&str) -> Option<String>) -> Result<SdkConfig, String> {
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
        .http_client(http_client::new());
    if let Some(endpoint) = var("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(endpoint);
    }
    Ok(config.build())
}

/// A service client built the first time a request needs it, for services only some requests
/// use (Secrets Manager when a key is stored or reused, SES when a mail is sent). Building an
/// SDK client parses its endpoint rules (~0.5 M instructions, measured with callgrind), a
/// cost a cold start should pay only for services it uses; DynamoDB, which every request
/// uses, is built at init. Clients built lazily share the function's HTTP connection pool.
/// Clones share one client.
pub struct LazyClient<C>(std::sync::Arc<std::sync::LazyLock<C, Box<dyn FnOnce() -> C + Send>>>);

impl<C> Clone for LazyClient<C> {
    fn clone(&self) -> Self {
        LazyClient(self.0.clone())
    }
}

impl<C> std::fmt::Debug for LazyClient<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyClient")
            .field("built", &self.is_built())
            .finish()
    }
}

impl<C: 'static> LazyClient<C> {
    pub fn on_first_use(config: &SdkConfig, build: fn(&SdkConfig) -> C) -> Self {
        let config = config.clone();
        LazyClient(std::sync::Arc::new(std::sync::LazyLock::new(Box::new(
            move || build(&config),
        ))))
    }
}

impl<C> LazyClient<C> {
    /// Whether a request has needed the client yet.
    pub fn is_built(&self) -> bool {
        std::sync::LazyLock::get(self.0.as_ref()).is_some()
    }
}

impl<C: Send + 'static> From<C> for LazyClient<C> {
    /// A client built already (tests hand in clients with their own interceptors).
    fn from(client: C) -> Self {
        let client =
            std::sync::LazyLock::new(Box::new(move || client) as Box<dyn FnOnce() -> C + Send>);
        std::sync::LazyLock::force(&client);
        LazyClient(std::sync::Arc::new(client))
    }
}

impl<C> std::ops::Deref for LazyClient<C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.0
    }
}

#[cfg(test)]
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
        let config = config_from(env(LAMBDA)).unwrap();
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
        let config = config_from(env(&[
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
    fn a_lazy_client_is_built_once_on_first_use_from_the_functions_config() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static BUILT: AtomicUsize = AtomicUsize::new(0);
        fn build(config: &SdkConfig) -> String {
            BUILT.fetch_add(1, Ordering::SeqCst);
            config.region().unwrap().to_string()
        }
        let config = config_from(env(LAMBDA)).unwrap();
        let client = LazyClient::on_first_use(&config, build);
        assert!(!client.is_built());
        assert_eq!(BUILT.load(Ordering::SeqCst), 0);
        assert_eq!(client.as_str(), "eu-north-1");
        assert_eq!(client.len(), 10);
        assert_eq!(BUILT.load(Ordering::SeqCst), 1);
        assert!(client.is_built());
        assert!(LazyClient::from("built".to_string()).is_built());
    }

    #[test]
    fn a_missing_setting_is_named() {
        for missing in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            let vars: Vec<_> = LAMBDA
                .iter()
                .copied()
                .map(|(k, v)| if k == missing { (k, " ") } else { (k, v) })
                .collect();
            let err = config_from(env(&vars)).unwrap_err();
            assert!(err.contains(missing), "{missing}: {err}");
        }
    }
}
