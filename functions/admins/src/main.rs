use admins::{App, handle};
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    bookinglink::runtime::init_logging();
    let app = App::from_env().await?;
    let app = &app;
    run(service_fn(move |req| async move {
        Ok::<_, Error>(handle(app, req).await)
    }))
    .await
}
