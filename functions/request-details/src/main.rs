#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookinglink::runtime::serve_http(request_details::App::from_env(), request_details::handle)
        .await
}
