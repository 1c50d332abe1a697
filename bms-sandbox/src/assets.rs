//! The hardware assets (computers) BMS tracks, searched by name or IP address, and the issue
//! types and their sub-types.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use crate::envelope::Reply;
use crate::query::{Params, path_id};
use crate::state::Shared;

/// `GET /v2/servicedesk/hardwareasset/searchselect`. The name and IP filters are "contains",
/// as BMS's other text filters: a client compares the name itself.
pub(crate) async fn search(
    State(shared): State<Arc<Shared>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Reply {
    let mut params = Params::new(pairs);
    let account = params.int("Filter.AccountId");
    let contact = params.int("Filter.ContactId");
    let active = params.bool("Filter.IsActive");
    if !params.errors.is_empty() {
        return Reply::invalid(params.errors);
    }
    let items: Vec<Value> = {
        let state = shared.lock();
        let tenant = &state.tenant;
        tenant
            .assets
            .iter()
            .filter(|a| account.is_none_or(|id| id == a.account_id))
            .filter(|a| contact.is_none() || a.contact_id == contact)
            .filter(|a| active.is_none_or(|x| x == a.is_active))
            .filter(|a| params.contains("Filter.AssetName", Some(&a.name)))
            .filter(|a| params.contains("Filter.IPAddress", a.ip_address.as_deref()))
            .filter(|a| params.contains("Filter.SerialNumber", Some(&a.serial_number)))
            .map(|a| {
                let contact = a.contact_id.and_then(|c| tenant.contact(c));
                json!({
                    "Id": a.id,
                    "CategoryName": a.category,
                    "CategoryId": 1,
                    "LocationName": a.location_id.and_then(|l| tenant.location(l)).map(|l| &l.name),
                    "AssetName": a.name,
                    "SerialNumber": a.serial_number,
                    "MachineGroupId": null,
                    "IPAddress": a.ip_address,
                    "ContactId": a.contact_id.unwrap_or_default(),
                    "ContactName": contact.map(|c| format!("{} {}", c.first_name, c.last_name)),
                    "AccountId": a.account_id,
                    "AccountName": tenant.account(a.account_id).map(|x| &x.name),
                    "IsActive": a.is_active,
                })
            })
            .collect()
    };
    params.page(items)
}

/// `GET /v2/system/issuetypes/lookup`.
pub(crate) async fn issue_types(
    State(shared): State<Arc<Shared>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Reply {
    let params = Params::new(pairs);
    let state = shared.lock();
    let items: Vec<Value> = state
        .tenant
        .issue_types
        .iter()
        .filter(|t| params.contains("Filter.Name", Some(&t.name)))
        .map(|t| json!({"Id": t.id, "Name": t.name, "IsActive": t.is_active}))
        .collect();
    Reply::ok(Value::Array(items))
}

/// `GET /v2/system/issuetypes/{issueTypeId}/issuesubtypes/lookup`.
pub(crate) async fn sub_issue_types(
    State(shared): State<Arc<Shared>>,
    Path(issue_type_id): Path<String>,
) -> Reply {
    let id = match path_id("issueTypeId", &issue_type_id) {
        Ok(id) => id,
        Err(reply) => return reply,
    };
    let state = shared.lock();
    let items: Vec<Value> = state
        .tenant
        .issue_type(id)
        .map(|t| {
            t.sub_types
                .iter()
                .map(|(id, name)| json!({"Id": id, "Name": name}))
                .collect()
        })
        .unwrap_or_default();
    Reply::ok(Value::Array(items))
}
