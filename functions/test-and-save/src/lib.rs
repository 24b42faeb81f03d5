//! The `test-and-save` function: "Test og lagre". Runs the same check as `test-connection`
//! and saves only a configuration that passed it.

use bookinglink::booking::handler::BookingApp;
use bookinglink::routes::RouteId;
use lambda_http::{Body, Request, Response};

/// The booking functions' one `App`, built by `BookingApp::from_env`.
pub type App = BookingApp;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    app.handle(RouteId::SaveBooking, req).await
}
