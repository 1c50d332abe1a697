//! `POST /tickets`: a button press becomes a ticket, or, while BMS cannot take it and a queue is
//! configured, a parked press (`202`) that the replay files later.

use std::time::Instant;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{button_press, json_response};
use crate::Ready;
use crate::keys::Caller;
use crate::metrics::Counts;
use crate::press::{self, Pressed, Repeat, Submitted};
use crate::problem::Problem;
use crate::queue::{self, Parked};

/// What the button can show its user when the press is parked.
pub(crate) const PARKED_MESSAGE: &str = "Kaseya BMS cannot take the ticket right now. Your \
    request has been saved and will be filed as soon as BMS is back: there is no need to send it \
    again.";

/// A keyed press first looks for the ticket an earlier try created, at the same time as the
/// contact search: a repeat costs one call more, but no extra round trip. Once filed, a keyed
/// press looks again, so that two containers racing with the same press leave one ticket.
pub(super) async fn create(
    app: &Ready,
    req: &Request,
    caller: &Caller,
) -> Result<Response<Body>, Problem> {
    let started = Instant::now();
    let (button, key) = button_press(req)?;
    let pressed = Pressed::arriving(
        key.map(Repeat::keyed),
        app.queue.is_some(),
        caller.name.as_deref(),
    );
    let outcome = match press::submit(app, button, pressed.clone()).await {
        Err(p) if p.time_cures && app.queue.is_some() => {
            // The press went into the pipeline; the body it came in gives it again.
            let (button, _) = button_press(req)?;
            queue::park(app, &button, &pressed, p)
                .await
                .map(Done::Parked)
        }
        other => other.map(Done::Submitted),
    };
    if app.config.metrics {
        let mut counts = outcome.as_ref().map(Done::counts).unwrap_or_default();
        counts.bms_ms = started.elapsed().as_millis().try_into().unwrap_or(u64::MAX);
        counts.emit();
    }
    outcome?.answer()
}

/// A press, answered.
enum Done {
    Submitted(Submitted),
    Parked(Parked),
}

impl Done {
    fn counts(&self) -> Counts {
        match self {
            Done::Submitted(Submitted::Filed(filed)) => Counts {
                filed: 1,
                unknown_users: u64::from(filed.unregistered),
                fallbacks: filed.fallbacks as u64,
                ..Counts::default()
            },
            Done::Submitted(Submitted::Duplicate(_)) => Counts {
                duplicates: 1,
                ..Counts::default()
            },
            Done::Submitted(Submitted::Rejected(_)) => Counts::default(),
            Done::Parked(_) => Counts {
                parked: 1,
                ..Counts::default()
            },
        }
    }

    fn answer(self) -> Result<Response<Body>, Problem> {
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
                });
                (StatusCode::CREATED, body)
            }
            Done::Parked(parked) => {
                let body = json!({
                    "status": "queued",
                    "reference": parked.reference,
                    "message": PARKED_MESSAGE,
                    "warnings": [],
                });
                (StatusCode::ACCEPTED, body)
            }
        };
        Ok(json_response(status, &body))
    }
}
