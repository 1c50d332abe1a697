//! Parking: a press BMS cannot take now goes to an Amazon SQS queue (`BUTTON_QUEUE_URL`) and is
//! answered `202`; the replay function (`kaseya-button-replay`, [`crate::replay`]) files it
//! from there once BMS is back.
//!
//! Only what time cures is parked ([`crate::press::PressError::time_cures`]): the caller's
//! mistakes, a rule's reject and the function's own configuration errors are answered as without
//! a queue. A press larger than the queue takes is not parked either, and its 503 says so.

pub mod age;
pub mod message;

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sqs::types::QueueAttributeName;

use crate::button::ButtonRequest;
use crate::idempotency::IdempotencyKey;
use crate::net::Net;
use crate::press::{self, Pressed};
pub use message::{ParkedPress, Poison, Replayable};

/// SQS takes no message larger than this, whatever the queue's own limit says: a larger press
/// is not even sent.
pub const SQS_MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// A send or a read of the queue gives up after this: a parked press is answered within the
/// margin the invocation keeps for its answer.
const SQS_TIMEOUT: Duration = Duration::from_secs(3);

/// The queue, and the SQS client that reaches it (`AWS_ENDPOINT_URL_SQS` points it elsewhere).
pub struct Queue {
    client: Client,
    url: String,
    cloudwatch: age::Cloudwatch,
}

/// A press on the queue: the reference the button is given (the SQS message id).
#[derive(Debug, Clone)]
pub struct Parked {
    pub reference: String,
    /// The key its ticket will be marked with: the client's, or one made at intake.
    pub key: IdempotencyKey,
}

/// Why a press could not be sent to the queue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("the press is {bytes} bytes as a message; the queue takes {limit}")]
    TooLarge { bytes: usize, limit: String },
    #[error("the queue could not be reached or refused the press: {0}")]
    Failed(String),
}

/// What the queue holds, as SQS counts it (approximately).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Depth {
    /// Waiting to be replayed.
    pub waiting: u64,
    /// Being replayed now, or waiting out the backoff after a failed replay.
    pub in_flight: u64,
}

impl Queue {
    pub fn new(url: &str, sdk: &aws_types::SdkConfig, net: &Net) -> Queue {
        let timeouts = aws_smithy_types::timeout::TimeoutConfig::builder()
            .connect_timeout(SQS_TIMEOUT)
            .operation_attempt_timeout(SQS_TIMEOUT)
            .operation_timeout(SQS_TIMEOUT)
            .build();
        let mut conf = aws_sdk_sqs::config::Builder::from(sdk).timeout_config(timeouts);
        if let Some(endpoint) = crate::net::aws::var("AWS_ENDPOINT_URL_SQS") {
            conf = conf.endpoint_url(endpoint);
        }
        Queue {
            client: Client::from_conf(conf.build()),
            url: url.to_string(),
            cloudwatch: age::Cloudwatch::new(sdk, net),
        }
    }

    /// How long the oldest press on the queue has waited, as CloudWatch last saw it.
    pub async fn oldest_age(&self) -> Result<Option<Duration>, String> {
        let name = self
            .url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        self.cloudwatch.oldest_age(name).await
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Send one message; its SQS message id.
    pub async fn send(&self, body: String) -> Result<String, SendError> {
        if body.len() > SQS_MAX_MESSAGE_BYTES {
            return Err(SendError::TooLarge {
                bytes: body.len(),
                limit: format!("at most {SQS_MAX_MESSAGE_BYTES} bytes (SQS's own limit)"),
            });
        }
        let bytes = body.len();
        let sent = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await;
        match sent {
            Ok(out) => Ok(out.message_id().unwrap_or_default().to_string()),
            // SQS names the queue's MaximumMessageSize in its message ("Message must be shorter
            // than 262144 bytes").
            Err(e)
                if e.code() == Some("InvalidParameterValue")
                    && e.message().is_some_and(|m| m.contains("shorter than")) =>
            {
                Err(SendError::TooLarge {
                    bytes,
                    limit: e.message().unwrap_or_default().to_string(),
                })
            }
            Err(e) => Err(SendError::Failed(DisplayErrorContext(&e).to_string())),
        }
    }

    /// How many presses are parked.
    pub async fn depth(&self) -> Result<Depth, String> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|e| DisplayErrorContext(&e).to_string())?;
        let count = |name: QueueAttributeName| {
            out.attributes()
                .and_then(|a| a.get(&name))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok(Depth {
            waiting: count(QueueAttributeName::ApproximateNumberOfMessages)
                + count(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
            in_flight: count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        })
    }

    /// Make a received message visible again after `wait`: the replay's backoff.
    pub async fn retry_in(&self, receipt_handle: &str, wait: Duration) -> Result<(), String> {
        // SQS takes at most 12 hours; the replay's backoff stays far below.
        let seconds = i32::try_from(wait.as_secs())
            .unwrap_or(i32::MAX)
            .min(43_200);
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| DisplayErrorContext(&e).to_string())
    }
}

/// Park a press that BMS could not take now (`reason`, for the record: the replay's log, never a
/// caller). The answer is the reference the button is given; a press that cannot be kept (too
/// large, or the queue failed too) is answered by the caller as without a queue.
pub(crate) async fn park(
    queue: &Queue,
    button: &ButtonRequest,
    pressed: &Pressed,
    reason: &str,
) -> Result<Parked, SendError> {
    let key = pressed
        .repeat
        .as_ref()
        .map(|r| r.key.clone())
        .or_else(press::intake_key)
        .ok_or_else(|| SendError::Failed("no key to mark the press with could be made".into()))?;
    let body = message_body(button, pressed, &key, reason);
    match queue.send(body).await {
        Ok(reference) => {
            tracing::info!(
                reference = %reference,
                reason = %reason,
                "BMS cannot take the press now; parked on the queue"
            );
            Ok(Parked { reference, key })
        }
        Err(e @ SendError::TooLarge { .. }) => {
            tracing::warn!(error = %e, "the press is too large to park");
            Err(e)
        }
        Err(e) => {
            tracing::error!(
                error = %e,
                queue = %queue.url,
                "the press could not be parked: answered as without a queue"
            );
            Err(e)
        }
    }
}

fn message_body(
    button: &ButtonRequest,
    pressed: &Pressed,
    key: &IdempotencyKey,
    reason: &str,
) -> String {
    let parked = ParkedPress::new(
        button,
        pressed.at,
        key,
        pressed.key_name.clone(),
        &pressed.scope,
        pressed.origin.clone(),
        reason.to_string(),
    );
    // A struct of strings, numbers and JSON values: serialising it cannot fail.
    serde_json::to_string(&parked).unwrap_or_default()
}
