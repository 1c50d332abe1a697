//! `POST /api/tickets.json`: osTicket's ticket API, as the clients that speak it read the
//! answers: `201` with the ticket id in digits, and errors as one line of plain text.
//!
//! These clients send no `Idempotency-Key` and retry for minutes after a slow answer, so a
//! request without one is keyed by its content (see [`crate::osticket::implicit_key`]).

use std::time::Instant;

use chrono::Duration;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

use super::keys::Caller;
use super::{Problem, answer, emit_metrics};
use crate::button::{ButtonRequest, RequestError};
use crate::config::OsTicketAnswer;
use crate::context::{Channel, Origin};
use crate::idempotency::IdempotencyKey;
use crate::kaseya::CreatedTicket;
use crate::press::{self, Pressed, Repeat, Submitted};
use crate::state::State;

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

/// An osTicket request, read once: the ticket in the body as a button press, and the client's
/// own `Idempotency-Key` if it sent one.
pub(crate) struct Press {
    button: ButtonRequest,
    explicit: Option<IdempotencyKey>,
}

impl Press {
    pub fn parse(req: &Request) -> Result<Press, Problem> {
        let explicit = IdempotencyKey::from_headers(req.headers())
            .map_err(|e| Problem::from(RequestError::Malformed(e)))?;
        let button = crate::osticket::parse(req.body().as_ref())?;
        Ok(Press { button, explicit })
    }
}

/// File the ticket, or answer the one an identical request filed within the window. A request
/// without an `Idempotency-Key` is keyed by its content (these clients retry for minutes).
pub(super) async fn create(
    state: &State,
    press: Press,
    caller: &Caller,
) -> Result<Response<Body>, Problem> {
    let started = Instant::now();
    let dedupe = state.config.osticket_dedupe;
    let repeat = match press.explicit {
        Some(key) => Some(Repeat::keyed(key)),
        None if dedupe.is_zero() => None,
        None => Some(Repeat {
            key: crate::osticket::implicit_key(&press.button),
            window: Duration::from_std(dedupe).unwrap_or(crate::idempotency::WINDOW),
        }),
    };
    let pressed = Pressed {
        name_from_contact: true,
        ..Pressed::arriving(repeat, false, caller.name.as_deref(), &caller.scope).from(Origin {
            channel: Channel::Osticket,
            ..caller.origin.clone()
        })
    };
    let submitted = press::submit(state.pipeline(), press.button, pressed)
        .await
        .map_err(|failed| Problem::from(failed.error));
    let counts = submitted
        .as_ref()
        .map(Submitted::counts)
        .unwrap_or_default();
    emit_metrics(state, started, counts);
    let ticket = match submitted? {
        Submitted::Rejected(rejection) => {
            tracing::info!(rule = rejection.rule, "a rule rejected the ticket");
            return Err(Problem {
                status: 403,
                ..Problem::rejected(rejection.message)
            });
        }
        Submitted::Duplicate(first) => {
            tracing::info!(
                ticket_id = first.id,
                "repeated osTicket request: answered with its ticket"
            );
            first
        }
        Submitted::Filed(filed) => filed.ticket,
    };
    Ok(created(&ticket, state.config.osticket_answer))
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
    // osTicket's clients read one line: a detail that quotes the caller's text (a charset
    // label, a data type) may hold line breaks of its own.
    let body = if p.status == 401 {
        UNAUTHORIZED.to_string()
    } else {
        p.detail.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    text(status, body, p.retry_after)
}

fn text(status: StatusCode, body: String, retry_after: Option<u64>) -> Response<Body> {
    answer::text(status, body, retry_after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::header;

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
    fn an_error_quoting_line_breaks_is_still_one_line() {
        let p = Problem::from(RequestError::Malformed(
            "the message's charset `utf-8\r\nX-Forged: 1` is not known".into(),
        ));
        let Body::Text(body) = error(&p).into_body() else {
            panic!("a text body")
        };
        assert_eq!(body.lines().count(), 1, "{body:?}");
        assert!(body.contains("utf-8 X-Forged: 1"), "{body:?}");
    }

    #[test]
    fn errors_are_one_line_of_text() {
        let read = |r: Response<Body>| match r.body() {
            Body::Text(t) => (r.status().as_u16(), t.clone(), r.headers().clone()),
            _ => panic!("a text body"),
        };
        let (status, body, headers) = read(error(&Problem::unauthorized("whatever")));
        assert_eq!((status, body.as_str()), (401, UNAUTHORIZED));
        assert_eq!(headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
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
