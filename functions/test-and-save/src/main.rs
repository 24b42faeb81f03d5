#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookinglink::runtime::serve_http(test_and_save::App::from_env(), test_and_save::handle).await
}
