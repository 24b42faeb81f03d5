use lambda_runtime::{Error, run, service_fn};
use revalidate::{App, handle};

#[tokio::main]
async fn main() -> Result<(), Error> {
    bookinglink::runtime::init_logging();
    let app = App::from_env().await?;
    let app = &app;
    run(service_fn(
        move |event| async move { handle(app, event).await },
    ))
    .await
}
