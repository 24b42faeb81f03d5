#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookinglink::runtime::serve_http(locations::App::from_env(), locations::handle).await
}
