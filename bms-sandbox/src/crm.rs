//! The CRM routes beyond the contact search: accounts by name, an account's contacts, and a
//! contact created for a new member of a customer's staff.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::envelope::Reply;
use crate::query::{Params, path_id};
use crate::schema::{field, int_field, str_field, validate_contact_input};
use crate::state::Shared;
use crate::tenant::{Contact, FIRST_CREATED_CONTACT_ID, Tenant};
use crate::tickets::json_body;

/// `GET /v2/crm/accounts/lookup`: `Filter.Name` is "contains", as BMS's other name filters.
pub(crate) async fn accounts(
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
            .accounts
            .iter()
            .filter(|a| ids.is_empty() || ids.contains(&a.id))
            .filter(|a| params.contains("Filter.Name", Some(&a.name)))
            .map(|a| {
                json!({"Id": a.id, "Name": a.name, "TenantName": state.tenant.name, "IsActive": true})
            })
            .collect()
    };
    params.page(items)
}

/// `GET /v2/crm/accounts/{accountId}/contacts/lookup`: the account's active contacts.
pub(crate) async fn account_contacts(
    State(shared): State<Arc<Shared>>,
    Path(account_id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Reply {
    let account_id = match path_id("accountId", &account_id) {
        Ok(id) => id,
        Err(reply) => return reply,
    };
    let mut params = Params::new(pairs);
    let location = params.int("Filter.LocationId");
    if !params.errors.is_empty() {
        return Reply::invalid(params.errors);
    }
    let items: Vec<Value> = {
        let state = shared.lock();
        let tenant = &state.tenant;
        tenant
            .contacts
            .iter()
            .filter(|c| c.account_id == account_id && c.is_active)
            .filter(|c| location.is_none() || c.location_id == location)
            .filter(|c| {
                let name = format!("{} {}", c.first_name, c.last_name);
                params.contains("Filter.Name", Some(&name))
            })
            .map(|c| {
                let location = c.location_id.and_then(|l| tenant.location(l));
                json!({
                    "Id": c.id,
                    "Name": format!("{} {}", c.first_name, c.last_name),
                    "LocationId": location.map(|l| l.id),
                    "LocationName": location.map(|l| &l.name),
                    "Phone": null,
                    "EmailAddress": c.email,
                })
            })
            .collect()
    };
    params.page(items)
}

/// `POST /v2/crm/contacts/summary`: the contact is created active, with the first e-mail given.
pub(crate) async fn create_contact(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let body = match json_body(&headers, &body) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let mut errors = validate_contact_input(&body);
    let Some(obj) = body.as_object() else {
        return Reply::invalid(errors);
    };
    let mut state = shared.lock();
    let account_id = int_field(obj, "AccountId").unwrap_or_default();
    let location_id = int_field(obj, "LocationId").unwrap_or_default();
    errors.extend(contact_references(&state.tenant, account_id, location_id));
    let email = field(obj, "Emails")
        .and_then(Value::as_array)
        .and_then(|emails| emails.first())
        .and_then(Value::as_object)
        .and_then(|e| str_field(e, "EmailAddress"))
        .unwrap_or_default()
        .to_owned();
    if !errors.is_empty() {
        return Reply::invalid(errors);
    }
    let id = FIRST_CREATED_CONTACT_ID
        + state
            .tenant
            .contacts
            .iter()
            .filter(|c| c.id >= FIRST_CREATED_CONTACT_ID)
            .count() as i64;
    let contact = Contact {
        id,
        account_id,
        location_id: Some(location_id),
        first_name: str_field(obj, "FirstName").unwrap_or_default().to_owned(),
        last_name: str_field(obj, "LastName").unwrap_or_default().to_owned(),
        email,
        job_title: None,
        is_poc: false,
        is_active: true,
        has_client_portal_access: false,
    };
    let tenant = &state.tenant;
    let output = json!({
        "Id": id,
        "FirstName": contact.first_name,
        "LastName": contact.last_name,
        "AccountId": account_id,
        "AccountName": tenant.account(account_id).map(|a| &a.name),
        "LocationId": location_id,
        "LocationName": tenant.location(location_id).map(|l| &l.name),
        "PhoneNumber": null,
        "EmailAddress": contact.email,
        "CustomFieldsData": null,
    });
    state.tenant.contacts.push(contact);
    Reply::ok(output)
}

/// A contact's account must exist and its location be that account's.
fn contact_references(tenant: &Tenant, account_id: i64, location_id: i64) -> Vec<String> {
    let mut errors = Vec::new();
    if account_id > 0 && tenant.account(account_id).is_none() {
        errors.push(format!("AccountId: account {account_id} does not exist"));
    }
    if location_id > 0 {
        match tenant.location(location_id) {
            None => errors.push(format!("LocationId: location {location_id} does not exist")),
            Some(l) if l.account_id != account_id => errors.push(format!(
                "LocationId: {location_id} does not belong to account {account_id}"
            )),
            Some(_) => {}
        }
    }
    errors
}
