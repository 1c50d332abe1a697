//! The Lambda bootstrap: logging, the App built once, then one handler call per invocation.

use std::convert::Infallible;

use kaseya_button::App;
use lambda_http::{Error, Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Honours AWS_LAMBDA_LOG_LEVEL and AWS_LAMBDA_LOG_FORMAT (JSON) as set by Lambda.
    lambda_http::tracing::init_default_subscriber();
    let app = App::from_env().await;
    let app = &app;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Infallible>(app.handle(req).await)
    }))
    .await
}
