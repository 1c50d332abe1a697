//! `POST /tickets/preview`: everything a press does except filing, shown to a technician.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{Value, json};

use super::keys::Caller;
use super::tickets::Press;
use super::{Problem, answer};
use crate::press::{self, Next, Plan, Pressed, Repeat};
use crate::state::State;

/// The context before and after the rules, the contact, the resolved ids and the exact ticket
/// and note BMS would receive.
pub(super) async fn preview(
    state: &State,
    press: Press,
    caller: &Caller,
) -> Result<Response<Body>, Problem> {
    let repeat = press.key.map(Repeat::keyed);
    let pressed = Pressed::arriving(repeat, false, caller.name.as_deref(), &caller.scope)
        .from(caller.origin.clone());
    let prepared = press::prepare(state.pipeline(), press.button, pressed).await?;
    let ev = &prepared.ev;
    let mut body = json!({
        "contextBefore": ev.before.vars(),
        "contextAfter": ev.after.vars(),
        "rules": &ev.outcome,
    });
    let (plan, duplicate_of): (Plan, Value) = match prepared.next {
        Next::Rejected(_) => return Ok(answer::json(StatusCode::OK, &body)),
        Next::Duplicate { first, plan } => (
            plan,
            json!({"ticketId": first.id, "ticketNumber": first.ticket_number}),
        ),
        Next::File(plan) => (plan, Value::Null),
    };
    let ticket = plan.ticket(ev, prepared.marker.as_ref());
    // Every name the rules can set, also in rules this press did not reach (the lists are
    // cached: the press has just read most of them).
    body["unknownNames"] = json!(super::health::unknown_rules_names(state, &ev.rules).await?);
    body["contact"] = json!({
        "contactId": plan.requester.contact.as_ref().map(|c| c.id),
        "accountId": plan.requester.account_id,
        "locationId": plan.requester.location_id,
        "unregistered": plan.requester.unregistered,
    });
    body["decisions"] = plan.decisions(state.catch_all.email());
    body["resolved"] = json!(plan.resolution);
    // The technicians' text: the button is told less (see `press::Warning`).
    let warnings: Vec<&str> = plan.warnings.iter().map(|w| w.ticket.as_str()).collect();
    body["warnings"] = json!(warnings);
    body["duplicateOf"] = duplicate_of;
    body["ticket"] = json!(ticket);
    body["note"] = json!(plan.note);
    Ok(answer::json(StatusCode::OK, &body))
}
