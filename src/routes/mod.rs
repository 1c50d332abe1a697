//! The function's endpoints, one file each, and the one way into them: [`answer`] takes an API
//! Gateway request, serves the public pages, authenticates the caller ([`keys`]), parses the
//! request into the [`Route`] it asks for (with its body already read, once), and applies it.
//! Every failure on the way becomes a [`Problem`] here and nowhere else, and every answer is
//! built by [`answer`](mod@answer).
//!
//! A new endpoint is a new file here, a variant of [`Route`] and a line in `Route::parse`.

pub(crate) mod answer;
mod follow_up;
mod health;
mod keys;
mod osticket;
mod pages;
mod preview;
mod problem;
mod rules_try;
mod tickets;

use std::time::Instant;

use lambda_http::http::Method;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::config::ConfigError;
use crate::deadline;
use crate::kaseya;
use crate::metrics::Counts;
use crate::state::State;
use keys::Caller;
use pages::Page;
pub(crate) use problem::Problem;

/// What a request asks for, with what it carries already parsed.
pub(crate) enum Route {
    /// `POST /tickets`: file a ticket.
    Tickets(tickets::Press),
    /// `POST /tickets/preview`: everything but the filing (`BUTTON_PREVIEW=on` only).
    Preview(tickets::Press),
    /// `GET /health`: every link of the chain, checked.
    Health,
    /// `POST /rules/try`: a rules document checked and tried on a press (`BUTTON_PREVIEW=on`
    /// only); it reads its own body, which is no button press.
    RulesTry(Request),
    /// `POST /api/tickets.json` (or `/api/http.php/tickets.json`): osTicket's ticket API.
    OsTicket(osticket::Press),
    /// `GET /tickets/{ticketId}`: a ticket's status and replies, for its follow-up token.
    Status(follow_up::Target),
    /// `POST /tickets/{ticketId}/notes`: the user adds to their ticket.
    AddNote(follow_up::AddNote),
    /// `GET /tickets/parked`: a parked press's claim, exchanged for its ticket once filed.
    Claim(follow_up::Target),
}

/// One invocation, answered. Never fails: every error becomes a problem+json answer (plain text
/// on osTicket's routes, which its clients read).
pub(crate) async fn handle(state: Result<&State, &ConfigError>, req: Request) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().clone();
    let in_text = osticket::answers_in_text(req.uri().path());
    // Lambda hands an event over before its deadline. One already past is not a real deadline
    // (local emulators send a duration, e.g. 600000, where the epoch time belongs) and is
    // ignored: API Gateway's budget still bounds the invocation.
    let lambda_deadline = req
        .lambda_context_ref()
        .filter(|c| c.deadline > 0)
        .map(|c| c.deadline())
        .filter(|&at| at > std::time::SystemTime::now());
    let deadline = deadline::for_api(started, lambda_deadline);
    let result = match state {
        Ok(state) => kaseya::within(deadline, route(state, &method, req)).await,
        Err(e) => Err(Problem::from(e)),
    };
    let response = result.unwrap_or_else(|p| refused(&p, in_text));
    tracing::info!(
        %method,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "answered"
    );
    response
}

/// A failure, logged by its weight and answered in the route's format.
fn refused(p: &Problem, in_text: bool) -> Response<Body> {
    if p.status >= 500 {
        tracing::error!(status = p.status, detail = ?p.detail, "request failed");
    } else {
        tracing::info!(status = p.status, detail = ?p.detail, "request refused");
    }
    if in_text {
        osticket::error(p)
    } else {
        answer::problem(p)
    }
}

/// Authenticate first: until the caller shows a key, nothing is said about the endpoints. The web
/// pages alone are public: they hold no secret, and a page that needs a key gets it from the link
/// that opened it.
async fn route(state: &State, method: &Method, req: Request) -> Result<Response<Body>, Problem> {
    let path = route_path(&req, &state.config.base_path);
    if let Some(page) = path
        .as_deref()
        .and_then(|p| Page::parse(method, p, &state.config))
    {
        // The help page lists the selections of the rules in hand; it never waits for a read.
        let rules = state.rules.in_hand().await;
        let selections = rules.as_deref().map_or(&[][..], |r| r.selections());
        return Ok(page.answer(&state.config, selections));
    }
    let caller = keys::authenticate(&state.secrets, state.config.auth, &req).await?;
    let path = path.ok_or_else(Problem::not_found)?;
    Route::parse(method, &path, &caller, state.config.preview, req)?
        .apply(state, &caller)
        .await
}

impl Route {
    /// The endpoint `path` (see [`route_path`]) names, if `method` is the one it takes and the
    /// caller may use it, with its body parsed. Only an authenticated caller gets this far, and
    /// only an operator learns what is switched on.
    pub fn parse(
        method: &Method,
        path: &str,
        caller: &Caller,
        preview_on: bool,
        req: Request,
    ) -> Result<Route, Problem> {
        // A button key reads and adds to the tickets its tokens open.
        if let Some(route) = follow_up::route(method, path, &req) {
            return route;
        }
        let (name, allowed) = match path {
            "/tickets"
            | "/tickets/preview"
            | "/rules/try"
            | osticket::JSON
            | osticket::JSON_NO_REWRITE => (path, Method::POST),
            "/health" => (path, Method::GET),
            p if osticket::other_format(p) => return Err(osticket::only_json()),
            _ => return Err(Problem::not_found()),
        };
        // A button key files tickets, through either API, and nothing else.
        let files = matches!(
            name,
            "/tickets" | osticket::JSON | osticket::JSON_NO_REWRITE
        );
        if !files {
            keys::require_operator(caller, name)?;
        }
        let why_off = match name {
            "/tickets/preview" => Some("it shows the BMS contact an e-mail matches"),
            "/rules/try" => Some("it is a tool for writing rules"),
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
        Ok(match name {
            "/tickets" => Route::Tickets(tickets::Press::parse(&req)?),
            "/tickets/preview" => Route::Preview(tickets::Press::parse(&req)?),
            "/health" => Route::Health,
            "/rules/try" => Route::RulesTry(req),
            _ => Route::OsTicket(osticket::Press::parse(&req)?),
        })
    }

    /// Answer an authenticated caller.
    pub async fn apply(self, state: &State, caller: &Caller) -> Result<Response<Body>, Problem> {
        match self {
            Route::Tickets(press) => tickets::create(state, press, caller).await,
            Route::Preview(press) => preview::preview(state, press, caller).await,
            Route::Health => Ok(health::report(state).await),
            Route::RulesTry(req) => rules_try::answer(&req).await,
            Route::OsTicket(press) => osticket::create(state, press, caller).await,
            Route::Status(target) => follow_up::status(state, target).await,
            Route::AddNote(add) => follow_up::add_note(state, add, caller).await,
            Route::Claim(claim) => follow_up::claim(state, claim, caller).await,
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

/// Write a press's metric line (`BUTTON_METRICS`): the counts and the time it took.
fn emit_metrics(state: &State, started: Instant, mut counts: Counts) {
    if state.config.metrics {
        counts.bms_ms = started.elapsed().as_millis().try_into().unwrap_or(u64::MAX);
        counts.emit();
    }
}
