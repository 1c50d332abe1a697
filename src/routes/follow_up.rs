//! `GET /tickets/{ticketId}` and `POST /tickets/{ticketId}/notes`: the person who pressed reads
//! their ticket's status and the help desk's replies, and adds to it, with the follow-up token
//! the press was answered with ([`crate::follow_up`]).
//!
//! Every refusal of the token (none, forged, expired, another ticket's) and a ticket BMS does
//! not have get one answer, [`Problem::no_such_ticket`]: nothing tells them apart.

use chrono::{DateTime, Utc};
use lambda_http::http::{HeaderMap, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::keys::Caller;
use super::{Problem, Route, answer};
use crate::button::{Email, NoteRequest};
use crate::follow_up::{self, FollowUp};
use crate::idempotency::{IdempotencyKey, Marker, MarkerKey};
use crate::kaseya::{BmsError, NoteInput};
use crate::state::State;
use crate::ticket::attachment_inputs;

/// What a follow-up request names: the ticket (`None` when the path holds no ticket id, which
/// is answered as a ticket that does not exist) and the token it presents.
pub(crate) struct Target {
    ticket_id: Option<i64>,
    token: Option<String>,
}

/// A note to add, its body parsed.
pub(crate) struct AddNote {
    target: Target,
    note: NoteRequest,
    key: Option<IdempotencyKey>,
}

/// Where a parked press's claim is exchanged for its ticket.
const CLAIMS: &str = "/tickets/parked";

/// Which follow-up endpoint `path` is, if one: `/tickets/{x}` (not `/tickets/preview`) reads,
/// `/tickets/{x}/notes` adds.
pub(crate) fn endpoint(path: &str) -> Option<(&'static str, Method, &str)> {
    let rest = path.strip_prefix("/tickets/")?;
    match rest.split_once('/') {
        None if rest != "preview" => Some(("/tickets/{ticketId}", Method::GET, rest)),
        Some((id, "notes")) => Some(("/tickets/{ticketId}/notes", Method::POST, id)),
        _ => None,
    }
}

/// The follow-up [`Route`] `path` names, if it names one: the method checked, the body parsed.
pub(crate) fn route(method: &Method, path: &str, req: &Request) -> Option<Result<Route, Problem>> {
    if path == CLAIMS {
        return Some(if *method == Method::GET {
            Ok(Route::Claim(Target::parse("", req.headers())))
        } else {
            Err(Problem::method_not_allowed(method.as_str(), CLAIMS, "GET"))
        });
    }
    let (name, allowed, id) = endpoint(path)?;
    if *method != allowed {
        return Some(Err(Problem::method_not_allowed(
            method.as_str(),
            name,
            allowed.as_str(),
        )));
    }
    Some(if allowed == Method::GET {
        Ok(Route::Status(Target::parse(id, req.headers())))
    } else {
        AddNote::parse(id, req).map(Route::AddNote)
    })
}

impl Target {
    pub fn parse(id: &str, headers: &HeaderMap) -> Target {
        // BMS ids are 32-bit and start at 1; anything else names no ticket.
        let ticket_id = id.parse::<i32>().ok().filter(|n| *n > 0).map(i64::from);
        let token = headers
            .get(follow_up::HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_string());
        Target { ticket_id, token }
    }

    /// The token's word, if it holds for this ticket now.
    async fn check(&self, state: &State) -> Result<FollowUp, Problem> {
        let secret = state.secrets.get().await?;
        let valid = valid_for(state);
        match (self.ticket_id, &self.token) {
            (Some(id), Some(token)) => {
                follow_up::verify(secret.marker_key(), token, id, Utc::now(), valid)
                    .ok_or_else(Problem::no_such_ticket)
            }
            _ => Err(Problem::no_such_ticket()),
        }
    }
}

impl AddNote {
    pub fn parse(id: &str, req: &Request) -> Result<AddNote, Problem> {
        let (key, content_type) = super::tickets::key_and_content_type(req)?;
        let note = NoteRequest::parse(content_type, req.body().as_ref())?;
        Ok(AddNote {
            target: Target::parse(id, req.headers()),
            note,
            key,
        })
    }
}

/// What a press is answered with to follow it up: a filed ticket's token, or a parked press's
/// claim.
pub(super) struct Tokens<'a> {
    pub key: &'a MarkerKey,
    pub email: &'a Email,
}

impl Tokens<'_> {
    pub fn ticket(&self, id: i64) -> String {
        follow_up::issue(self.key, id, self.email, Utc::now())
    }

    pub fn claim(&self, press_key: &IdempotencyKey) -> String {
        follow_up::issue_claim(self.key, self.email, press_key, Utc::now())
    }
}

