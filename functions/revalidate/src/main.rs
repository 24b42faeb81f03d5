use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    bookinglink::runtime::init_logging();
    let deps = revalidate::deps_from_env().await?;
    run(service_fn(move |event| {
        revalidate::handle(deps.clone(), event)
    }))
    .await
}
