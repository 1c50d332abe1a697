//! The function's endpoints, one file each. Once the caller is authenticated ([`crate::keys`]),
//! [`Route::parse`] turns a method and a path into the endpoint it asks for, and
//! [`Route::apply`] hands the request to that endpoint's file, which adapts it to a press (or a
//! report) and the outcome to an answer.
//!
//! The web pages ([`Page`]) are the exception: public, they are matched before anyone is
//! authenticated.
//!
//! A new endpoint is a new file here, a variant of [`Route`] and a line in `parse`.

pub(crate) mod health;
pub(crate) mod osticket;
mod pages;
mod preview;
mod rules_try;
mod tickets;

pub(crate) use pages::Page;

use lambda_http::http::{HeaderMap, Method, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::Value;

use crate::Ready;
use crate::button::{ButtonRequest, RequestError};
use crate::idempotency::IdempotencyKey;
use crate::keys::{self, Caller};
use crate::press;
use crate::problem::Problem;

/// What a request asks for.
pub(crate) enum Route {
    /// `POST /tickets`: file a ticket.
    Tickets,
    /// `POST /tickets/preview`: everything but the filing (`BUTTON_PREVIEW=on` only).
    Preview,
    /// `GET /health`: every link of the chain, checked.
    Health,
    /// `POST /rules/try`: a rules document checked and tried on a press (`BUTTON_PREVIEW=on`
    /// only).
    RulesTry,
    /// `POST /api/tickets.json` (or `/api/http.php/tickets.json`): osTicket's ticket API.
    OsTicket,
}

impl Route {
    /// The endpoint `path` (see [`route_path`]) names, if `method` is the one it takes and the
    /// caller may use it. Only an authenticated caller gets this far, and only an operator learns
    /// what is switched on.
    pub fn parse(
        method: &Method,
        path: &str,
        caller: &Caller,
        preview_on: bool,
    ) -> Result<Route, Problem> {
        let (route, name, allowed) = match path {
            "/tickets" => (Route::Tickets, "/tickets", Method::POST),
            "/tickets/preview" => (Route::Preview, "/tickets/preview", Method::POST),
            "/health" => (Route::Health, "/health", Method::GET),
            "/rules/try" => (Route::RulesTry, "/rules/try", Method::POST),
            osticket::JSON => (Route::OsTicket, osticket::JSON, Method::POST),
            osticket::JSON_NO_REWRITE => (Route::OsTicket, osticket::JSON_NO_REWRITE, Method::POST),
            p if osticket::other_format(p) => return Err(osticket::only_json()),
            _ => return Err(Problem::not_found()),
        };
        // A button key files tickets, through either API, and nothing else.
        if !matches!(route, Route::Tickets | Route::OsTicket) {
            keys::require_operator(caller, name)?;
        }
        let why_off = match route {
            Route::Preview => Some("it shows the BMS contact an e-mail matches"),
            Route::RulesTry => Some("it is a tool for writing rules"),
            _ => None,
        };
        if let Some(why) = why_off.filter(|_| !preview_on) {
            return Err(Problem {
                detail: format!(
                    "{name} is switched off: {why}, so it answers only when the function runs \
                     with BUTTON_PREVIEW=on"
                ),
                ..Problem::not_found()
            });
        }
        if *method != allowed {
            return Err(Problem::method_not_allowed(
                method.as_str(),
                name,
                allowed.as_str(),
            ));
        }
        Ok(route)
    }

    /// Answer an authenticated caller.
    pub async fn apply(
        self,
        app: &Ready,
        req: Request,
        caller: &Caller,
    ) -> Result<Response<Body>, Problem> {
        match self {
            Route::Tickets => tickets::create(app, &req, caller).await,
            Route::Preview => preview::preview(app, &req, caller).await,
            Route::Health => Ok(health::report(app).await),
            Route::RulesTry => rules_try::answer(&req).await,
            Route::OsTicket => osticket::create(app, &req, caller).await,
        }
    }
}

/// The path an endpoint is named by: the request's path less the API Gateway stage (a REST API's
/// `/Prod`) and the configured base path, without a trailing `/`. `None` when the path is not
/// under the base path. Matching exactly below these, and nowhere else, means `/admin/x/tickets`
/// is no way to file a ticket.
pub(crate) fn route_path(req: &Request, base_path: &str) -> Option<String> {
    let mut path = req.uri().path();
    let stage = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(c)) => c.stage.as_deref(),
        Some(RequestContext::ApiGatewayV2(c)) => c.stage.as_deref(),
        _ => None,
    };
    if let Some(stage) = stage.filter(|s| *s != "$default") {
        path = strip_segment(path, &format!("/{stage}")).unwrap_or(path);
    }
    let path = strip_segment(path, base_path)?;
    let path = path.trim_end_matches('/');
    Some(if path.is_empty() { "/" } else { path }.to_string())
}

/// `path` without `prefix`, when `prefix` is whole segments of it.
fn strip_segment<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
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

/// The button request in the body, taken through [`press::prepare`] with the caller's key name.
async fn prepare_press(
    app: &Ready,
    req: &Request,
    caller: &Caller,
) -> Result<press::Prepared, Problem> {
    let (button, key) = button_press(req)?;
    press::prepare(
        app,
        button,
        key.map(press::Repeat::keyed),
        caller.name.as_deref(),
    )
    .await
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, Problem> {
    IdempotencyKey::from_headers(headers).map_err(|e| Problem::from(RequestError::Malformed(e)))
}

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Text(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::Empty))
}
