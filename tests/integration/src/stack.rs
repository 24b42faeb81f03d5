//! Every function of the API on one fresh table, built the way each function's `App::from_env`
//! builds it, and one `send` that sends a request to the function the route table names (as
//! API Gateway does, unknown routes to `locations`, the `$default` route).
//!
//! In Lambda a function takes each dependency from [`bookinglink::wiring::Wiring`]: its store,
//! key store, mailer, vendors and clock. Here each function gets the same pieces from
//! [`FunctionEnv`], with the tests' choices: clients that may do only what the function's role
//! grants (or that record every call), a clock the test moves, a mailer that records.

use std::sync::Arc;
use std::time::Duration;

use bookinglink::aws::SdkConfig;
use bookinglink::booking::BookingDeps;
use bookinglink::booking::key_store::LocationKeys;
use bookinglink::booking::key_store::aws::SecretsManager;
use bookinglink::clock::{Clock, SystemClock};
use bookinglink::mail::{Mailer, RecordingMailer};
use bookinglink::store::dynamo::DynamoStore;
use bookinglink::vendors::{VendorCheck, Vendors, VendorsConfig};

use crate::permissions::{guarded_dynamodb, guarded_secretsmanager};
use crate::round_trips::{CallLog, counted_dynamodb, counted_secretsmanager};
use lambda_http::Request;

use crate::{Answer, emulator_config, fresh_table};

/// The vendor adapters against the in-process sandbox, with `deadline` for each check.
pub fn sandbox_vendors(deadline: Duration) -> Vendors {
    sandbox_vendors_at(vendor_sandbox::shared(Duration::from_secs(5)), deadline)
}

/// The vendor adapters against the sandbox at `url` (one a test started with options of its
/// own), with `deadline` for each check.
pub fn sandbox_vendors_at(url: &str, deadline: Duration) -> Vendors {
    Vendors::new(VendorsConfig::sandbox(url, deadline)).expect("the sandbox's settings")
}

/// How the functions' AWS clients are made.
pub enum Clients {
    /// Each function's clients may do only what its role in the SAM template grants.
    Guarded,
    /// Every call is recorded in the log.
    Counted(CallLog),
}

/// The choices a test makes; everything else is as in Lambda.
pub struct StackBuilder {
    clients: Clients,
    clock: Arc<dyn Clock>,
    vendors: Option<Arc<dyn VendorCheck>>,
    mail: Arc<dyn Mailer>,
    invitations: Arc<dyn Mailer>,
    secret_prefix: String,
    admin_app_url: String,
}

/// The functions, and the table's own unlimited client for the tests' set-up and reading back.
pub struct Stack {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
    pub store: Arc<DynamoStore>,
    pub locations: locations::App,
    pub details: request_details::App,
    pub test: test_connection::App,
    pub save: test_and_save::App,
    pub admins: admins::App,
}

impl Stack {
    /// Guarded clients, the system clock, the sandbox's vendors (3 s each check) on that
    /// clock, recording mailers, and secrets under a prefix of the stack's own.
    pub fn builder() -> StackBuilder {
        StackBuilder {
            clients: Clients::Guarded,
            clock: Arc::new(SystemClock),
            vendors: None,
            mail: Arc::new(RecordingMailer::new()),
            invitations: Arc::new(RecordingMailer::new()),
            secret_prefix: format!("test-{}/", uuid::Uuid::new_v4()),
            admin_app_url: "https://admin.bookinglink.no/".into(),
        }
    }

    /// Sends the request to the function the route table names for it (by the path the
    /// handlers route on).
    pub async fn send(&self, request: Request) -> Answer {
        let function =
            bookinglink::routes::resolve(request.method().as_str(), request.uri().path())
                .map(|m| m.route.function)
                .unwrap_or("locations");
        let response = match function {
            "request-details" => request_details::handle(&self.details, request).await,
            "test-connection" => test_connection::handle(&self.test, request).await,
            "test-and-save" => test_and_save::handle(&self.save, request).await,
            "admins" => admins::handle(&self.admins, request).await,
            _ => locations::handle(&self.locations, request).await,
        };
        Answer::from(response)
    }
}

