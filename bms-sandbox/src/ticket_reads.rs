//! Reading a ticket back (`GET /v2/servicedesk/tickets/{id}` and its notes), and what the
//! help desk does to a ticket between two reads: a technician changes its status or writes a
//! note, through `Sandbox::set_ticket_status` and `Sandbox::add_staff_note` (or the
//! `/_sandbox/tickets/{id}/...` routes the demo uses).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Value, json};

use crate::envelope::Reply;
use crate::query::{Params, path_id};
use crate::state::{self, Shared, rfc3339};

fn not_found(id: i64) -> Reply {
    Reply::fail(StatusCode::NOT_FOUND, &format!("Ticket {id} not found"))
}

/// `GET /v2/servicedesk/tickets/{ticketId}`: the `TicketOutputDto` kept for it.
pub(crate) async fn get_one(State(shared): State<Arc<Shared>>, Path(raw): Path<String>) -> Reply {
    let id = match path_id("ticketId", &raw) {
        Ok(id) => id,
        Err(reply) => return reply,
    };
    let state = shared.lock();
    match state.ticket(id) {
        Some(t) => Reply::ok(t.output.clone()),
        None => not_found(id),
    }
}

/// `GET /v2/servicedesk/tickets/{ticketId}/notes`: its notes as `TicketNoteOutputDto`, oldest
/// first (BMS documents no order), paged.
pub(crate) async fn list_notes(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Reply {
    let id = match path_id("ticketId", &raw) {
        Ok(id) => id,
        Err(reply) => return reply,
    };
    let mut params = Params::new(pairs);
    params.int("PageSize");
    params.int("PageNumber");
    if !params.errors.is_empty() {
        return Reply::invalid(params.errors);
    }
    let notes: Vec<Value> = {
        let state = shared.lock();
        if state.ticket(id).is_none() {
            return not_found(id);
        }
        state
            .note_outputs
            .iter()
            .filter(|(t, _)| *t == id)
            .map(|(_, n)| n.clone())
            .collect()
    };
    Reply::ok(Value::Array(params.paginate(notes)))
}

impl state::State {
    /// The ticket with this id, if the sandbox accepted one.
    pub fn ticket(&self, id: i64) -> Option<&state::StoredTicket> {
        self.tickets
            .iter()
            .find(|t| t.output["Id"].as_i64() == Some(id))
    }

    /// Move a ticket to another of the tenant's statuses, as a technician does.
    pub fn set_status(&mut self, ticket_id: i64, status_id: i64) -> Result<(), String> {
        let status = self
            .tenant
            .status(status_id)
            .ok_or(format!("status {status_id} does not exist"))?
            .clone();
        let ticket = self
            .tickets
            .iter_mut()
            .find(|t| t.output["Id"].as_i64() == Some(ticket_id))
            .ok_or(format!("ticket {ticket_id} does not exist"))?;
        let now = rfc3339(Utc::now());
        ticket.output["StatusId"] = json!(status.id);
        ticket.output["StatusName"] = json!(status.name);
        ticket.output["LastStatusUpdate"] = json!(now);
        ticket.output["ModifiedOn"] = json!(now);
        Ok(())
    }

    /// Keep a note's `TicketNoteOutputDto`, written by `author` (an employee id and name).
    pub fn keep_note(
        &mut self,
        ticket_id: i64,
        author: (i64, &str),
        details: &str,
        internal: bool,
        attachments: Vec<Value>,
    ) -> i64 {
        let id = self.next_note_id;
        self.next_note_id += 1;
        let now = rfc3339(Utc::now());
        self.note_outputs.push((
            ticket_id,
            json!({
                "Id": id,
                "CreatedBy": author.0,
                "CreatedOn": now,
                "CreatedByName": author.1,
                "Details": details,
                "IsInternal": internal,
                "Attachments": attachments,
            }),
        ));
        if let Some(t) = self
            .tickets
            .iter_mut()
            .find(|t| t.output["Id"].as_i64() == Some(ticket_id))
        {
            t.output["LastActivityUpdate"] = json!(now);
        }
        id
    }

    /// A technician's note (an assignee of the tenant writes it), public or internal.
    pub fn add_staff_note(
        &mut self,
        ticket_id: i64,
        assignee_id: i64,
        details: &str,
        internal: bool,
    ) -> Result<i64, String> {
        let name = self
            .tenant
            .assignee(assignee_id)
            .ok_or(format!("assignee {assignee_id} does not exist"))?
            .name
            .clone();
        if self.ticket(ticket_id).is_none() {
            return Err(format!("ticket {ticket_id} does not exist"));
        }
        Ok(self.keep_note(
            ticket_id,
            (assignee_id, &name),
            details,
            internal,
            Vec::new(),
        ))
    }
}

/// `POST /_sandbox/tickets/{id}/status?id=N`: the demo's technician moves the ticket.
pub(crate) async fn sandbox_status(
    State(shared): State<Arc<Shared>>,
    Path(ticket): Path<i64>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> (StatusCode, axum::Json<Value>) {
    let status = pairs
        .iter()
        .find(|(k, _)| k == "id")
        .and_then(|(_, v)| v.parse::<i64>().ok());
    let result = match status {
        Some(s) => shared.lock().set_status(ticket, s),
        None => Err("give the status as ?id=N".to_owned()),
    };
    control(result.map(|()| json!({"ticket": ticket, "status": status})))
}

/// `POST /_sandbox/tickets/{id}/notes` with `{"text", "internal", "assignee"}`: the demo's
/// technician writes on the ticket (assignee 501, Jane Tech, unless named).
pub(crate) async fn sandbox_note(
    State(shared): State<Arc<Shared>>,
    Path(ticket): Path<i64>,
    axum::Json(body): axum::Json<Value>,
) -> (StatusCode, axum::Json<Value>) {
    let text = body["text"].as_str().unwrap_or_default();
    let internal = body["internal"].as_bool().unwrap_or(false);
    let assignee = body["assignee"]
        .as_i64()
        .unwrap_or(crate::tenant::ASSIGNEE_JANE_TECH);
    let result = if text.is_empty() {
        Err("give the note's text as {\"text\": ...}".to_owned())
    } else {
        shared
            .lock()
            .add_staff_note(ticket, assignee, text, internal)
    };
    control(result.map(|id| json!({"ticket": ticket, "note": id})))
}

fn control(result: Result<Value, String>) -> (StatusCode, axum::Json<Value>) {
    match result {
        Ok(v) => (StatusCode::OK, axum::Json(v)),
        Err(error) => (StatusCode::BAD_REQUEST, axum::Json(json!({"error": error}))),
    }
}
