//! How long the oldest parked press has waited: SQS's `ApproximateAgeOfOldestMessage`, which
//! only CloudWatch holds (`GetQueueAttributes` counts messages, it does not age them).
//!
//! One `GetMetricStatistics` call in CloudWatch's Query protocol, signed (SigV4) with the
//! function's own credentials, through the HTTP client and the signer the function links
//! already, rather than a whole CloudWatch SDK client for one read in a binary kept small.
//! `AWS_ENDPOINT_URL_CLOUDWATCH` (or `AWS_ENDPOINT_URL`) points it elsewhere, as it would the
//! SDK. The XML answer is read by an XML parser: elements by their local names (a namespace
//! prefix does not hide them), entities and CDATA as the text they stand for, comments as
//! nothing.

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use chrono::{DateTime, SecondsFormat, Utc};
use roxmltree::{Document, Node};

/// The metric's window: SQS sends a data point a minute while the queue holds messages.
const WINDOW: chrono::Duration = chrono::Duration::minutes(5);
const TIMEOUT: Duration = Duration::from_secs(3);
const SERVICE: &str = "monitoring";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// What reads the metric: the endpoint, the region and the credentials of the function.
pub struct Cloudwatch {
    http: reqwest::Client,
    endpoint: String,
    region: String,
    credentials: Option<SharedCredentialsProvider>,
}

impl Cloudwatch {
    pub fn new(sdk: &aws_types::SdkConfig, net: &crate::net::Net) -> Cloudwatch {
        let region = sdk
            .region()
            .map_or_else(|| "us-east-1".to_string(), |r| r.as_ref().to_string());
        let endpoint = ["AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_ENDPOINT_URL"]
            .iter()
            .find_map(|v| crate::net::aws::var(v))
            .unwrap_or_else(|| format!("https://{SERVICE}.{region}.amazonaws.com"));
        Cloudwatch {
            http: net.http().clone(),
            endpoint: endpoint.trim_end_matches('/').to_string() + "/",
            region,
            credentials: sdk.credentials_provider(),
        }
    }

    /// The age of the oldest message on `queue_name` in the last data point of the last five
    /// minutes; `None` when CloudWatch has none (the queue was empty, or the metric lags).
    pub async fn oldest_age(&self, queue_name: &str) -> Result<Option<Duration>, String> {
        let now = Utc::now();
        let body = query(queue_name, now - WINDOW, now);
        let mut request = self
            .http
            .post(&self.endpoint)
            .timeout(TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, FORM);
        for (name, value) in self.signature(&body).await? {
            request = request.header(name, value);
        }
        let answer = request
            .body(body)
            .send()
            .await
            .map_err(|e| format!("CloudWatch could not be reached: {}", without_url(&e)))?;
        let status = answer.status();
        let text = answer
            .text()
            .await
            .map_err(|e| format!("CloudWatch's answer was cut short: {}", without_url(&e)))?;
        if !status.is_success() {
            return Err(format!(
                "CloudWatch answered HTTP {status}: {}",
                error_of(&text)
            ));
        }
        Ok(latest_maximum(&text).map(|s| Duration::from_secs_f64(s.max(0.0))))
    }

    /// The SigV4 headers of a POST of `body` to the endpoint, signed with the function's
    /// credentials as they are now (Lambda's are temporary).
    async fn signature(&self, body: &str) -> Result<Vec<(String, String)>, String> {
        let unsigned =
            |e: &dyn std::fmt::Display| format!("the CloudWatch request could not be signed: {e}");
        let creds = self
            .credentials
            .as_ref()
            .ok_or("no AWS credentials to ask CloudWatch with")?
            .provide_credentials()
            .await
            .map_err(|e| format!("no AWS credentials to ask CloudWatch with: {e}"))?;
        let identity = Identity::from(creds);
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(SERVICE)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| unsigned(&e))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            self.endpoint.as_str(),
            [("content-type", FORM)].into_iter(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .map_err(|e| unsigned(&e))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| unsigned(&e))?
            .into_parts();
        Ok(instructions
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }
}

