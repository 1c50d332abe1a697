//! Amazon SQS from moto_server: a parking queue and its dead-letter queue per test, what is on
//! them, and the Lambda SQS events the replay receives, made from messages read off the queue
//! exactly as Lambda's event source mapping makes them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use serde_json::{Value, json};

use super::moto;

pub const REGION: &str = "us-east-1";

/// A queue and its dead-letter queue, made for one test.
pub struct Parking {
    pub client: Client,
    pub url: String,
    pub arn: String,
    pub dead_letter_url: String,
}

/// An SQS client configured from the environment, as the function builds its own.
pub async fn client() -> Client {
    moto::moto();
    let net = kaseya_button::net::Net::new(&[]).expect("an HTTP client");
    let sdk = kaseya_button::net::aws::sdk_config(&net);
    let mut conf = aws_sdk_sqs::config::Builder::from(&sdk);
    if let Some(url) = kaseya_button::net::aws::var("AWS_ENDPOINT_URL_SQS") {
        conf = conf.endpoint_url(url);
    }
    Client::from_conf(conf.build())
}

/// A name no other test of this process, nor another process, uses.
fn unique(name: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl Parking {
    /// A queue whose records move to the dead-letter queue on their `max_receives + 1`th receive.
    pub async fn create(name: &str, max_receives: u32) -> Parking {
        Parking::create_with(name, max_receives, None).await
    }

    /// Like [`Parking::create`], with the queue's `MaximumMessageSize` when given.
    pub async fn create_with(
        name: &str,
        max_receives: u32,
        max_message_size: Option<u32>,
    ) -> Parking {
        let client = client().await;
        let name = unique(name);
        let dead_letter_url = create_queue(&client, &format!("{name}-dlq"), HashMap::new()).await;
        let dead_letter_arn = attribute(&client, &dead_letter_url, QueueAttributeName::QueueArn)
            .await
            .expect("a queue has an ARN");
        let redrive =
            json!({"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": max_receives});
        let mut attributes = HashMap::from([
            (QueueAttributeName::RedrivePolicy, redrive.to_string()),
            (QueueAttributeName::SqsManagedSseEnabled, "true".to_string()),
        ]);
        if let Some(size) = max_message_size {
            attributes.insert(QueueAttributeName::MaximumMessageSize, size.to_string());
        }
        let url = create_queue(&client, &name, attributes).await;
        let arn = attribute(&client, &url, QueueAttributeName::QueueArn)
            .await
            .expect("a queue has an ARN");
        Parking {
            client,
            url,
            arn,
            dead_letter_url,
        }
    }

    /// Put a message on the queue as it is (what a test makes a poison record with).
    pub async fn send_raw(&self, body: &str) -> String {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .expect("moto takes the message")
            .message_id()
            .unwrap_or_default()
            .to_string()
    }

    /// Up to `max` messages received off the queue (they stay on it, invisible for a minute), as
    /// the Lambda SQS event the event source mapping would invoke the replay with.
    pub async fn receive_event(&self, max: i32) -> Value {
        self.receive_for(max, 60).await
    }

    /// Like [`Parking::receive_event`], invisible for `seconds`.
    pub async fn receive_for(&self, max: i32, seconds: i32) -> Value {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max)
            .visibility_timeout(seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("moto receives");
        let records: Vec<Value> = out
            .messages()
            .iter()
            .map(|m| {
                let attributes: HashMap<String, String> = m
                    .attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| (k.as_str().to_string(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "attributes": attributes,
                    "messageAttributes": {},
                    "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.arn,
                    "awsRegion": REGION,
                })
            })
            .collect();
        json!({"Records": records})
    }

    /// The bodies of every message on the queue, read and left there (visible again at once).
    /// Each read counts as a receive towards the dead-letter queue.
    pub async fn peek(&self) -> Vec<String> {
        let event = self.receive_event(10).await;
        let mut bodies = Vec::new();
        for r in event["Records"].as_array().into_iter().flatten() {
            bodies.push(r["body"].as_str().unwrap_or_default().to_string());
            self.client
                .change_message_visibility()
                .queue_url(&self.url)
                .receipt_handle(r["receiptHandle"].as_str().unwrap_or_default())
                .visibility_timeout(0)
                .send()
                .await
                .expect("moto changes the visibility");
        }
        bodies
    }

    /// Delete a received message, as the event source mapping does after a replay that did not
    /// report it back.
    pub async fn delete(&self, receipt_handle: &str) {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .expect("moto deletes the message");
    }

    /// What SQS tells CloudWatch every minute: the age of the queue's oldest message, as of
    /// half a minute ago. Sent to moto as CloudWatch's Query protocol, unsigned (moto checks no
    /// signature, only the service in the credential scope).
    pub async fn report_oldest_age(&self, seconds: u64) {
        let endpoint = std::env::var("AWS_ENDPOINT_URL_CLOUDWATCH").expect("moto() set it");
        let name = self.url.rsplit('/').next().unwrap_or_default();
        let at = (chrono::Utc::now() - chrono::Duration::seconds(30))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let form = [
            ("Action", "PutMetricData".to_string()),
            ("Version", "2010-08-01".to_string()),
            ("Namespace", "AWS/SQS".to_string()),
            (
                "MetricData.member.1.MetricName",
                "ApproximateAgeOfOldestMessage".to_string(),
            ),
            ("MetricData.member.1.Value", seconds.to_string()),
            ("MetricData.member.1.Unit", "Seconds".to_string()),
            ("MetricData.member.1.Timestamp", at),
            (
                "MetricData.member.1.Dimensions.member.1.Name",
                "QueueName".to_string(),
            ),
            (
                "MetricData.member.1.Dimensions.member.1.Value",
                name.to_string(),
            ),
        ];
        let status = reqwest::Client::new()
            .post(format!("{endpoint}/"))
            .header(
                "authorization",
                format!("AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/monitoring/aws4_request, SignedHeaders=host, Signature=0"),
            )
            .form(&form)
            .send()
            .await
            .expect("moto answers")
            .status();
        assert!(status.is_success(), "PutMetricData: {status}");
    }

    /// Messages on the queue, visible or not.
    pub async fn count(&self) -> u64 {
        count(&self.client, &self.url).await
    }

    /// Messages in the dead-letter queue.
    pub async fn dead_letters(&self) -> u64 {
        count(&self.client, &self.dead_letter_url).await
    }
}

async fn create_queue(
    client: &Client,
    name: &str,
    attributes: HashMap<QueueAttributeName, String>,
) -> String {
    client
        .create_queue()
        .queue_name(name)
        .set_attributes(Some(attributes))
        .send()
        .await
        .expect("moto creates the queue")
        .queue_url()
        .expect("a created queue has a URL")
        .to_string()
}

async fn attribute(client: &Client, url: &str, name: QueueAttributeName) -> Option<String> {
    client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(name.clone())
        .send()
        .await
        .expect("moto answers")
        .attributes()
        .and_then(|a| a.get(&name).cloned())
}

async fn count(client: &Client, url: &str) -> u64 {
    let mut total = 0;
    for name in [
        QueueAttributeName::ApproximateNumberOfMessages,
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
    ] {
        total += attribute(client, url, name)
            .await
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}
