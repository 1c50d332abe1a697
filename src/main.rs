//! The Lambda bootstrap: logging, the App built and warmed up once, then one handler call per
//! invocation.

use std::convert::Infallible;
use std::time::Duration;

use kaseya_button::App;
use lambda_http::{Error, Request, service_fn};

/// Lambda allows init 10 s; a BMS that is slow to answer must not hold the first event back
/// longer than this (the request path fetches whatever warm-up did not).
const WARM_UP_LIMIT: Duration = Duration::from_secs(3);

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Honours AWS_LAMBDA_LOG_LEVEL and AWS_LAMBDA_LOG_FORMAT (JSON) as set by Lambda.
    lambda_http::tracing::init_default_subscriber();
    // Init runs before the first event: the secret and the login, which must come one after the
    // other, with BMS's connections opened meanwhile. A container started for a waiting request
    // then answers it in four round trips from spawn; one started ahead of traffic answers its
    // first press in two. The warm-up is under way before the rules are parsed.
    let (app, warm_up) = App::start().await;
    if let Some(mut warm_up) = warm_up
        && tokio::time::timeout(WARM_UP_LIMIT, &mut warm_up)
            .await
            .is_err()
    {
        // Nothing left running into the first invocation, or across a freeze.
        warm_up.abort();
        tracing::warn!(
            limit_ms = WARM_UP_LIMIT.as_millis() as u64,
            "warm-up did not finish in time; requests will fetch the rest"
        );
    }
    let app = &app;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Infallible>(app.handle(req).await)
    }))
    .await
}
