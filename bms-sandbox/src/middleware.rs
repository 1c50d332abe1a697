//! The layers every BMS call passes through: bearer-token check, injected failures, latency,
//! call recording, and turning each answer into a cased BMS envelope.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::envelope::Reply;
use crate::relay::Relay;
use crate::state::{Call, Failure, Shared};

/// Attachments travel inline as base64, so bodies can be large; this only stops runaway input.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Outermost layer for everything but `/_sandbox/...`: every call passes here in one order,
/// and the order is the point: recorded, the failure asked for injected (or the handler run),
/// made an envelope, recorded again with its status, delayed, and then answered, broken or
/// garbled as the failure says.
pub(crate) async fn bms_layer(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    if req.uri().path().starts_with("/_sandbox/") {
        return next.run(req).await;
    }
    let arrived = std::time::Instant::now();
    if let Some(operation) = Relay::operation(&req) {
        return relayed(&shared, req, operation, arrived).await;
    }
    let (arrival, req, too_large) = arrive(req, arrived).await;
    let (failure, latency) = {
        let mut state = shared.lock();
        (
            state.take_failure(&arrival.method, &arrival.path),
            state.latency,
        )
    };
    let Some((response, aftermath)) = answer(failure, too_large, req, next).await else {
        record(&shared, arrival, 0, None);
        // The client gives up and drops this future; nothing after this runs.
        return std::future::pending().await;
    };
    let (response, status) = into_envelope(response, &shared).await;

    // Recorded before the delay: a client that gives up waiting drops this future, and the call
    // (and any ticket it created) must still show, as it would on a real server. Its end is
    // therefore when the delay will be over.
    let delay = latency + aftermath.delay;
    let ends = std::time::Instant::now() + delay;
    record(&shared, arrival, status, Some(ends));
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    aftermath.applied_to(response)
}

/// The request with its body read whole (so that it can be recorded), and whether the body
/// was over [`BODY_LIMIT`]. Login bodies hold the password and are not recorded.
async fn arrive(req: Request, at: std::time::Instant) -> (Arrival, Request, bool) {
    let path = req.uri().path().to_owned();
    let method = req.method().as_str().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let (parts, body) = req.into_parts();
    let (bytes, too_large) = match to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => (bytes, false),
        Err(_) => (Bytes::new(), true),
    };
    let body = if path.starts_with("/v2/security/") {
        None
    } else {
        body_value(&bytes)
    };
    let arrival = Arrival {
        method,
        path,
        query,
        body,
        at,
    };
    (
        arrival,
        Request::from_parts(parts, Body::from(bytes)),
        too_large,
    )
}

/// What an injected failure still does once the answer is made.
#[derive(Default)]
struct Aftermath {
    /// Added to the sandbox's latency.
    delay: Duration,
    /// The connection breaks instead of carrying the answer.
    drop_answer: bool,
    /// The answer's body is an HTML page instead of JSON.
    garble: bool,
}

impl Aftermath {
    fn applied_to(self, response: Response) -> Response {
        if self.drop_answer {
            let (parts, _) = response.into_parts();
            return Response::from_parts(parts, Body::new(BrokenBody));
        }
        if self.garble {
            let (mut parts, _) = response.into_parts();
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            return Response::from_parts(
                parts,
                Body::from("<html><body>Bad gateway</body></html>"),
            );
        }
        response
    }
}

