//! The function with a parking queue (moto's SQS), pressed through API Gateway events and
//! replayed with Lambda SQS events: what the parking and replay tests share.

use aws_lambda_events::event::sqs::SqsEvent;
use bms_sandbox::Sandbox;
use kaseya_button::App;
use serde_json::Value;

use super::sqs::Parking;
use crate::helpers::{Answer, Gateway, app_for, keyed_event, read};

/// Short pauses between BMS retries, and a replayed press that fails comes back at once.
pub const FAST: [(&str, &str); 3] = [
    ("KASEYA_RETRY_BASE_MS", "5"),
    ("KASEYA_RETRY_CAP_MS", "20"),
    ("BUTTON_REPLAY_RETRY_SECONDS", "0"),
];

/// The function pointed at `bms` and parking on `queue`, with `extra` settings on top.
pub async fn app_parking_on(bms: &Sandbox, queue: &Parking, extra: &[(&str, &str)]) -> App {
    let mut vars = FAST.to_vec();
    vars.push(("BUTTON_QUEUE_URL", queue.url.as_str()));
    vars.extend_from_slice(extra);
    app_for(bms, &vars).await
}

/// `POST /tickets` with the button key and, when given, an `Idempotency-Key`.
pub async fn press_on(app: &App, body: &Value, key: Option<&str>) -> Answer {
    read(
        app.handle(keyed_event(Gateway::HttpV2, "/tickets", body, key))
            .await,
    )
}

/// Replay one Lambda SQS event (as JSON); the message ids reported back to the queue.
pub async fn replay(app: &App, event: &Value) -> Vec<String> {
    let event: SqsEvent = serde_json::from_value(event.clone()).expect("a Lambda SQS event");
    let answer = app.replay(event, None).await;
    // What Lambda reads back: the JSON the replay binary answers with.
    let json = serde_json::to_value(&answer).expect("the batch response serialises");
    json["batchItemFailures"]
        .as_array()
        .expect("batchItemFailures is a list")
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// What Lambda's event source mapping does with an event read off `queue`: invoke the replay,
/// then delete every record it did not report back. The ids reported back.
pub async fn deliver(app: &App, queue: &Parking, event: &Value) -> Vec<String> {
    let reported = replay(app, event).await;
    for record in event["Records"].as_array().into_iter().flatten() {
        let id = record["messageId"].as_str().unwrap_or_default();
        if !reported.iter().any(|r| r == id) {
            queue
                .delete(record["receiptHandle"].as_str().unwrap_or_default())
                .await;
        }
    }
    reported
}

/// Receive what is on the queue and replay it, batch after batch, until the queue is empty or
/// `rounds` batches have run; the message ids reported back, batch by batch.
pub async fn replay_until_empty(app: &App, queue: &Parking, rounds: usize) -> Vec<Vec<String>> {
    let mut reported = Vec::new();
    for _ in 0..rounds {
        let event = queue.receive_event(10).await;
        if event["Records"].as_array().is_none_or(Vec::is_empty) {
            break;
        }
        reported.push(deliver(app, queue, &event).await);
    }
    reported
}

/// The message ids of an event's records, in order.
pub fn message_ids(event: &Value) -> Vec<String> {
    event["Records"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["messageId"].as_str().unwrap_or_default().to_string())
        .collect()
}
