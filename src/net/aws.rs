//! The AWS SDK's calls (Secrets Manager, SQS) carried by the function's HTTP client, so that
//! they share its roots and connections instead of building a second TLS stack that reads the
//! system's certificates at start.

use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

use super::Net;

/// The SDK's HTTP client: requests carried by `net`.
pub fn http_client(net: &Net) -> SharedHttpClient {
    SharedHttpClient::new(Client {
        http: net.http().clone(),
    })
}

#[derive(Debug)]
struct Client {
    http: reqwest::Client,
}

impl HttpClient for Client {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(Connector {
            http: self.http.clone(),
            read_timeout: settings.read_timeout(),
        })
    }
}

#[derive(Debug)]
struct Connector {
    http: reqwest::Client,
    /// The SDK's own operation timeouts bound the whole call; this bounds one answer.
    read_timeout: Option<Duration>,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let http = self.http.clone();
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let mut request = to_reqwest(request)?;
            if let Some(t) = read_timeout {
                *request.timeout_mut() = Some(t);
            }
            let answer = http.execute(request).await.map_err(transport_error)?;
            from_reqwest(answer).await
        })
    }
}

fn to_reqwest(request: HttpRequest) -> Result<reqwest::Request, ConnectorError> {
    let request = request
        .try_into_http1x()
        .map_err(|e| ConnectorError::other(e.into(), None))?;
    let (parts, body) = request.into_parts();
    // Secrets Manager and SQS requests are small JSON documents, always held in memory.
    let body = body
        .bytes()
        .ok_or_else(|| {
            ConnectorError::other("a streaming request body is not supported".into(), None)
        })?
        .to_vec();
    reqwest::Request::try_from(http::Request::from_parts(parts, body))
        .map_err(|e| ConnectorError::other(e.into(), None))
}

async fn from_reqwest(answer: reqwest::Response) -> Result<HttpResponse, ConnectorError> {
    let mut builder = http::Response::builder().status(answer.status());
    if let Some(headers) = builder.headers_mut() {
        *headers = answer.headers().clone();
    }
    let body = answer.bytes().await.map_err(transport_error)?;
    let response = builder
        .body(SdkBody::from(body))
        .map_err(|e| ConnectorError::other(e.into(), None))?;
    HttpResponse::try_from(response).map_err(|e| ConnectorError::other(e.into(), None))
}

/// Timeouts and failed connections are what the SDK retries; anything else is not.
fn transport_error(e: reqwest::Error) -> ConnectorError {
    if e.is_timeout() {
        ConnectorError::timeout(e.into())
    } else if e.is_connect() || e.is_request() || e.is_body() {
        ConnectorError::io(e.into())
    } else {
        ConnectorError::other(e.into(), None)
    }
}

/// Region and credentials from the environment, as Lambda gives them to a function
/// (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), every call
/// through `net`. Built once per container and shared by the Secrets Manager and SQS clients.
///
/// Read here rather than through the SDK's chain of credential providers (profiles, SSO, web
/// identity, instance metadata): that chain is over half a megabyte of the binary, and on Lambda
/// the first link always answers. Outside Lambda, export the credentials into the environment (`aws
/// configure export-credentials --format env` prints them for a profile).
pub fn sdk_config(net: &Net) -> aws_types::SdkConfig {
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".to_string());
    let mut sdk = aws_types::SdkConfig::builder()
        .behavior_version(
            aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest(),
        )
        .region(aws_types::region::Region::new(region))
        .http_client(http_client(net))
        .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new())
        .time_source(aws_smithy_async::time::SystemTimeSource::new());
    if let (Some(id), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        let credentials =
            Credentials::new(id, secret, var("AWS_SESSION_TOKEN"), None, "environment");
        sdk = sdk.credentials_provider(SharedCredentialsProvider::new(credentials));
    }
    if let Some(url) = var("AWS_ENDPOINT_URL") {
        sdk = sdk.endpoint_url(url);
    }
    sdk.build()
}

/// An AWS setting from the environment; unset when empty.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
