//! The route table, the read-only CRM and lookup routes, and the sandbox's own `/_sandbox/...`
//! introspection routes.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::envelope::Reply;
use crate::middleware::{bms_layer, require_token};
use crate::query::{Params, path_id};
use crate::state::{Failure, Shared};
use crate::{assets, crm, login, ticket_reads, ticket_updates, tickets};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let protected = Router::new()
        .route("/v2/crm/contacts/search", get(contacts_search))
        .route(
            "/v2/crm/accounts/{account_id}/locations/lookup",
            get(account_locations),
        )
        .route("/v2/crm/accounts/lookup", get(crm::accounts))
        .route(
            "/v2/crm/accounts/{account_id}/contacts/lookup",
            get(crm::account_contacts),
        )
        .route("/v2/crm/contacts/summary", post(crm::create_contact))
        .route(
            "/v2/servicedesk/hardwareasset/searchselect",
            get(assets::search),
        )
        .route("/v2/system/issuetypes/lookup", get(assets::issue_types))
        .route(
            "/v2/system/issuetypes/{issue_type_id}/issuesubtypes/lookup",
            get(assets::sub_issue_types),
        )
        .route("/v2/system/statuses/lookup", get(statuses))
        .route("/v2/system/priorities/lookup", get(priorities))
        .route("/v2/system/queues/lookup", get(queues))
        .route("/v2/hr/assignees/lookup", get(assignees))
        .route("/v2/system/lookup/{table}", get(lookup_table))
        .route("/v2/system/tenantlookup/{table}", get(lookup_table))
        .route(
            "/v2/servicedesk/tickets",
            get(tickets::list).post(tickets::create),
        )
        .route(
            "/v2/servicedesk/tickets/{ticket_id}",
            get(ticket_reads::get_one),
        )
        .route(
            "/v2/servicedesk/tickets/{ticket_id}/notes",
            get(ticket_reads::list_notes).post(ticket_updates::add_note),
        )
        .route(
            "/v2/servicedesk/tickets/{ticket_id}/resolve",
            post(ticket_updates::resolve),
        )
        // A route layer, so unknown paths answer 404 whether or not the caller is logged in,
        // as ASP.NET's endpoint routing does.
        .route_layer(from_fn_with_state(shared.clone(), require_token));
    Router::new()
        .route("/v2/security/authenticate", post(login::authenticate))
        .route("/v2/security/refreshtoken", post(login::refresh))
        .route("/_sandbox/tickets", get(sandbox_tickets))
        .route("/_sandbox/calls", get(sandbox_calls))
        .route("/_sandbox/tenant", get(sandbox_tenant))
        .route(
            "/_sandbox/tickets/{ticket_id}/status",
            post(ticket_reads::sandbox_status),
        )
        .route(
            "/_sandbox/tickets/{ticket_id}/notes",
            post(ticket_reads::sandbox_note),
        )
        .route(
            "/_sandbox/outage",
            post(sandbox_outage_start).delete(sandbox_outage_end),
        )
        .merge(protected)
        .fallback(not_found)
        .layer(from_fn_with_state(shared.clone(), bms_layer))
        // The BMS layer buffers bodies under its own, larger limit (inline base64 attachments).
        .layer(DefaultBodyLimit::disable())
        .with_state(shared)
}

async fn not_found(method: Method, uri: Uri) -> Reply {
    Reply::fail(
        StatusCode::NOT_FOUND,
        &format!("No route for {method} {}", uri.path()),
    )
}

