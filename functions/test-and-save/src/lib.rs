//! The `test-and-save` function: "Test og lagre". Runs the same check as `test-connection`
//! and saves only a configuration that passed it.

use bookinglink::booking::{self, BookingDeps, BookingInput};
use bookinglink::http::{Incoming, Reply, respond};
use bookinglink::problem::Problem;
use bookinglink::routes::{self, RouteId};
use lambda_http::{Body, Request, Response};

pub struct App {
    pub deps: BookingDeps,
    pub dev_identity_headers: bool,
}

impl App {
    pub async fn from_env() -> Result<Self, String> {
        Ok(App {
            deps: BookingDeps::from_env().await?,
            dev_identity_headers: bookinglink::identity::dev_identity_enabled_from_env(),
        })
    }
}

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let incoming = Incoming::new(req, app.dev_identity_headers);
    let result = match route(app, &incoming).await {
        Err(problem) if problem.status != 401 => {
            Err(
                booking::with_attempts_remaining(&app.deps, incoming.caller.as_ref(), problem)
                    .await,
            )
        }
        other => other,
    };
    respond(result, incoming.lang)
}

async fn route(app: &App, req: &Incoming) -> Result<Reply, Problem> {
    let matched = routes::resolve(&req.method, &req.path)?;
    if matched.route.id != RouteId::SaveBooking {
        return Err(Problem::route_not_found());
    }
    let caller = req.caller()?;
    let input = BookingInput::from_json(&req.json_object()?, true, req.if_match_version()?)?;
    let saved = booking::test_and_save(
        &app.deps,
        caller,
        matched.param("companyId"),
        matched.param("locationId"),
        input,
    )
    .await?;
    Ok(Reply::ok(saved.to_json(req.lang))
        .with_header("etag", format!("\"{}\"", saved.location.version)))
}
