//! Secrets Manager and Parameter Store, relayed: a function pointed at the sandbox for them too
//! (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL_SSM`) reaches a real API (moto)
//! through it, so that its secret's fetch and its rules parameter's read are recorded beside
//! its BMS calls and take the same injected latency. A cold start's round trips are then
//! counted from one record, secret and rules included.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Where relayed calls go.
#[derive(Clone, Debug)]
pub struct Relay {
    upstream: String,
    http: reqwest::Client,
}

/// The AWS JSON protocol names the operation in this header.
const TARGET: &str = "x-amz-target";

impl Relay {
    pub fn new(upstream: &str) -> Relay {
        Relay {
            upstream: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
        }
    }

    /// `secretsmanager.GetSecretValue`, `AmazonSSM.GetParameter` and the like: the operation
    /// a request calls, when it is a Secrets Manager or Parameter Store request.
    pub fn operation(req: &Request) -> Option<String> {
        let target = req.headers().get(TARGET)?.to_str().ok()?;
        ["secretsmanager.", "AmazonSSM."]
            .iter()
            .any(|service| target.starts_with(service))
            .then(|| target.to_string())
    }

    /// The upstream's answer, as it is: status, headers and body.
    pub async fn forward(&self, req: Request) -> Response {
        let (parts, body) = req.into_parts();
        let Ok(body) = to_bytes(body, 1024 * 1024).await else {
            return (StatusCode::PAYLOAD_TOO_LARGE, "relayed request too large").into_response();
        };
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut request = self
            .http
            .request(parts.method, format!("{}{path}", self.upstream));
        for (name, value) in &parts.headers {
            if ![header::HOST, header::CONTENT_LENGTH, header::CONNECTION].contains(name) {
                request = request.header(name, value);
            }
        }
        let answer = match request.body(body).send().await {
            Ok(answer) => answer,
            Err(e) => {
                let message = format!("the Secrets Manager behind the sandbox did not answer: {e}");
                return (StatusCode::BAD_GATEWAY, message).into_response();
            }
        };
        let mut response = Response::builder().status(answer.status());
        for (name, value) in answer.headers() {
            let hop = [
                header::CONTENT_LENGTH,
                header::CONNECTION,
                header::TRANSFER_ENCODING,
            ];
            if !hop.contains(name) {
                response = response.header(name, value);
            }
        }
        let body = answer.bytes().await.unwrap_or_default();
        response
            .body(Body::from(body))
            .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
    }
}