/// The answer to a request with `failure` injected, made by the handler unless the failure
/// replaces it; `None` for a request never to be answered ([`Failure::Hang`]).
async fn answer(
    failure: Option<Failure>,
    too_large: bool,
    req: Request,
    next: Next,
) -> Option<(Response, Aftermath)> {
    let mut aftermath = Aftermath::default();
    let response = match failure {
        _ if too_large => {
            Reply::fail(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large").into_response()
        }
        Some(Failure::SuccessFalse(message)) => {
            Reply::error(StatusCode::OK, 500, &message, None).into_response()
        }
        Some(Failure::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Reply::fail(status, status.canonical_reason().unwrap_or("Error")).into_response()
        }
        Some(Failure::StatusRetryAfter(code, retry_after)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut response =
                Reply::fail(status, status.canonical_reason().unwrap_or("Error")).into_response();
            if let Ok(value) = HeaderValue::from_str(&retry_after) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Some(Failure::Hang) => return None,
        Some(Failure::Delay(extra)) => {
            aftermath.delay = extra;
            next.run(req).await
        }
        Some(Failure::DropAnswer) => {
            aftermath.drop_answer = true;
            next.run(req).await
        }
        Some(Failure::GarbledAnswer) => {
            aftermath.garble = true;
            next.run(req).await
        }
        None => next.run(req).await,
    };
    Some((response, aftermath))
}

/// A Secrets Manager call, recorded as `POST /secretsmanager.GetSecretValue` (no body: it
/// names the secret) and answered by the relay after the injected latency.
async fn relayed(
    shared: &Shared,
    req: Request,
    operation: String,
    arrived: std::time::Instant,
) -> Response {
    let (relay, latency) = {
        let state = shared.lock();
        (state.relay.clone(), state.latency)
    };
    let arrival = Arrival {
        method: req.method().as_str().to_owned(),
        path: format!("/{operation}"),
        query: String::new(),
        body: None,
        at: arrived,
    };
    let response = match relay {
        Some(relay) => relay.forward(req).await,
        None => (
            StatusCode::NOT_IMPLEMENTED,
            "this sandbox relays no Secrets Manager: start it with Options::secrets_manager",
        )
            .into_response(),
    };
    let ends = std::time::Instant::now() + latency;
    record(shared, arrival, response.status().as_u16(), Some(ends));
    tokio::time::sleep(latency).await;
    response
}

/// A request as it came in, before its answer is known.
struct Arrival {
    method: String,
    path: String,
    query: String,
    body: Option<Value>,
    at: std::time::Instant,
}

fn record(shared: &Shared, arrival: Arrival, status: u16, ends: Option<std::time::Instant>) {
    let mut state = shared.lock();
    let Arrival {
        method,
        path,
        query,
        body,
        at,
    } = arrival;
    if state.log_calls {
        eprintln!("{method} {path} -> {status}");
    }
    let started = at.saturating_duration_since(state.epoch);
    // A call that is never answered never ends: nothing can be said to have waited for it.
    let ended = ends.map_or(Duration::MAX, |end| {
        end.saturating_duration_since(state.epoch)
    });
    state.calls.push(Call {
        method,
        path,
        query,
        status,
        body,
        started,
        ended,
    });
}

/// A body that fails at once: the server breaks the connection after the status line at
/// most, as when a proxy or the network drops an answer.
struct BrokenBody;

impl http_body::Body for BrokenBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "bms-sandbox drops this answer",
        ))))
    }
}

/// Serialises a handler's `Reply` in the current casing; anything else (a 404 or 405 from the
/// router, an extractor's rejection) becomes a `Success=false` envelope with the same status.
async fn into_envelope(response: Response, shared: &Shared) -> (Response, u16) {
    let (mut parts, body) = response.into_parts();
    let reply = match parts.extensions.remove::<Reply>() {
        Some(reply) => reply,
        None => {
            let text = to_bytes(body, BODY_LIMIT).await.unwrap_or_default();
            let text = String::from_utf8_lossy(&text);
            let message = if text.trim().is_empty() {
                parts
                    .status
                    .canonical_reason()
                    .unwrap_or("Error")
                    .to_owned()
            } else {
                text.trim().to_owned()
            };
            Reply::fail(parts.status, &message)
        }
    };
    let casing = shared.lock().casing;
    let bytes = serde_json::to_vec(&casing.apply(reply.body)).unwrap_or_default();
    parts.status = reply.status;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    (
        Response::from_parts(parts, Body::from(bytes)),
        reply.status.as_u16(),
    )
}

fn body_value(bytes: &Bytes) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    Some(
        serde_json::from_slice(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
    )
}

/// Route layer for every `/v2/...` route but login and refresh.
pub(crate) async fn require_token(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    let valid = bearer(req.headers()).is_some_and(|token| shared.lock().token_is_valid(token));
    if valid {
        return next.run(req).await;
    }
    let mut response = Reply::fail(StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
