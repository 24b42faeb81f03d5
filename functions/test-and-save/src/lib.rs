//! The `test-and-save` function: "Test og lagre". Runs the same check as `test-connection`
//! and saves only a configuration that passed it.

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
        RouteId::SaveBooking,
        req,
    )
    .await
}