/// The ticket as its user may see it: reused for a minute, else read in one wave of two calls.
pub(super) async fn status(state: &State, target: Target) -> Result<Response<Body>, Problem> {
    let follow = target.check(state).await?;
    let id = follow.ticket_id;
    let status = match state.statuses.get(id) {
        Some(status) => status,
        None => {
            let (ticket, notes) = tokio::join!(
                Box::pin(state.bms.get_ticket(id)),
                Box::pin(state.bms.ticket_notes(id))
            );
            let status = follow_up::status(ticket.map_err(missing)?, notes.map_err(missing)?);
            state.statuses.put(id, status.clone());
            status
        }
    };
    let body = serde_json::to_value(&status).unwrap_or_default();
    Ok(answer::json(StatusCode::OK, &body))
}

/// Add the user's note, unless a repeat of it (the same `Idempotency-Key`) already did.
pub(super) async fn add_note(
    state: &State,
    add: AddNote,
    caller: &Caller,
) -> Result<Response<Body>, Problem> {
    let follow = add.target.check(state).await?;
    let id = follow.ticket_id;
    let email = Email::parse(&follow.email).map_err(|_| Problem::no_such_ticket())?;
    let secret = state.secrets.get().await?;
    let marker = add
        .key
        .as_ref()
        .map(|k| Marker::for_note(secret.marker_key(), &email, k, &caller.scope, id));
    if let Some(marker) = &marker {
        let notes = state.bms.ticket_notes(id).await.map_err(missing)?;
        let earlier = notes.iter().find(|n| {
            let details = n.details.as_deref().unwrap_or_default();
            details.trim_end().lines().next_back() == Some(marker.as_str())
        });
        if let Some(earlier) = earlier {
            tracing::info!(
                ticket_id = id,
                note_id = earlier.id,
                "repeated note: added once"
            );
            let body = json!({"noteId": earlier.id, "duplicate": true});
            return Ok(answer::json(StatusCode::OK, &body));
        }
    }
    let input = note_input(state, &add.note, marker.as_ref(), Utc::now());
    let note_id = state
        .bms
        .add_note_for_id(id, &input)
        .await
        .map_err(missing)?;
    state.statuses.forget(id);
    tracing::info!(ticket_id = id, note_id, "the user added a note");
    Ok(answer::json(
        StatusCode::CREATED,
        &json!({"noteId": note_id}),
    ))
}

/// A parked press's claim, exchanged for its ticket and follow-up token once the replay has
/// filed it (`200`), or answered `202` while it waits. The ticket is found by the mark the
/// press's key puts on it (the search repeats use), under this caller's key: the function keeps
/// nothing of the press. A claim that does not hold is answered as a ticket that does not exist.
pub(super) async fn claim(
    state: &State,
    target: Target,
    caller: &Caller,
) -> Result<Response<Body>, Problem> {
    let secret = state.secrets.get().await?;
    let valid = valid_for(state);
    let claim = target
        .token
        .as_deref()
        .and_then(|t| follow_up::verify_claim(secret.marker_key(), t, Utc::now(), valid))
        .ok_or_else(Problem::no_such_ticket)?;
    let marker = Marker::scoped(secret.marker_key(), &claim.email, &claim.key, &caller.scope);
    // A replayed ticket opens at the press time, a moment before the claim was issued.
    let since = claim.issued - chrono::Duration::minutes(10);
    let found = state.bms.find_marked_tickets(&marker, since).await?;
    let Some(ticket) = found.into_iter().min_by_key(|t| t.id) else {
        let body = json!({"status": "queued"});
        return Ok(answer::json(StatusCode::ACCEPTED, &body));
    };
    let body = json!({
        "ticketId": ticket.id,
        "ticketNumber": ticket.ticket_number,
        "followUp": follow_up::issue(secret.marker_key(), ticket.id, &claim.email, Utc::now()),
    });
    Ok(answer::json(StatusCode::OK, &body))
}

fn note_input(
    state: &State,
    note: &NoteRequest,
    marker: Option<&Marker>,
    now: DateTime<Utc>,
) -> NoteInput {
    let names: Vec<String> = note.attachments.iter().map(|a| a.name.clone()).collect();
    let message = note.message.as_ref().map_or("", |m| m.as_str());
    NoteInput {
        details: follow_up::user_note(message, &names, marker),
        is_internal: false,
        type_id: state.config.note_type_id,
        note_date: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        attachments: attachment_inputs(&note.attachments),
    }
}

/// A ticket BMS does not have (deleted since) is answered as any ticket the token does not
/// open; every other failure as BMS's failures are.
/// `BUTTON_FOLLOW_UP_DAYS`: how long a token or a claim holds.
fn valid_for(state: &State) -> chrono::Duration {
    chrono::Duration::from_std(state.config.follow_up).unwrap_or(chrono::Duration::zero())
}

fn missing(e: BmsError) -> Problem {
    match e {
        BmsError::Failed { status: 404, .. } => Problem::no_such_ticket(),
        e => Problem::from(e),
    }
}
