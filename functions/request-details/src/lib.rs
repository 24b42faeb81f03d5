//! The `request-details` function ("Forespør detaljer"): shows the pre-written request for the
//! connection details of a location's booking system, and sends it to the vendor by e-mail.

use std::sync::Arc;

use bookinglink::clock::{Clock, SystemClock};
use bookinglink::domain::request_details;
use bookinglink::http::{Incoming, Reply, respond};
use bookinglink::mail::{Mailer, SesMailer};
use bookinglink::problem::Problem;
use bookinglink::routes::{self, RouteId};
use bookinglink::store::RequestDetailsStore;
use bookinglink::store::dynamo::DynamoStore;
use lambda_http::{Body, Request, Response};

pub const FUNCTION: &str = "request-details";

pub struct App {
    pub store: Arc<dyn RequestDetailsStore>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub dev_identity_headers: bool,
}

impl App {
    /// `TABLE_NAME` and `MAIL_SENDER` (a verified SES identity) are required;
    /// `SES_CONFIGURATION_SET` is optional.
    pub async fn from_env() -> Result<Self, String> {
        let table = bookinglink::runtime::required_env("TABLE_NAME")?;
        let sender = bookinglink::runtime::required_env("MAIL_SENDER")?;
        let configuration_set = std::env::var("SES_CONFIGURATION_SET").ok();
        let config = bookinglink::aws::config()?;
        Ok(App {
            store: Arc::new(DynamoStore::new(
                aws_sdk_dynamodb::Client::new(&config),
                table,
            )),
            // Previews need no SES client; the first request that sends builds it.
            mailer: Arc::new(SesMailer::new(
                bookinglink::aws::LazyClient::on_first_use(&config, aws_sdk_ses::Client::new),
                sender,
                configuration_set,
            )),
            clock: Arc::new(SystemClock),
            dev_identity_headers: bookinglink::identity::dev_identity_enabled_from_env(),
        })
    }
}

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    if req.method() == lambda_http::http::Method::OPTIONS {
        return bookinglink::http::preflight();
    }
    let incoming = Incoming::new(req, app.dev_identity_headers);
    let lang = incoming.lang;
    respond(route(app, &incoming).await, lang)
}

async fn route(app: &App, req: &Incoming) -> Result<Reply, Problem> {
    let matched = routes::resolve(&req.method, &req.path)?;
    if matched.route.function != FUNCTION {
        return Err(Problem::route_not_found());
    }
    let caller = req.caller()?;
    let company_id = matched.param("companyId");
    let location_id = matched.param("locationId");
    match matched.route.id {
        RouteId::GetDetailsRequest => {
            let system = request_details::system_from_query(req.query("system").as_deref())?;
            let prepared = request_details::preview(
                app.store.as_ref(),
                caller,
                company_id,
                location_id,
                system,
                req.lang,
            )
            .await?;
            Ok(Reply::ok(prepared.to_json()))
        }
        RouteId::SendDetailsRequest => {
            let system = request_details::system_from_json(&req.json_object()?)?;
            let services = request_details::Services {
                store: app.store.as_ref(),
                mailer: app.mailer.as_ref(),
                clock: app.clock.as_ref(),
            };
            let sent =
                request_details::send(services, caller, company_id, location_id, system, req.lang)
                    .await?;
            Ok(Reply {
                status: 202,
                body: sent.to_json(),
                headers: Vec::new(),
            })
        }
        _ => Err(Problem::route_not_found()),
    }
}
