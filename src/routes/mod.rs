//! The function's endpoints, one file each. [`Route::parse`] turns a method and a path into the
//! endpoint it asks for; [`Route::apply`] authenticates the caller and hands the request to that
//! endpoint's file, which adapts it to a press (or a report) and the outcome to an answer.
//!
//! A new endpoint is a new file here, a variant of [`Route`] and a line in `parse`.

mod health;
mod preview;
mod tickets;

use lambda_http::http::{HeaderMap, Method, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::Value;

use crate::Ready;
use crate::button::{ButtonRequest, RequestError};
use crate::idempotency::IdempotencyKey;
use crate::keys;
use crate::problem::Problem;

/// What a request asks for.
pub(crate) enum Route {
    /// `POST /tickets`: file a ticket.
    Tickets,
    /// `POST /tickets/preview`: everything but the filing (`BUTTON_PREVIEW=on` only).
    Preview,
    /// `GET /health`: every link of the chain, checked.
    Health,
}

impl Route {
    /// The endpoint `path` names, under any stage or base path, if `method` is the one it takes.
    pub fn parse(method: &Method, path: &str, preview_on: bool) -> Result<Route, Problem> {
        let (route, allowed) = if path.ends_with("/tickets/preview") {
            (Route::Preview, Method::POST)
        } else if path.ends_with("/tickets") {
            (Route::Tickets, Method::POST)
        } else if path.ends_with("/health") {
            (Route::Health, Method::GET)
        } else {
            return Err(Problem::not_found(path));
        };
        if matches!(route, Route::Preview) && !preview_on {
            return Err(Problem {
                detail: format!(
                    "`{path}` is switched off: it shows the BMS contact an e-mail matches, so it \
                     answers only when the function runs with BUTTON_PREVIEW=on"
                ),
                ..Problem::not_found(path)
            });
        }
        if *method != allowed {
            return Err(Problem::method_not_allowed(
                method.as_str(),
                path,
                allowed.as_str(),
            ));
        }
        Ok(route)
    }

    /// Authenticate the caller, then answer.
    pub async fn apply(self, app: &Ready, req: Request) -> Result<Response<Body>, Problem> {
        keys::authenticate(app, req.headers()).await?;
        match self {
            Route::Tickets => tickets::create(app, &req).await,
            Route::Preview => preview::preview(app, &req).await,
            Route::Health => Ok(health::report(app).await),
        }
    }
}

/// The button request in the body, and its `Idempotency-Key`: an unusable key is a 400, never
/// silently ignored.
fn button_press(req: &Request) -> Result<(ButtonRequest, Option<IdempotencyKey>), Problem> {
    let key = idempotency_key(req.headers())?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let button = ButtonRequest::parse(content_type, req.body().as_ref())?;
    Ok((button, key))
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, Problem> {
    IdempotencyKey::from_headers(headers).map_err(|e| Problem::from(RequestError::Malformed(e)))
}

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::Empty))
}
