//! `POST /tickets`: a button press becomes a ticket.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{json_response, prepare_press};
use crate::Ready;
use crate::kaseya::CreatedTicket;
use crate::keys::Caller;
use crate::press::{self, Next};
use crate::problem::Problem;

/// A keyed press first looks for the ticket an earlier try created, at the same time as the
/// contact search: a repeat costs one call more, but no extra round trip.
pub(super) async fn create(
    app: &Ready,
    req: &Request,
    caller: &Caller,
) -> Result<Response<Body>, Problem> {
    let prepared = prepare_press(app, req, caller).await?;
    let plan = match prepared.next {
        Next::Rejected(rejection) => {
            tracing::info!(rule = rejection.rule, "a rule rejected the ticket");
            return Err(Problem::rejected(rejection.message));
        }
        Next::Duplicate { first, .. } => {
            tracing::info!(
                ticket_id = first.id,
                "repeated press: answered with its ticket"
            );
            return Ok(duplicate(&first));
        }
        Next::File(plan) => plan,
    };
    let filed = press::file(app, &prepared.ev, plan, prepared.marker.as_ref()).await?;
    if filed.duplicate {
        return Ok(duplicate(&filed.ticket));
    }
    // Nothing here may tell a known e-mail from an unknown one: no contact, no account, no
    // "unregistered" flag (the ticket in BMS says all that to the technicians).
    let body = json!({
        "ticketId": filed.ticket.id,
        "ticketNumber": filed.ticket.ticket_number,
        "warnings": filed.warnings,
    });
    Ok(json_response(StatusCode::CREATED, &body))
}

/// `200` with the ticket an earlier (or a racing) try of the same press filed.
fn duplicate(first: &CreatedTicket) -> Response<Body> {
    let body = json!({
        "ticketId": first.id,
        "ticketNumber": first.ticket_number,
        "warnings": [],
        "duplicate": true,
    });
    json_response(StatusCode::OK, &body)
}
