//! The `test-connection` function: "Test kobling". Checks the entered details against the
//! vendor inside the lockout and answers with the step-by-step report. Saves nothing.

pub use bookinglink::booking::handler::BookingApp as App;
use bookinglink::routes::RouteId;
use lambda_http::{Body, Request, Response};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    app.handle(RouteId::TestConnection, req).await
}
