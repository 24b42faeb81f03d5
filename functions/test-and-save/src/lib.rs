//! The `test-and-save` function: "Test og lagre". Runs the same check as `test-connection`
//! and saves only a configuration that passed it.

pub use bookinglink::booking::handler::BookingApp as App;
use bookinglink::routes::RouteId;
use lambda_http::{Body, Request, Response};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    app.handle(RouteId::SaveBooking, req).await
}
