//! The `test-connection` function: "Test kobling". Checks the entered details against the
//! vendor inside the lockout and answers with the step-by-step report. Saves nothing.

use bookinglink::booking::{BookingDeps, handler};
use bookinglink::routes::RouteId;
use bookinglink::wiring::Wiring;
use lambda_http::{Body, Request, Response};

pub struct App {
    pub deps: BookingDeps,
    pub dev_identity_headers: bool,
}

impl App {
    pub async fn from_env() -> Result<Self, String> {
        let env = Wiring::from_env()?;
        Ok(App {
            deps: BookingDeps::from_wiring(&env)?,
            dev_identity_headers: env.dev_identity_headers(),
        })
    }
}

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    handler::handle(
        &app.deps,
        app.dev_identity_headers,
        RouteId::TestConnection,
        req,
    )
    .await
}