impl StackBuilder {
    pub fn clients(mut self, clients: Clients) -> Self {
        self.clients = clients;
        self
    }

    /// The functions' clock (and the default vendors').
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn vendors(mut self, vendors: Arc<dyn VendorCheck>) -> Self {
        self.vendors = Some(vendors);
        self
    }

    /// "Forespør detaljer"'s mailer.
    pub fn mail(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mail = mailer;
        self
    }

    /// The invitations' mailer (`admins`).
    pub fn invitations(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.invitations = mailer;
        self
    }

    pub fn admin_app_url(mut self, url: &str) -> Self {
        self.admin_app_url = url.to_string();
        self
    }

    /// Every function on a fresh table.
    pub async fn build(self) -> Stack {
        let (client, table) = fresh_table().await;
        let config = emulator_config().await;
        let vendors = self.vendors.clone().unwrap_or_else(|| {
            Arc::new(sandbox_vendors(Duration::from_secs(3)).with_clock(self.clock.clone()))
        });
        let env = |function| FunctionEnv {
            stack: &self,
            config: &config,
            table: &table,
            function,
        };
        let booking = |function| {
            let env = env(function);
            let store = env.store();
            BookingDeps {
                store: store.clone(),
                attempts: store,
                keys: LocationKeys {
                    store: env.key_store(),
                    prefix: self.secret_prefix.clone(),
                },
                vendors: vendors.clone(),
                clock: env.clock(),
            }
        };
        let locations = env("locations");
        let details = env("request-details");
        let admins = env("admins");
        let admin_store = admins.store();
        Stack {
            locations: locations::App {
                store: locations.store(),
                clock: locations.clock(),
                dev_identity_headers: false,
                max_locations_per_company: bookinglink::domain::locations::DEFAULT_MAX_PER_COMPANY,
            },
            details: request_details::App {
                store: details.store(),
                mailer: self.mail.clone(),
                clock: details.clock(),
                dev_identity_headers: false,
                limits: bookinglink::domain::request_details::SendLimits::default(),
            },
            test: test_connection::App {
                deps: booking("test-connection"),
                dev_identity_headers: false,
            },
            save: test_and_save::App {
                deps: booking("test-and-save"),
                dev_identity_headers: false,
            },
            admins: admins::App {
                store: admin_store.clone(),
                lockouts: admin_store,
                mailer: self.invitations.clone(),
                clock: admins.clock(),
                admin_app_url: self.admin_app_url.clone(),
                dev_identity_headers: false,
            },
            store: Arc::new(DynamoStore::new(client.clone(), table.clone())),
            client,
            table,
        }
    }
}

/// What one function takes from its environment, under the names
/// [`bookinglink::wiring::Wiring`] gives them, on the stack's clients.
struct FunctionEnv<'a> {
    stack: &'a StackBuilder,
    config: &'a SdkConfig,
    table: &'a str,
    function: &'static str,
}

impl FunctionEnv<'_> {
    fn store(&self) -> Arc<DynamoStore> {
        let client = match &self.stack.clients {
            Clients::Guarded => guarded_dynamodb(self.config, self.function, self.table),
            Clients::Counted(log) => counted_dynamodb(self.config, log),
        };
        Arc::new(DynamoStore::new(client, self.table))
    }

    fn key_store(&self) -> Arc<SecretsManager> {
        let client = match &self.stack.clients {
            Clients::Guarded => {
                guarded_secretsmanager(self.config, self.function, &self.stack.secret_prefix)
            }
            Clients::Counted(log) => counted_secretsmanager(self.config, log),
        };
        Arc::new(SecretsManager::new(client))
    }

    fn clock(&self) -> Arc<dyn Clock> {
        self.stack.clock.clone()
    }
}
