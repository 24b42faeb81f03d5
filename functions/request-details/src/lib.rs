//! The `request-details` function ("Forespør detaljer"): shows the pre-written request for the
//! connection details of a location's booking system, and sends it to the vendor by e-mail.

use std::sync::Arc;

use bookinglink::clock::Clock;
use bookinglink::domain::request_details;
use bookinglink::http::{self, Incoming, Reply};
use bookinglink::mail::Mailer;
use bookinglink::problem::Problem;
use bookinglink::routes::RouteId;
use bookinglink::store::RequestDetailsStore;
use bookinglink::wiring::Wiring;
use lambda_http::{Body, Request, Response};

pub const FUNCTION: &str = "request-details";

pub struct App {
    pub store: Arc<dyn RequestDetailsStore>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub dev_identity_headers: bool,
    pub limits: request_details::SendLimits,
}

impl App {
    /// `TABLE_NAME` and `MAIL_SENDER` (a verified SES identity) are required;
    /// `SES_CONFIGURATION_SET` is optional; `DETAILS_SENDS_PER_ADMINISTRATOR` defaults to 10.
    /// Previews need no SES client; the first request that sends builds it.
    pub async fn from_env() -> Result<Self, String> {
        let env = Wiring::from_env()?;
        let limits = request_details::SendLimits::from_env()?;
        Ok(App {
            store: env.store()?,
            mailer: env.mailer()?,
            clock: env.clock(),
            dev_identity_headers: env.dev_identity_headers(),
            limits,
        })
    }
}

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    http::serve(req, app.dev_identity_headers, app, route).await
}

async fn route(app: &App, req: &Incoming) -> Result<Reply, Problem> {
    let matched = req.route_of(FUNCTION)?;
    let caller = req.caller()?;
    let company_id = matched.param("companyId");
    let location_id = matched.param("locationId");
    let services = request_details::Services {
        store: app.store.as_ref(),
        mailer: app.mailer.as_ref(),
        clock: app.clock.as_ref(),
        limits: app.limits,
    };
    match matched.route.id {
        RouteId::GetDetailsRequest => {
            let system = request_details::system_from_query(req.query("system").as_deref())?;
            let preview = request_details::preview(
                services,
                caller,
                company_id,
                location_id,
                system,
                req.lang,
            )
            .await?;
            Ok(Reply::ok(preview.to_json()))
        }
        RouteId::SendDetailsRequest => {
            let system = request_details::system_from_json(&req.json_object()?)?;
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
