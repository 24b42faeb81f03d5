#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookinglink::runtime::serve_http(test_connection::App::from_env(), test_connection::handle)
        .await
}
