//! The `test-connection` function: "Test kobling". Checks the entered details against the
//! vendor inside the lockout and answers with the step-by-step report. Saves nothing.

use bookinglink::booking::handler::BookingApp;
use bookinglink::routes::RouteId;
use lambda_http::{Body, Request, Response};

/// The booking functions' one `App`, built by `BookingApp::from_env`.
pub type App = BookingApp;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    app.handle(RouteId::TestConnection, req).await
}
