//! Service-desk tickets: create and list. What is done to a ticket once it exists (a note, a
//! resolve) is in `ticket_updates.rs`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::envelope::Reply;
use crate::query::Params;
use crate::schema::{field, int_field, str_field, validate_ticket_input};
use crate::state::{FIRST_TICKET_ID, Shared, StoredTicket, rfc3339};
use crate::tenant::Tenant;

const INT32_MAX: i64 = i32::MAX as i64;

pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let body = match json_body(&headers, &body) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let mut errors = validate_ticket_input(&body);
    let Some(obj) = body.as_object() else {
        return Reply::invalid(errors);
    };
    let mut state = shared.lock();
    errors.extend(check_references(&state.tenant, obj));
    if !errors.is_empty() {
        return Reply::invalid(errors);
    }
    let id = state.next_ticket_id();
    let number = format!(
        "T{}.{:04}",
        Utc::now().format("%Y%m%d"),
        id - FIRST_TICKET_ID + 1
    );
    let output = ticket_output(&state.tenant, obj, id, &number);
    let mut received = obj.clone();
    received.insert("Id".to_owned(), json!(id));
    received.insert("TicketNumber".to_owned(), json!(number));
    state.tickets.push(StoredTicket {
        output: output.clone(),
        received: Value::Object(received),
    });
    Reply::ok(output)
}

/// The `GetTickets` query parameters the spec types as int32; every other one is a string.
const INT_PARAMS: [&str; 9] = [
    "Filter.IsScheduled",
    "Filter.IsRecurringTickets",
    "Filter.ExcludeCompleted",
    "Filter.ContactId",
    "Filter.HardwareAssetId",
    "Filter.AccountLocationId",
    "Filter.ActionType",
    "PageSize",
    "PageNumber",
];

/// The `GetTickets` query parameters the spec types as date-time.
const DATE_TIME_PARAMS: [&str; 18] = [
    "Filter.OpenDateFrom",
    "Filter.OpenDateTo",
    "Filter.CompletedDateFrom",
    "Filter.CompletedDateTo",
    "Filter.LastActivityUpdateFrom",
    "Filter.LastActivityUpdateTo",
    "Filter.CreatedOnFrom",
    "Filter.CreatedOnTo",
    "Filter.LastStatusUpdateFrom",
    "Filter.LastStatusUpdateTo",
    "Filter.LastPriorityUpdateFrom",
    "Filter.LastPriorityUpdateTo",
    "Filter.LastQueueUpdateFrom",
    "Filter.LastQueueUpdateTo",
    "Filter.DueDateFrom",
    "Filter.DueDateTo",
    "Filter.ResolutionTargetTimeFrom",
    "Filter.ResolutionTargetTimeTo",
];

/// The `TicketOutputDto` fields the sandbox keeps that `TicketListDto` has too.
const LIST_FIELDS: [&str; 30] = [
    "Id",
    "TicketNumber",
    "Title",
    "Details",
    "AccountId",
    "AccountName",
    "LocationId",
    "LocationName",
    "ContactId",
    "ContactName",
    "StatusId",
    "StatusName",
    "PriorityId",
    "PriorityName",
    "TypeId",
    "TypeName",
    "SourceId",
    "QueueId",
    "QueueName",
    "AssigneeId",
    "AssigneeName",
    "IssueTypeId",
    "SubIssueTypeId",
    "ContractId",
    "WorkTypeId",
    "SLAId",
    "OpenDate",
    "DueDate",
    "CreatedOn",
    "IsScheduled",
];