/// The Query protocol's form: the maximum age, per minute, of the queue's oldest message.
fn query(queue_name: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let at = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let pairs = [
        ("Action", "GetMetricStatistics".to_string()),
        ("Version", "2010-08-01".to_string()),
        ("Namespace", "AWS/SQS".to_string()),
        ("MetricName", "ApproximateAgeOfOldestMessage".to_string()),
        ("Dimensions.member.1.Name", "QueueName".to_string()),
        ("Dimensions.member.1.Value", queue_name.to_string()),
        ("StartTime", at(from)),
        ("EndTime", at(to)),
        ("Period", "60".to_string()),
        ("Statistics.member.1", "Maximum".to_string()),
    ];
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// The text of the first `name` element among `node`'s descendants, whatever its namespace
/// prefix: entities decoded, CDATA as text, comments left out, trimmed; `None` when blank.
fn text_of(node: Node<'_, '_>, name: &str) -> Option<String> {
    let element = node.descendants().find(|n| n.has_tag_name(name))?;
    let text: String = element
        .descendants()
        .filter(Node::is_text)
        .filter_map(|t| t.text())
        .collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// The `Maximum` of the data point with the latest `Timestamp` (CloudWatch lists them in no
/// particular order). An answer that is not XML holds no data point.
fn latest_maximum(xml: &str) -> Option<f64> {
    let doc = Document::parse(xml).ok()?;
    let points = doc.descendants().find(|n| n.has_tag_name("Datapoints"))?;
    points
        .children()
        .filter(|m| m.has_tag_name("member"))
        .filter_map(|m| {
            let at = DateTime::parse_from_rfc3339(&text_of(m, "Timestamp")?).ok()?;
            let max = text_of(m, "Maximum")?.parse::<f64>().ok()?;
            Some((at, max))
        })
        .max_by_key(|(at, _)| *at)
        .map(|(_, max)| max)
}

/// `Code: Message` of a Query-protocol error answer, or the start of an answer without a code
/// (an HTML page from a proxy, say).
fn error_of(xml: &str) -> String {
    let fields = Document::parse(xml).ok().map(|doc| {
        let root = doc.root();
        (text_of(root, "Code"), text_of(root, "Message"))
    });
    match fields {
        Some((Some(code), Some(message))) => format!("{code}: {message}"),
        Some((Some(code), None)) => code,
        _ => xml.chars().take(200).collect(),
    }
}

/// A request error without its URL: it would only repeat the endpoint.
fn without_url(e: &reqwest::Error) -> String {
    let text = e.to_string();
    match e.url() {
        Some(url) => text.replace(url.as_str(), "CloudWatch"),
        None => text,
    }
}

/// An age as a person reads it: `45 s`, `12 min`, `3 h 5 min`.
pub fn human(age: Duration) -> String {
    let secs = age.as_secs();
    match secs {
        0..120 => format!("{secs} s"),
        120..7200 => format!("{} min", secs / 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_data_point_wins() {
        let xml = r#"<GetMetricStatisticsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">
          <GetMetricStatisticsResult><Datapoints>
            <member><Timestamp>2026-11-26T22:16:00Z</Timestamp><Maximum>754.0</Maximum><Unit>Seconds</Unit></member>
            <member><Timestamp>2026-11-26T22:17:00Z</Timestamp><Maximum>814.0</Maximum><Unit>Seconds</Unit></member>
            <member><Timestamp>2026-11-26T22:15:00Z</Timestamp><Maximum>694.0</Maximum><Unit>Seconds</Unit></member>
          </Datapoints><Label>ApproximateAgeOfOldestMessage</Label></GetMetricStatisticsResult>
        </GetMetricStatisticsResponse>"#;
        assert_eq!(latest_maximum(xml), Some(814.0));
        let empty =
            "<GetMetricStatisticsResult><Datapoints/><Label>x</Label></GetMetricStatisticsResult>";
        assert_eq!(latest_maximum(empty), None);
        assert_eq!(
            latest_maximum("<Datapoints>\n</Datapoints>"),
            None,
            "no data point"
        );
    }

    #[test]
    fn errors_name_their_code() {
        let xml = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                   <Message>not authorized to perform: cloudwatch:GetMetricStatistics</Message>\
                   </Error></ErrorResponse>";
        assert_eq!(
            error_of(xml),
            "AccessDenied: not authorized to perform: cloudwatch:GetMetricStatistics"
        );
        assert_eq!(error_of("oops"), "oops");
    }

    #[test]
    fn prefixed_and_attributed_elements_are_read_by_their_local_names() {
        let xml = r#"<cw:GetMetricStatisticsResponse xmlns:cw="http://monitoring.amazonaws.com/doc/2010-08-01/">
          <cw:GetMetricStatisticsResult><cw:Datapoints>
            <cw:member><cw:Timestamp>2026-11-26T22:16:00Z</cw:Timestamp><cw:Maximum>754.0</cw:Maximum></cw:member>
            <cw:member><cw:Timestamp>2026-11-26T22:17:00Z</cw:Timestamp><cw:Maximum unit="Seconds"> 814.0 </cw:Maximum></cw:member>
          </cw:Datapoints></cw:GetMetricStatisticsResult>
        </cw:GetMetricStatisticsResponse>"#;
        assert_eq!(latest_maximum(xml), Some(814.0));
    }

    #[test]
    fn a_data_point_in_a_comment_or_in_text_is_no_data_point() {
        let xml = r#"<GetMetricStatisticsResponse><GetMetricStatisticsResult>
          <Label><![CDATA[<Datapoints><member><Timestamp>2030-01-01T00:00:00Z</Timestamp><Maximum>999</Maximum></member></Datapoints>]]></Label>
          <Datapoints>
            <!-- <member><Timestamp>2030-01-01T00:00:00Z</Timestamp><Maximum>999</Maximum></member> -->
            <member><Timestamp>2026-11-26T22:17:00Z</Timestamp><Maximum>5.0</Maximum></member>
          </Datapoints></GetMetricStatisticsResult>
        </GetMetricStatisticsResponse>"#;
        assert_eq!(latest_maximum(xml), Some(5.0));
        assert_eq!(latest_maximum("<Datapoints><member>"), None, "cut short");
    }

    #[test]
    fn error_text_is_read_with_its_entities_and_cdata() {
        let xml = "<ErrorResponse><Error><Type>Sender</Type>\
                   <Message><![CDATA[the <Code> is a <b>rate</b>]]> for role/a&amp;b &lt;x&gt;</Message>\
                   <Code>Throttling</Code></Error></ErrorResponse>";
        assert_eq!(
            error_of(xml),
            "Throttling: the <Code> is a <b>rate</b> for role/a&b <x>"
        );
        let prefixed = "<aws:ErrorResponse xmlns:aws=\"urn:x\"><aws:Error>\
                        <aws:Code>AccessDenied</aws:Code></aws:Error></aws:ErrorResponse>";
        assert_eq!(error_of(prefixed), "AccessDenied");
    }

    #[test]
    fn the_query_asks_for_the_queues_maximum_age_per_minute() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let q = query(
            "kaseya-button-ParkedPresses-1A2B",
            t("2026-11-26T22:10:00Z"),
            t("2026-11-26T22:15:00Z"),
        );
        assert_eq!(
            q,
            "Action=GetMetricStatistics&Version=2010-08-01&Namespace=AWS%2FSQS\
             &MetricName=ApproximateAgeOfOldestMessage&Dimensions.member.1.Name=QueueName\
             &Dimensions.member.1.Value=kaseya-button-ParkedPresses-1A2B\
             &StartTime=2026-11-26T22%3A10%3A00Z&EndTime=2026-11-26T22%3A15%3A00Z&Period=60\
             &Statistics.member.1=Maximum"
        );
    }

    #[test]
    fn ages_read_as_a_person_would_say_them() {
        let s = Duration::from_secs;
        assert_eq!(human(s(45)), "45 s");
        assert_eq!(human(s(754)), "12 min");
        assert_eq!(human(s(3 * 3600 + 5 * 60 + 9)), "3 h 5 min");
    }
}
