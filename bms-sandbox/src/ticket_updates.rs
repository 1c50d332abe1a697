//! What is done to a ticket once it exists: a note added, the ticket resolved.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use serde_json::{Value, json};

use crate::envelope::Reply;
use crate::query::path_id;
use crate::schema::{field, int_field, str_field, validate_note_input, validate_resolve_ticket};
use crate::state::{Shared, rfc3339};
use crate::tenant::{API_USER_DISPLAY_NAME, API_USER_ID};
use crate::tickets::json_body;

/// The ticket id of the path and the JSON body, checked as the spec declares both: what every
/// request on an existing ticket starts with.
fn checked(
    ticket_id: &str,
    headers: &HeaderMap,
    body: &[u8],
    validate: fn(&Value) -> Vec<String>,
) -> Result<(i64, Value), Reply> {
    let id = path_id("ticketId", ticket_id)?;
    let body = json_body(headers, body)?;
    let errors = validate(&body);
    if !errors.is_empty() || !body.is_object() {
        return Err(Reply::invalid(errors));
    }
    Ok((id, body))
}

pub(crate) async fn add_note(
    State(shared): State<Arc<Shared>>,
    Path(ticket_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let (ticket_id, body) = match checked(&ticket_id, &headers, &body, validate_note_input) {
        Ok(checked) => checked,
        Err(reply) => return reply,
    };
    let Some(obj) = body.as_object() else {
        return Reply::invalid(vec!["the body is not a JSON object".into()]);
    };
    let mut state = shared.lock();
    if !state
        .tickets
        .iter()
        .any(|t| t.output["Id"].as_i64() == Some(ticket_id))
    {
        return Reply::fail(
            StatusCode::NOT_FOUND,
            &format!("Ticket {ticket_id} not found"),
        );
    }
    if let Some(status) = int_field(obj, "StatusId")
        && state.tenant.status(status).is_none()
    {
        return Reply::invalid(vec![format!("StatusId: status {status} does not exist")]);
    }
    let now = rfc3339(Utc::now());
    let mut attachments = Vec::new();
    for item in field(obj, "Attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(attachment) = item.as_object() else {
            continue;
        };
        let name = str_field(attachment, "Name");
        attachments.push(json!({
            "Id": state.next_attachment_id,
            "OriginalFileName": name,
            "AliasName": str_field(attachment, "Alias").or(name),
            "FileType": str_field(attachment, "Type"),
            "ObjectId": ticket_id,
            "CreatedOn": now,
        }));
        state.next_attachment_id += 1;
    }
    state.notes.push((ticket_id, body.clone()));
    let details = str_field(obj, "Details").unwrap_or_default().to_owned();
    let internal = field(obj, "IsInternal")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let author = (API_USER_ID, API_USER_DISPLAY_NAME);
    let note_id = state.keep_note(ticket_id, author, &details, internal, attachments.clone());
    Reply::ok(json!({
        "Id": note_id,
        "CreatedOn": now,
        "Details": str_field(obj, "Details"),
        "IsInternal": field(obj, "IsInternal"),
        "TypeId": int_field(obj, "TypeId"),
        "Attachments": attachments,
    }))
}

/// The status type of the seeded "Completed" status: where a resolve that names no status
/// moves the ticket.
const COMPLETED_STATUS_TYPE: i64 = 3;

/// `POST /v2/servicedesk/tickets/{ticketId}/resolve`: the `ResolveTicketDto` is checked, the
/// ticket moves to the status it names (else the tenant's completed status), and the request
/// is kept for `Sandbox::resolutions`. The answer is the ticket, as `TicketOutputDto`.
pub(crate) async fn resolve(
    State(shared): State<Arc<Shared>>,
    Path(ticket_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let (ticket_id, body) = match checked(&ticket_id, &headers, &body, validate_resolve_ticket) {
        Ok(checked) => checked,
        Err(reply) => return reply,
    };
    let Some(obj) = body.as_object() else {
        return Reply::invalid(vec!["the body is not a JSON object".into()]);
    };
    let mut state = shared.lock();
    let status = match int_field(obj, "StatusId") {
        Some(id) => match state.tenant.status(id) {
            Some(s) if s.is_active => s.clone(),
            Some(_) => return Reply::invalid(vec![format!("StatusId: status {id} is inactive")]),
            None => {
                return Reply::invalid(vec![format!("StatusId: status {id} does not exist")]);
            }
        },
        None => match state
            .tenant
            .statuses
            .iter()
            .find(|s| s.type_id == COMPLETED_STATUS_TYPE && s.is_active)
        {
            Some(s) => s.clone(),
            None => {
                return Reply::invalid(vec![
                    "StatusId: the tenant has no completed status; name one".to_owned(),
                ]);
            }
        },
    };
    let Some(ticket) = state
        .tickets
        .iter_mut()
        .find(|t| t.output["Id"].as_i64() == Some(ticket_id))
    else {
        return Reply::fail(
            StatusCode::NOT_FOUND,
            &format!("Ticket {ticket_id} not found"),
        );
    };
    ticket.output["StatusId"] = json!(status.id);
    ticket.output["StatusName"] = json!(status.name);
    let output = ticket.output.clone();
    state.resolutions.push((ticket_id, body.clone()));
    Reply::ok(output)
}
