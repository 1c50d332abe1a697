//! `POST /api/tickets.json`: osTicket's ticket API, as the clients that speak it read the
//! answers: `201` with the ticket id in digits, and errors as one line of plain text.
//!
//! These clients send no `Idempotency-Key` and retry for minutes after a slow answer, so a
//! request without one is keyed by its content (see [`crate::osticket::implicit_key`]).

use chrono::Duration;
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};

use super::idempotency_key;
use crate::Ready;
use crate::button::{RequestError, Text};
use crate::config::OsTicketAnswer;
use crate::kaseya::CreatedTicket;
use crate::keys::Caller;
use crate::press::{self, Next, Plan, Repeat};
use crate::problem::Problem;

/// The route, and the same for an osTicket without URL rewriting.
pub(crate) const JSON: &str = "/api/tickets.json";
pub(crate) const JSON_NO_REWRITE: &str = "/api/http.php/tickets.json";
/// osTicket's other formats, answered with a 400 that names the one served.
const OTHER_FORMATS: [&str; 4] = [
    "/api/tickets.xml",
    "/api/tickets.email",
    "/api/http.php/tickets.xml",
    "/api/http.php/tickets.email",
];
/// What osTicket itself answers to a missing or wrong key; clients may look for it.
const UNAUTHORIZED: &str = "Valid API key required";
const TEXT: &str = "text/plain; charset=utf-8";

pub(crate) fn other_format(path: &str) -> bool {
    OTHER_FORMATS.contains(&path)
}

pub(crate) fn only_json() -> Problem {
    RequestError::Malformed(format!(
        "only osTicket's JSON format is served: POST the ticket as JSON to {JSON} (or \
         {JSON_NO_REWRITE}); XML and e-mail bodies are not read"
    ))
    .into()
}

/// Whether errors on `path` (the request's whole path) are answered as osTicket's clients read
/// them. Decided on the path alone, before the caller is authenticated or the configuration
/// read, so that a wrong key or a broken deployment is answered in the same plain text.
pub(crate) fn answers_in_text(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    [JSON, JSON_NO_REWRITE]
        .iter()
        .chain(&OTHER_FORMATS)
        .any(|route| path.ends_with(route))
}

/// File the ticket, or answer the one an identical request filed within the window.
pub(super) async fn create(
    app: &Ready,
    req: &Request,
    caller: &Caller,
) -> Result<Response<Body>, Problem> {
    let explicit = idempotency_key(req.headers())?;
    let button = crate::osticket::parse(req.body().as_ref())?;
    let repeat = match explicit {
        Some(key) => Some(Repeat::keyed(key)),
        None if app.config.osticket_dedupe.is_zero() => None,
        None => Some(Repeat {
            key: crate::osticket::implicit_key(&button),
            window: Duration::from_std(app.config.osticket_dedupe)
                .unwrap_or(crate::idempotency::WINDOW),
        }),
    };
    let prepared = press::prepare(app, button, repeat, caller.name.as_deref()).await?;
    let ticket = match prepared.next {
        Next::Rejected(rejection) => {
            tracing::info!(rule = rejection.rule, "a rule rejected the ticket");
            return Err(Problem {
                status: 403,
                ..Problem::rejected(rejection.message)
            });
        }
        Next::Duplicate { first, .. } => {
            tracing::info!(
                ticket_id = first.id,
                "repeated osTicket request: answered with its ticket"
            );
            first
        }
        Next::File(plan) => {
            let mut ev = prepared.ev;
            if ev.button.name.is_none() {
                ev.button.name = requester_name(&ev.button.email, &plan);
            }
            press::file(app, &ev, plan, prepared.marker.as_ref())
                .await?
                .ticket
        }
    };
    Ok(created(&ticket, app.config.osticket_answer))
}

/// osTicket requires a name and these clients may not send one: the BMS contact's, else the
/// e-mail. Only for the ticket's details; the rules saw the request as it came.
fn requester_name(email: &crate::button::Email, plan: &Plan) -> Option<Text> {
    let contact = &plan.requester.contact;
    let is_the_user = contact
        .email
        .as_deref()
        .is_some_and(|e| email.eq_ignore_case(e));
    let full = [&contact.first_name, &contact.last_name]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let name = if is_the_user && !full.is_empty() {
        full
    } else {
        email.as_str().to_string()
    };
    Text::parse("name", &name).ok().flatten()
}

fn created(ticket: &CreatedTicket, answer: OsTicketAnswer) -> Response<Body> {
    let body = match (answer, &ticket.ticket_number) {
        (OsTicketAnswer::Number, Some(number)) if !number.trim().is_empty() => number.clone(),
        _ => ticket.id.to_string(),
    };
    text(StatusCode::CREATED, body, None)
}

/// An error as one line of text: osTicket's own words for a missing key, else the detail.
pub(crate) fn error(p: &Problem) -> Response<Body> {
    let body = if p.status == 401 {
        UNAUTHORIZED.to_string()
    } else {
        p.detail.clone()
    };
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    text(status, body, p.retry_after)
}

fn text(status: StatusCode, body: String, retry_after: Option<u64>) -> Response<Body> {
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, TEXT);
    if let Some(secs) = retry_after {
        builder = builder.header(header::RETRY_AFTER, secs.to_string());
    }
    builder
        .body(Body::Text(body))
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_answers_on_osticket_paths_under_any_prefix() {
        for path in [
            "/api/tickets.json",
            "/Prod/helpdesk/api/tickets.json/",
            "/api/http.php/tickets.json",
            "/api/tickets.xml",
            "/x/api/http.php/tickets.email",
        ] {
            assert!(answers_in_text(path), "{path}");
        }
        for path in ["/tickets", "/api/tickets", "/health", "/api/tickets.json/x"] {
            assert!(!answers_in_text(path), "{path}");
        }
    }

    #[test]
    fn errors_are_one_line_of_text() {
        let read = |r: Response<Body>| match r.body() {
            Body::Text(t) => (r.status().as_u16(), t.clone(), r.headers().clone()),
            _ => panic!("a text body"),
        };
        let (status, body, headers) = read(error(&Problem::unauthorized("whatever")));
        assert_eq!((status, body.as_str()), (401, UNAUTHORIZED));
        assert_eq!(headers[header::CONTENT_TYPE], TEXT);
        let busy = Problem {
            status: 503,
            retry_after: Some(30),
            ..Problem::unauthorized("BMS is unavailable")
        };
        let (status, body, headers) = read(error(&busy));
        assert_eq!((status, body.as_str()), (503, "BMS is unavailable"));
        assert_eq!(headers[header::RETRY_AFTER], "30");
    }
}