/// `GET /v2/servicedesk/tickets`: every typed parameter is checked as ASP.NET binds it; the
/// filters a client of this project uses are applied: the text ones as case-insensitive
/// "contains" (what real BMS does is undocumented), the date ranges inclusive.
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Reply {
    let mut params = Params::new(pairs);
    for name in INT_PARAMS {
        params.int(name);
    }
    for name in DATE_TIME_PARAMS {
        params.date_time(name);
    }
    if !params.errors.is_empty() {
        return Reply::invalid(params.errors);
    }
    let contact = params.int("Filter.ContactId");
    let location = params.int("Filter.AccountLocationId");
    let opened = (
        params.date_time("Filter.OpenDateFrom"),
        params.date_time("Filter.OpenDateTo"),
    );
    let created = (
        params.date_time("Filter.CreatedOnFrom"),
        params.date_time("Filter.CreatedOnTo"),
    );
    let matching: Vec<Value> = {
        let state = shared.lock();
        state
            .tickets
            .iter()
            .map(|t| &t.output)
            .filter(|t| contact.is_none() || t["ContactId"].as_i64() == contact)
            .filter(|t| location.is_none() || t["LocationId"].as_i64() == location)
            .filter(|t| params.contains("Filter.Title", t["Title"].as_str()))
            .filter(|t| params.contains("Filter.Details", t["Details"].as_str()))
            .filter(|t| params.contains("Filter.TicketNumber", t["TicketNumber"].as_str()))
            .filter(|t| params.contains("Filter.Account", t["AccountName"].as_str()))
            .filter(|t| params.contains("Filter.ContactName", t["ContactName"].as_str()))
            .filter(|t| within(&t["OpenDate"], opened) && within(&t["CreatedOn"], created))
            .map(list_item)
            .collect()
    };
    let total = matching.len();
    let page = params.paginate(matching);
    Reply::paged(page, total)
}

/// Inclusive at both ends; a ticket without the date matches only an open range.
fn within(value: &Value, (from, to): (Option<DateTime<Utc>>, Option<DateTime<Utc>>)) -> bool {
    if from.is_none() && to.is_none() {
        return true;
    }
    let Some(at) = value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
    else {
        return false;
    };
    from.is_none_or(|f| at >= f) && to.is_none_or(|t| at <= t)
}

fn list_item(output: &Value) -> Value {
    let mut item = Map::new();
    for name in LIST_FIELDS {
        item.insert(
            name.to_owned(),
            output.get(name).cloned().unwrap_or(Value::Null),
        );
    }
    Value::Object(item)
}

/// ASP.NET answers 415 to a body it has no input formatter for, before any validation.
pub(crate) fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, Reply> {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let is_json = media_type == "application/json"
        || media_type == "text/json"
        || (media_type.starts_with("application/") && media_type.ends_with("+json"));
    if !is_json {
        return Err(Reply::fail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: send application/json",
        ));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Reply::invalid(vec!["body: required".to_owned()]));
    }
    serde_json::from_slice(body)
        .map_err(|e| Reply::invalid(vec![format!("body: not valid JSON ({e})")]))
}

/// A record a ticket refers to by id: its field, what BMS calls it, and whether the tenant has
/// it (`None`) and it is active (`Some(false)` when not).
type Reference = (&'static str, &'static str, fn(&Tenant, i64) -> Option<bool>);

/// The references checked for existence (and activity, where BMS has it), in this order.
const REFERENCES: [Reference; 5] = [
    ("StatusId", "status", |t, n| {
        t.status(n).map(|s| s.is_active)
    }),
    ("PriorityId", "priority", |t, n| t.priority(n).map(|_| true)),
    ("QueueId", "queue", |t, n| t.queue(n).map(|q| q.is_active)),
    ("AssigneeId", "assignee", |t, n| t.assignee(n).map(|_| true)),
    ("TypeId", "ticket type", |t, n| {
        t.ticket_type(n).map(|i| i.is_active)
    }),
];

/// What a real tenant checks beyond the schema, one problem per field, in the order of the
/// fields. Fields the schema already rejected are skipped so each problem is reported once.
fn check_references(tenant: &Tenant, obj: &Map<String, Value>) -> Vec<String> {
    let id = |name: &str| int_field(obj, name).filter(|n| (1..=INT32_MAX).contains(n));
    let mut errors = Vec::new();
    let account = id("AccountId");
    if let Some(a) = account
        && tenant.account(a).is_none()
    {
        errors.push(format!("AccountId: account {a} does not exist"));
    }
    if let Some(l) = id("LocationId") {
        let owner = tenant.location(l).map(|location| location.account_id);
        errors.extend(owned("LocationId", "location", l, owner, account));
    }
    if let Some(c) = id("ContactId") {
        let owner = tenant.contact(c).map(|contact| contact.account_id);
        errors.extend(owned("ContactId", "contact", c, owner, account));
    }
    if let Some(h) = id("HardwareAssetId") {
        let owner = tenant.asset(h).map(|asset| asset.account_id);
        errors.extend(owned(
            "HardwareAssetId",
            "hardware asset",
            h,
            owner,
            account,
        ));
    }
    errors.extend(issue_types(tenant, id("IssueTypeId"), id("SubIssueTypeId")));
    for (field, what, active) in REFERENCES {
        if let Some(n) = id(field) {
            errors.extend(referenced(field, what, n, active(tenant, n)));
        }
    }
    // The spec declares SourceId as any 32-bit number, not an id from 1: the schema lets 0 by.
    if let Some(s) = int_field(obj, "SourceId").filter(|n| i32::try_from(*n).is_ok()) {
        let active = tenant.ticket_source(s).map(|item| item.is_active);
        errors.extend(referenced("SourceId", "ticket source", s, active));
    }
    let is_set = |name: &str| field(obj, name).is_some_and(|v| !v.is_null());
    if !is_set("QueueId") && !is_set("AssigneeId") {
        errors.push("QueueId: QueueId or AssigneeId must be set".to_owned());
    }
    errors
}