async fn contacts_search(
    State(shared): State<Arc<Shared>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Reply {
    let mut params = Params::new(pairs);
    let ids = params.ints("Filter.Ids");
    let account_ids = params.ints("Filter.AccountIds");
    let active = params.bool("Filter.IsActive");
    if !params.errors.is_empty() {
        return Reply::invalid(params.errors);
    }
    let items: Vec<Value> = {
        let state = shared.lock();
        let tenant = &state.tenant;
        tenant
            .contacts
            .iter()
            .filter(|c| ids.is_empty() || ids.contains(&c.id))
            .filter(|c| account_ids.is_empty() || account_ids.contains(&c.account_id))
            .filter(|c| active.is_none_or(|a| a == c.is_active))
            // Deliberately "contains": whether the real filter is exact is undocumented, so
            // clients must compare the address themselves.
            .filter(|c| params.contains("Filter.EmailAddress", Some(&c.email)))
            .filter(|c| params.contains("Filter.FirstName", Some(&c.first_name)))
            .filter(|c| params.contains("Filter.LastName", Some(&c.last_name)))
            .map(|c| {
                let location = c.location_id.and_then(|l| tenant.location(l));
                json!({
                    "Id": c.id,
                    "AccountId": c.account_id,
                    "AccountName": tenant.account(c.account_id).map(|a| &a.name),
                    "LocationId": location.map(|l| l.id),
                    "LocationName": location.map(|l| &l.name),
                    "FirstName": c.first_name,
                    "LastName": c.last_name,
                    "JobTitle": c.job_title,
                    "EmailAddress": c.email,
                    "IsPoc": c.is_poc,
                    "IsActive": c.is_active,
                    "HasClientPortalAccess": c.has_client_portal_access,
                })
            })
            .collect()
    };
    params.page(items)
}

async fn account_locations(
    State(shared): State<Arc<Shared>>,
    Path(account_id): Path<String>,
) -> Reply {
    let account_id = match path_id("accountId", &account_id) {
        Ok(id) => id,
        Err(reply) => return reply,
    };
    let state = shared.lock();
    let items: Vec<Value> = state
        .tenant
        .locations
        .iter()
        .filter(|l| l.account_id == account_id)
        .map(
            |l| json!({"Id": l.id, "Name": l.name, "AccountId": l.account_id, "IsMain": l.is_main}),
        )
        .collect();
    Reply::ok(Value::Array(items))
}

async fn statuses(State(shared): State<Arc<Shared>>) -> Reply {
    let state = shared.lock();
    let items: Vec<Value> = state
        .tenant
        .statuses
        .iter()
        .map(|s| {
            json!({
                "Id": s.id,
                "Name": s.name,
                "FontColor": s.font_color,
                "Color": s.color,
                "StatusOrder": s.order,
                "TypeId": s.type_id,
                // An int32 flag in the spec, not a boolean.
                "IsSystemStatus": i32::from(s.is_system),
                "SlaEventId": null,
                "IsActive": s.is_active,
            })
        })
        .collect();
    Reply::ok(Value::Array(items))
}

async fn priorities(State(shared): State<Arc<Shared>>) -> Reply {
    let state = shared.lock();
    let items: Vec<Value> = state
        .tenant
        .priorities
        .iter()
        .map(|p| json!({"Id": p.id, "Name": p.name, "Color": p.color, "IsDefault": p.is_default}))
        .collect();
    Reply::ok(Value::Array(items))
}

async fn queues(State(shared): State<Arc<Shared>>) -> Reply {
    let state = shared.lock();
    let items: Vec<Value> = state
        .tenant
        .queues
        .iter()
        .map(|q| json!({"Id": q.id, "Name": q.name, "IsActive": q.is_active}))
        .collect();
    Reply::ok(Value::Array(items))
}

async fn assignees(
    State(shared): State<Arc<Shared>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Reply {
    let mut params = Params::new(pairs);
    let ids = params.ints("Filter.Ids");
    if !params.errors.is_empty() {
        return Reply::invalid(params.errors);
    }
    let items: Vec<Value> = {
        let state = shared.lock();
        state
            .tenant
            .assignees
            .iter()
            .filter(|a| ids.is_empty() || ids.contains(&a.id))
            .filter(|a| params.contains("Filter.Name", Some(&a.name)))
            .map(|a| {
                json!({
                    "Id": a.id,
                    "Name": a.name,
                    "Url": null,
                    "EmailAddress": a.email,
                    "JobTitle": a.job_title,
                    "PictureName": null,
                    "PictureURL": null,
                })
            })
            .collect()
    };
    params.page(items)
}

async fn lookup_table(State(shared): State<Arc<Shared>>, Path(table): Path<String>) -> Reply {
    let state = shared.lock();
    match state.tenant.lookup_table(&table) {
        Some(rows) => Reply::ok(Value::Array(
            rows.iter()
                .map(|r| json!({"Id": r.id, "Name": r.name, "IsDefault": r.is_default, "IsActive": r.is_active}))
                .collect(),
        )),
        // The spec's way to fail: HTTP 200 with Success=false.
        None => Reply::error(
            StatusCode::OK,
            400,
            &format!("Lookup table '{table}' does not exist"),
            None,
        ),
    }
}

/// What the demo shows as "what BMS received": the bodies as the client sent them.
async fn sandbox_tickets(State(shared): State<Arc<Shared>>) -> axum::Json<Value> {
    let state = shared.lock();
    let tickets: Vec<&Value> = state.tickets.iter().map(|t| &t.received).collect();
    let notes: Vec<Value> = state
        .notes
        .iter()
        .map(|(ticket_id, note)| json!({"ticket_id": ticket_id, "note": note}))
        .collect();
    let resolutions: Vec<Value> = state
        .resolutions
        .iter()
        .map(|(ticket_id, request)| json!({"ticket_id": ticket_id, "request": request}))
        .collect();
    axum::Json(json!({"tickets": tickets, "notes": notes, "resolutions": resolutions}))
}

async fn sandbox_calls(State(shared): State<Arc<Shared>>) -> axum::Json<Value> {
    let calls = shared.lock().calls.clone();
    axum::Json(json!(calls))
}

/// `POST /_sandbox/outage?status=503`: every BMS call answers that status (default 503) until
/// `DELETE /_sandbox/outage`. What the demo uses to show a press parked while BMS is down.
async fn sandbox_outage_start(
    State(shared): State<Arc<Shared>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> (StatusCode, axum::Json<Value>) {
    let status = match pairs.iter().find(|(k, _)| k == "status") {
        None => 503,
        Some((_, v)) => match v.parse::<u16>() {
            Ok(s @ 400..=599) => s,
            _ => {
                let error = format!("status `{v}`: give an HTTP error status from 400 to 599");
                return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": error})));
            }
        },
    };
    shared.lock().outage = Some(Failure::Status(status));
    (StatusCode::OK, axum::Json(json!({"outage": status})))
}

async fn sandbox_outage_end(State(shared): State<Arc<Shared>>) -> axum::Json<Value> {
    shared.lock().outage = None;
    axum::Json(json!({"outage": null}))
}

/// The seeded names behind the ids, so the demo can show a ticket as a technician reads it.
async fn sandbox_tenant(State(shared): State<Arc<Shared>>) -> axum::Json<Value> {
    let state = shared.lock();
    let t = &state.tenant;
    let named = |id: i64, name: &str| json!({"Id": id, "Name": name});
    axum::Json(json!({
        "Accounts": t.accounts.iter().map(|a| named(a.id, &a.name)).collect::<Vec<_>>(),
        "Locations": t.locations.iter().map(|l| named(l.id, &l.name)).collect::<Vec<_>>(),
        "Contacts": t.contacts.iter().map(|c| json!({
            "Id": c.id,
            "Name": format!("{} {}", c.first_name, c.last_name),
            "Email": c.email,
        })).collect::<Vec<_>>(),
        "Statuses": t.statuses.iter().map(|s| named(s.id, &s.name)).collect::<Vec<_>>(),
        "Priorities": t.priorities.iter().map(|p| named(p.id, &p.name)).collect::<Vec<_>>(),
        "Queues": t.queues.iter().map(|q| named(q.id, &q.name)).collect::<Vec<_>>(),
        "Assignees": t.assignees.iter().map(|a| named(a.id, &a.name)).collect::<Vec<_>>(),
        "TicketTypes": t.ticket_types.iter().map(|i| named(i.id, &i.name)).collect::<Vec<_>>(),
        "TicketSources": t.ticket_sources.iter().map(|i| named(i.id, &i.name)).collect::<Vec<_>>(),
        "Assets": t.assets.iter().map(|a| named(a.id, &a.name)).collect::<Vec<_>>(),
        "IssueTypes": t.issue_types.iter().map(|i| named(i.id, &i.name)).collect::<Vec<_>>(),
    }))
}
