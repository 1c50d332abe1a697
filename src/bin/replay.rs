//! `kaseya-button-replay`: the Lambda function behind the parking queue's event source mapping.
//! Each invocation is a batch of parked presses; each is filed once BMS takes it, and those that
//! are not are reported back to the queue (`ReportBatchItemFailures`).

// The batch's future nests the whole press pipeline (searches, create, the race's settling)
// inside the runtime's service: deeper than the compiler's default layout limit of 128.
#![recursion_limit = "256"]

use std::time::SystemTime;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use kaseya_button::App;
use lambda_http::lambda_runtime::{self, Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Honours AWS_LAMBDA_LOG_LEVEL and AWS_LAMBDA_LOG_FORMAT (JSON) as set by Lambda.
    lambda_http::tracing::init_default_subscriber();
    // No warm-up: a batch arrives when BMS may still be down, and each record logs in as needed.
    let app = App::from_env().await;
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        // As for the API function: a deadline already past (a local emulator's) is no deadline.
        let deadline = Some(event.context.deadline())
            .filter(|_| event.context.deadline > 0)
            .filter(|&at| at > SystemTime::now());
        Ok::<SqsBatchResponse, Error>(app.replay(event.payload, deadline).await)
    }))
    .await
}
