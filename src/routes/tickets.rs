//! `POST /tickets`: a button press becomes a ticket, or, while BMS cannot take it and a queue is
//! configured, a parked press (`202`) that the replay files later.

use std::time::Instant;

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::keys::Caller;
use super::{Problem, answer, emit_metrics, follow_up};
use crate::button::{ButtonRequest, RequestError};
use crate::idempotency::IdempotencyKey;
use crate::metrics::Counts;
use crate::press::{self, Failed, Pressed, Repeat, Submitted};
use crate::queue::{self, Parked, SendError};
use crate::state::State;

/// What the button can show its user when the press is parked.
pub(crate) const PARKED_MESSAGE: &str = "Kaseya BMS cannot take the ticket right now. Your \
    request has been saved and will be filed as soon as BMS is back: there is no need to send it \
    again.";

/// What a parked urgent press adds to its answer: it will be filed, but a person should not
/// wait for that.
pub(crate) fn call_now(phone: &str) -> String {
    format!("If this cannot wait, call the help desk now: {phone}.")
}

/// The `Idempotency-Key` (an unusable one is a 400, never silently ignored) and the
/// `Content-Type` of a request that sends a body to file or add.
pub(super) fn key_and_content_type(
    req: &Request,
) -> Result<(Option<IdempotencyKey>, Option<&str>), Problem> {
    let key = IdempotencyKey::from_headers(req.headers())
        .map_err(|e| Problem::from(RequestError::Malformed(e)))?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    Ok((key, content_type))
}

/// A button press as `/tickets` and the preview take it: the request in the body and its
/// `Idempotency-Key`, read once.
pub(crate) struct Press {
    pub button: ButtonRequest,
    pub key: Option<IdempotencyKey>,
}

impl Press {
    /// The body and the header; an unusable key is a 400, never silently ignored.
    pub fn parse(req: &Request) -> Result<Press, Problem> {
        let (key, content_type) = key_and_content_type(req)?;
        let button = ButtonRequest::parse(content_type, req.body().as_ref())?;
        Ok(Press { button, key })
    }
}

/// A keyed press first looks for the ticket an earlier try created, at the same time as the
/// contact search: a repeat costs one call more, but no extra round trip. Once filed, a keyed
/// press looks again, so that two containers racing with the same press leave one ticket.
pub(super) async fn create(
    state: &State,
    press: Press,
    caller: &Caller,
) -> Result<Response<Body>, Problem> {
    let started = Instant::now();
    let email = press.button.email.clone();
    // Read before the press is filed (a copy authentication has just used): once a ticket
    // exists, nothing may turn its answer into an error the button would retry.
    let secret = state.secrets.get().await?;
    let pressed = Pressed::arriving(
        press.key.map(Repeat::keyed),
        state.queue.is_some(),
        caller.name.as_deref(),
        &caller.scope,
    )
    .from(caller.origin.clone());
    let outcome = match press::submit(state.pipeline(), press.button, pressed.clone()).await {
        Ok(submitted) => Ok(Done::Submitted(submitted)),
        Err(failed) => {
            let urgent = failed.urgent;
            let parked = park(state, failed, &pressed).await;
            parked.map(|parked| Done::Parked { parked, urgent })
        }
    };
    let counts = outcome.as_ref().map(Done::counts).unwrap_or_default();
    emit_metrics(state, started, counts);
    let done = outcome?;
    let tokens = follow_up::Tokens {
        key: secret.marker_key(),
        email: &email,
    };
    done.answer(state.config.web.phone.as_deref(), &tokens)
}

/// Park a press BMS cannot take now, when a queue is configured; otherwise, or when it cannot
/// be parked, the failure is the answer.
async fn park(state: &State, failed: Failed, pressed: &Pressed) -> Result<Parked, Problem> {
    let Failed { error, button, .. } = failed;
    let queue = match &state.queue {
        Some(queue) if error.time_cures() => queue,
        _ => return Err(error.into()),
    };
    let refused = Problem::from(error);
    match queue::park(queue, &button, pressed, &refused.detail).await {
        Ok(parked) => Ok(parked),
        Err(e @ SendError::TooLarge { .. }) => Err(Problem {
            detail: format!(
                "{}. The press could not be kept to be filed later either: {e}. Send it again \
                 once BMS is back (attachments make a press large)",
                refused.detail.trim_end_matches('.')
            ),
            ..refused
        }),
        Err(SendError::Failed(_)) => Err(refused),
    }
}

/// A press, answered.
enum Done {
    Submitted(Submitted),
    /// Kept on the queue; an urgent press's answer says whom to call meanwhile.
    Parked {
        parked: Parked,
        urgent: bool,
    },
}

impl Done {
    fn counts(&self) -> Counts {
        match self {
            Done::Submitted(submitted) => submitted.counts(),
            Done::Parked { .. } => Counts {
                parked: 1,
                ..Counts::default()
            },
        }
    }

    /// The answer; `phone` is `BUTTON_WEB_PHONE`, for a parked urgent press; `tokens` makes the
    /// follow-up token a filed ticket is answered with, and a parked press's claim.
    fn answer(
        self,
        phone: Option<&str>,
        tokens: &follow_up::Tokens,
    ) -> Result<Response<Body>, Problem> {
        let (status, body) = match self {
            Done::Submitted(Submitted::Rejected(rejection)) => {
                tracing::info!(rule = rejection.rule, "a rule rejected the ticket");
                return Err(Problem::rejected(rejection.message));
            }
            Done::Submitted(Submitted::Duplicate(first)) => {
                tracing::info!(
                    ticket_id = first.id,
                    "repeated press: answered with its ticket"
                );
                let body = json!({
                    "ticketId": first.id,
                    "ticketNumber": first.ticket_number,
                    "warnings": [],
                    "duplicate": true,
                    "followUp": tokens.ticket(first.id),
                });
                (StatusCode::OK, body)
            }
            // Nothing here may tell a known e-mail from an unknown one: no contact, no account,
            // no "unregistered" flag (the ticket in BMS says all that to the technicians).
            Done::Submitted(Submitted::Filed(filed)) => {
                let body = json!({
                    "ticketId": filed.ticket.id,
                    "ticketNumber": filed.ticket.ticket_number,
                    "warnings": filed.warnings,
                    "followUp": tokens.ticket(filed.ticket.id),
                });
                (StatusCode::CREATED, body)
            }
            Done::Parked { parked, urgent } => {
                let mut body = json!({
                    "status": "queued",
                    "reference": parked.reference,
                    "message": PARKED_MESSAGE,
                    "warnings": [],
                    "followUp": tokens.claim(&parked.key),
                });
                if let Some(phone) = phone.filter(|_| urgent) {
                    body["message"] = format!("{PARKED_MESSAGE} {}", call_now(phone)).into();
                    body["phone"] = phone.into();
                }
                (StatusCode::ACCEPTED, body)
            }
        };
        Ok(answer::json(status, &body))
    }
}