/// An issue type must exist and be active; a sub-type must be one of the ticket's issue type.
fn issue_types(tenant: &Tenant, issue: Option<i64>, sub: Option<i64>) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(i) = issue {
        let active = tenant.issue_type(i).map(|t| t.is_active);
        errors.extend(referenced("IssueTypeId", "issue type", i, active));
    }
    if let Some(s) = sub {
        match (tenant.sub_issue_type_owner(s), issue) {
            (None, _) => errors.push(format!("SubIssueTypeId: sub-issue type {s} does not exist")),
            (Some(_), None) => errors.push(format!(
                "SubIssueTypeId: sub-issue type {s} needs its IssueTypeId"
            )),
            (Some(owner), Some(i)) if owner.id != i => errors.push(format!(
                "SubIssueTypeId: {s} is not a sub-type of issue type {i}"
            )),
            (Some(_), Some(_)) => {}
        }
    }
    errors
}

/// The problem with `field`'s `what` `n`, whose account is `owner` (`None`: it does not exist),
/// when the ticket names `account`.
fn owned(
    field: &str,
    what: &str,
    n: i64,
    owner: Option<i64>,
    account: Option<i64>,
) -> Option<String> {
    match owner {
        None => Some(format!("{field}: {what} {n} does not exist")),
        Some(owner) => account
            .filter(|a| *a != owner)
            .map(|a| format!("{field}: {n} does not belong to account {a}")),
    }
}

/// The problem with `field`'s `what` `n`: `active` is `None` when it does not exist.
fn referenced(field: &str, what: &str, n: i64, active: Option<bool>) -> Option<String> {
    match active {
        None => Some(format!("{field}: {what} {n} does not exist")),
        Some(false) => Some(format!("{field}: {what} {n} is inactive")),
        Some(true) => None,
    }
}

