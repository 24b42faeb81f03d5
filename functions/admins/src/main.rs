#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookinglink::runtime::serve_http(admins::App::from_env(), admins::handle).await
}