/// The `TicketOutputDto` fields a client plausibly reads; the body has passed every check, so
/// every id resolves.
fn ticket_output(tenant: &Tenant, obj: &Map<String, Value>, id: i64, number: &str) -> Value {
    let int = |name: &str| int_field(obj, name);
    let contact = int("ContactId").and_then(|c| tenant.contact(c));
    let queue = int("QueueId").and_then(|q| tenant.queue(q));
    let assignee = int("AssigneeId").and_then(|a| tenant.assignee(a));
    json!({
        "Id": id,
        "TicketNumber": number,
        "Title": str_field(obj, "Title"),
        "Details": str_field(obj, "Details"),
        "AccountId": int("AccountId"),
        "AccountName": int("AccountId").and_then(|a| tenant.account(a)).map(|a| &a.name),
        "LocationId": int("LocationId"),
        "LocationName": int("LocationId").and_then(|l| tenant.location(l)).map(|l| &l.name),
        "ContactId": contact.map(|c| c.id),
        "ContactName": contact.map(|c| format!("{} {}", c.first_name, c.last_name)),
        "ContactEmail": contact.map(|c| &c.email),
        "StatusId": int("StatusId"),
        "StatusName": int("StatusId").and_then(|s| tenant.status(s)).map(|s| &s.name),
        "PriorityId": int("PriorityId"),
        "PriorityName": int("PriorityId").and_then(|p| tenant.priority(p)).map(|p| &p.name),
        "TypeId": int("TypeId"),
        "TypeName": int("TypeId").and_then(|t| tenant.ticket_type(t)).map(|t| &t.name),
        "SourceId": int("SourceId"),
        "SourceName": int("SourceId").and_then(|s| tenant.ticket_source(s)).map(|s| &s.name),
        "QueueId": queue.map(|q| q.id),
        "QueueName": queue.map(|q| &q.name),
        "AssigneeId": assignee.map(|a| a.id),
        "AssigneeName": assignee.map(|a| &a.name),
        "IssueTypeId": int("IssueTypeId"),
        "SubIssueTypeId": int("SubIssueTypeId"),
        "HardwareAssetId": int("HardwareAssetId"),
        "ContractId": int("ContractId"),
        "WorkTypeId": int("WorkTypeId"),
        "SLAId": int("SLAId"),
        "OpenDate": str_field(obj, "OpenDate"),
        "DueDate": str_field(obj, "DueDate"),
        "CreatedOn": rfc3339(Utc::now()),
        "CreatedBy": crate::tenant::API_USER_ID,
        "CreatedByName": crate::tenant::API_USER_DISPLAY_NAME,
        "ModifiedOn": rfc3339(Utc::now()),
        "IsScheduled": 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::*;

    fn refs(body: Value) -> Vec<String> {
        check_references(&Tenant::default(), body.as_object().expect("object"))
    }

    fn good() -> Value {
        json!({
            "AccountId": ACCOUNT_FABRIKAM, "LocationId": LOCATION_FABRIKAM_BRANCH,
            "ContactId": CONTACT_DAN_JUMP, "StatusId": STATUS_NEW, "PriorityId": PRIORITY_MEDIUM,
            "TypeId": TYPE_INCIDENT, "SourceId": SOURCE_CLIENT_PORTAL, "QueueId": QUEUE_SERVICE_DESK
        })
    }

    #[test]
    fn a_consistent_ticket_has_no_reference_errors() {
        assert!(refs(good()).is_empty());
    }

    #[test]
    fn foreign_location_and_contact_are_reported() {
        let mut body = good();
        body["AccountId"] = json!(ACCOUNT_NORTHWIND);
        assert_eq!(
            refs(body),
            [
                "LocationId: 12 does not belong to account 2",
                "ContactId: 101 does not belong to account 2"
            ]
        );
    }

    #[test]
    fn unknown_ids_are_reported() {
        let body = json!({
            "AccountId": 9, "LocationId": 99, "ContactId": 999, "StatusId": 9, "PriorityId": 9,
            "TypeId": 9, "SourceId": 9, "QueueId": 9, "AssigneeId": 9
        });
        assert_eq!(
            refs(body),
            [
                "AccountId: account 9 does not exist",
                "LocationId: location 99 does not exist",
                "ContactId: contact 999 does not exist",
                "StatusId: status 9 does not exist",
                "PriorityId: priority 9 does not exist",
                "QueueId: queue 9 does not exist",
                "AssigneeId: assignee 9 does not exist",
                "TypeId: ticket type 9 does not exist",
                "SourceId: ticket source 9 does not exist",
            ]
        );
    }

    #[test]
    fn assets_and_issue_types_are_checked() {
        let mut body = good();
        body["HardwareAssetId"] = json!(ASSET_NW_LAPTOP_07);
        body["IssueTypeId"] = json!(ISSUE_TYPE_LEGACY);
        body["SubIssueTypeId"] = json!(SUB_ISSUE_TYPE_PRINTER);
        assert_eq!(
            refs(body.clone()),
            [
                "HardwareAssetId: 602 does not belong to account 1",
                "IssueTypeId: issue type 703 is inactive",
                "SubIssueTypeId: 711 is not a sub-type of issue type 703",
            ]
        );
        body["HardwareAssetId"] = json!(ASSET_FAB_PC_0042);
        body["IssueTypeId"] = json!(ISSUE_TYPE_HARDWARE);
        assert!(refs(body.clone()).is_empty());
        body["IssueTypeId"] = Value::Null;
        assert_eq!(
            refs(body),
            ["SubIssueTypeId: sub-issue type 711 needs its IssueTypeId"]
        );
    }

    #[test]
    fn queue_or_assignee_is_needed() {
        let mut body = good();
        body["QueueId"] = Value::Null;
        assert_eq!(
            refs(body.clone()),
            ["QueueId: QueueId or AssigneeId must be set"]
        );
        body["AssigneeId"] = json!(ASSIGNEE_JANE_TECH);
        assert!(refs(body).is_empty());
    }
}
