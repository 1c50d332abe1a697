//! The sandbox over real HTTP, on the current-thread runtime the main crate's tests use.

use std::time::{Duration, Instant};

use bms_sandbox::tenant::*;
use bms_sandbox::{Casing, Failure, Options, Sandbox};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

fn client() -> Client {
    Client::new()
}

async fn login_with(
    bms: &Sandbox,
    tenant: &str,
    user: &str,
    password: &str,
) -> (StatusCode, Value) {
    let response = client()
        .post(format!("{}/v2/security/authenticate", bms.url()))
        .form(&[
            ("GrantType", "password"),
            ("Tenant", tenant),
            ("UserName", user),
            ("Password", password),
        ])
        .send()
        .await
        .expect("login answers");
    let status = response.status();
    (status, response.json().await.expect("login answers JSON"))
}

async fn token(bms: &Sandbox) -> String {
    let (status, body) = login_with(bms, TENANT_NAME, USER_NAME, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["Result"]["AccessToken"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

async fn get(bms: &Sandbox, token: &str, path_and_query: &str) -> (StatusCode, Value) {
    let response = client()
        .get(format!("{}{path_and_query}", bms.url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET answers");
    let status = response.status();
    (status, response.json().await.expect("GET answers JSON"))
}

async fn post_json(bms: &Sandbox, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
    let response = client()
        .post(format!("{}{path}", bms.url()))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("POST answers");
    let status = response.status();
    (status, response.json().await.expect("POST answers JSON"))
}

fn ticket_body() -> Value {
    json!({
        "Title": "Help button pressed",
        "Details": "Room 4, printer",
        "AccountId": ACCOUNT_FABRIKAM,
        "LocationId": LOCATION_FABRIKAM_BRANCH,
        "ContactId": CONTACT_DAN_JUMP,
        "StatusId": STATUS_NEW,
        "PriorityId": PRIORITY_MEDIUM,
        "TypeId": TYPE_SERVICE_REQUEST,
        "SourceId": SOURCE_CLIENT_PORTAL,
        "QueueId": QUEUE_SERVICE_DESK,
        "OpenDate": "2026-11-26T09:30:00Z"
    })
}

fn sub_errors(body: &Value) -> Vec<String> {
    body["Error"]["SubErrors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn assert_failure(body: &Value, code: i64, message: &str) {
    assert_eq!(body["Success"], json!(false), "{body}");
    assert_eq!(body["Error"]["Code"], json!(code), "{body}");
    assert_eq!(body["Error"]["Message"], json!(message), "{body}");
    assert_eq!(body["Result"], Value::Null, "{body}");
}

#[tokio::test]
async fn login_issues_tokens_with_absolute_expiry() {
    let bms = Sandbox::start().await;
    let (status, body) = login_with(&bms, TENANT_NAME, USER_NAME, PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["Success"], json!(true));
    assert_eq!(body["Error"], Value::Null);
    let result = &body["Result"];
    assert!(
        result["AccessToken"]
            .as_str()
            .is_some_and(|t| t.starts_with("sbx-"))
    );
    assert!(result["RefreshToken"].as_str().is_some());
    let expires = chrono::DateTime::parse_from_rfc3339(
        result["AccessTokenExpireOn"].as_str().expect("a date"),
    )
    .expect("RFC 3339");
    let left = expires.signed_duration_since(chrono::Utc::now());
    assert!(
        left > chrono::Duration::minutes(59) && left <= chrono::Duration::hours(1),
        "{left}"
    );
    let second = token(&bms).await;
    assert_ne!(result["AccessToken"].as_str(), Some(second.as_str()));
}

#[tokio::test]
async fn login_accepts_multipart_as_the_spec_declares() {
    let bms = Sandbox::start().await;
    let boundary = "sandbox-boundary";
    let mut body = String::new();
    for (name, value) in [
        ("GrantType", "password"),
        ("Tenant", TENANT_NAME),
        ("UserName", USER_NAME),
        ("Password", PASSWORD),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let response = client()
        .post(format!("{}/v2/security/authenticate", bms.url()))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("login answers");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("JSON");
    assert!(body["Result"]["AccessToken"].is_string(), "{body}");
}

#[tokio::test]
async fn bad_credentials_get_401_and_the_password_is_never_recorded() {
    let bms = Sandbox::start().await;
    for (tenant, user, password) in [
        (TENANT_NAME, USER_NAME, "wrong"),
        ("Other MSP", USER_NAME, PASSWORD),
        (TENANT_NAME, "someone", PASSWORD),
        (TENANT_NAME, USER_NAME, "S3CRET:PA+SS"),
    ] {
        let (status, body) = login_with(&bms, tenant, user, password).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_failure(&body, 401, "Invalid credentials");
    }
    let calls = bms.calls();
    assert_eq!(calls.len(), 4);
    assert!(calls.iter().all(|c| c.body.is_none() && c.status == 401));
    assert_eq!(bms.count("post", "/v2/security/"), 4);
}

#[tokio::test]
async fn login_without_grant_type_is_a_validation_error() {
    let bms = Sandbox::start().await;
    let response = client()
        .post(format!("{}/v2/security/authenticate", bms.url()))
        .form(&[
            ("Tenant", TENANT_NAME),
            ("UserName", USER_NAME),
            ("Password", PASSWORD),
        ])
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(sub_errors(&body), ["GrantType: required"]);
}

#[tokio::test]
async fn password_rotation_locks_out_the_old_password() {
    let bms = Sandbox::start().await;
    let old_token = token(&bms).await;
    bms.set_password("n3w+pass:word");
    let (status, _) = login_with(&bms, TENANT_NAME, USER_NAME, PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = login_with(&bms, "contoso msp", "API.Button", "n3w+pass:word").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(&bms, &old_token, "/v2/system/queues/lookup").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn routes_need_a_live_token() {
    let bms = Sandbox::start().await;
    let response = client()
        .get(format!("{}/v2/system/statuses/lookup", bms.url()))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    assert_failure(&response.json().await.expect("JSON"), 401, "Unauthorized");

    let (status, body) = get(&bms, "sbx-1-forged", "/v2/system/statuses/lookup").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_failure(&body, 401, "Unauthorized");

    let token = token(&bms).await;
    let (status, _) = get(&bms, &token, "/v2/system/statuses/lookup").await;
    assert_eq!(status, StatusCode::OK);
    bms.expire_tokens();
    let (status, body) = get(&bms, &token, "/v2/system/statuses/lookup").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_failure(&body, 401, "Unauthorized");
    let fresh = self::token(&bms).await;
    let (status, _) = get(&bms, &fresh, "/v2/system/statuses/lookup").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn tokens_expire_after_their_lifetime() {
    let bms = Sandbox::start_with(Options {
        token_lifetime: Duration::ZERO,
        ..Options::default()
    })
    .await;
    let token = token(&bms).await;
    let (status, _) = get(&bms, &token, "/v2/system/queues/lookup").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn refresh_trades_the_pair_for_a_new_one() {
    let bms = Sandbox::start().await;
    let (_, body) = login_with(&bms, TENANT_NAME, USER_NAME, PASSWORD).await;
    let access = body["Result"]["AccessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let refresh = body["Result"]["RefreshToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let response = client()
        .post(format!("{}/v2/security/refreshtoken", bms.url()))
        .form(&[
            ("AccessToken", access.as_str()),
            ("RefreshToken", refresh.as_str()),
        ])
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::OK);
    let renewed: Value = response.json().await.expect("JSON");
    let new_access = renewed["Result"]["AccessToken"].as_str().expect("token");
    assert_eq!(
        get(&bms, new_access, "/v2/system/queues/lookup").await.0,
        StatusCode::OK
    );
    assert_eq!(
        get(&bms, &access, "/v2/system/queues/lookup").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn unknown_routes_are_404_envelopes() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    let (status, body) = get(&bms, &token, "/v2/no/such/thing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["Success"], json!(false));
    assert_eq!(body["Error"]["Code"], json!(404));
    let (status, _) = get(&bms, "", "/api/v1/tickets").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn camel_casing_rewrites_every_key() {
    let bms = Sandbox::start_with(Options {
        casing: Casing::Camel,
        ..Options::default()
    })
    .await;
    let (_, body) = login_with(&bms, TENANT_NAME, USER_NAME, PASSWORD).await;
    assert_eq!(body["success"], json!(true));
    assert!(body.get("Success").is_none());
    let token = body["result"]["accessToken"]
        .as_str()
        .expect("camelCase token")
        .to_owned();
    assert!(body["result"]["accessTokenExpireOn"].is_string());

    let (_, body) = get(&bms, &token, "/v2/system/priorities/lookup").await;
    let medium = &body["result"][1];
    assert_eq!(medium["name"], json!("Medium"));
    assert_eq!(medium["isDefault"], json!(true));

    let (_, body) = post_json(&bms, &token, "/v2/servicedesk/tickets", &json!({})).await;
    assert_eq!(
        body["error"]["message"],
        json!("One or more validation errors occurred.")
    );
    assert!(body["error"]["subErrors"].is_array());

    bms.set_casing(Casing::Pascal);
    let (_, body) = get(&bms, &token, "/v2/system/priorities/lookup").await;
    assert_eq!(body["Result"][1]["IsDefault"], json!(true));
}

#[tokio::test]
async fn contact_search_is_a_case_insensitive_contains_match() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    let (ids, body) = contact_search(
        &bms,
        &token,
        "Filter.EmailAddress=JUMP%40fabrikam.com&Filter.IsActive=true",
    )
    .await;
    assert_eq!(ids, [CONTACT_DAN_JUMP, CONTACT_DANNY_JUMPER]);
    let dan = &body["Result"][0];
    assert_eq!(dan["AccountName"], json!("Fabrikam Inc"));
    assert_eq!(dan["LocationId"], json!(LOCATION_FABRIKAM_BRANCH));
    assert_eq!(dan["LocationName"], json!("Fabrikam Branch"));
    assert_eq!(dan["EmailAddress"], json!("dan.jump@fabrikam.com"));

    let (ids, body) = contact_search(
        &bms,
        &token,
        "Filter.EmailAddress=ann.beebe%40northwind.com",
    )
    .await;
    assert_eq!(ids, [CONTACT_ANN_BEEBE]);
    assert_eq!(body["Result"][0]["LocationId"], Value::Null);
    assert_eq!(body["Result"][0]["LocationName"], Value::Null);

    for (query, found) in [
        (
            "Filter.EmailAddress=fabrikam.com&Filter.IsActive=false",
            vec![CONTACT_OLD_TIMER],
        ),
        (
            "Filter.EmailAddress=fabrikam.com",
            vec![CONTACT_DAN_JUMP, CONTACT_DANNY_JUMPER, CONTACT_OLD_TIMER],
        ),
        (
            "Filter.EmailAddress=fabrikam.com&PageSize=2&PageNumber=2",
            vec![CONTACT_OLD_TIMER],
        ),
    ] {
        assert_eq!(
            contact_search(&bms, &token, query).await.0,
            found,
            "{query}"
        );
    }

    let (status, body) = get(
        &bms,
        &token,
        "/v2/crm/contacts/search?Filter.IsActive=maybe",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        sub_errors(&body),
        ["Filter.IsActive: the value 'maybe' is not valid"]
    );
}

/// A contact search with `query`, answered 200: the ids of the contacts found, and the answer.
async fn contact_search(bms: &Sandbox, token: &str, query: &str) -> (Vec<i64>, Value) {
    let (status, body) = get(bms, token, &format!("/v2/crm/contacts/search?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    let ids = body["Result"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|c| c["Id"].as_i64())
        .collect();
    (ids, body)
}

#[tokio::test]
async fn locations_and_lookups() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    let path = format!("/v2/crm/accounts/{ACCOUNT_NORTHWIND}/locations/lookup");
    let (_, body) = get(&bms, &token, &path).await;
    assert_eq!(
        body["Result"],
        json!([
            {"Id": LOCATION_NORTHWIND_MAIN, "Name": "Northwind Main",
             "AccountId": ACCOUNT_NORTHWIND, "IsMain": true},
            {"Id": LOCATION_NORTHWIND_WAREHOUSE, "Name": "Northwind Warehouse",
             "AccountId": ACCOUNT_NORTHWIND, "IsMain": false},
        ])
    );
    let (_, body) = get(&bms, &token, "/v2/crm/accounts/77/locations/lookup").await;
    assert_eq!(body["Result"], json!([]));

    let (_, body) = get(&bms, &token, "/v2/system/statuses/lookup").await;
    assert_eq!(body["Result"].as_array().map(Vec::len), Some(4));
    assert_eq!(body["Result"][3]["Name"], json!("Completed"));
    let (_, body) = get(&bms, &token, "/v2/system/queues/lookup").await;
    assert_eq!(
        body["Result"][1],
        json!({"Id": QUEUE_ESCALATIONS, "Name": "Escalations", "IsActive": true})
    );

    let (_, body) = get(&bms, &token, "/v2/hr/assignees/lookup?Filter.Name=dan").await;
    assert_eq!(body["Result"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["Result"][0]["Id"], json!(ASSIGNEE_DAN_JUMP));
    let (_, body) = get(
        &bms,
        &token,
        "/v2/hr/assignees/lookup?PageSize=1&PageNumber=2",
    )
    .await;
    assert_eq!(body["Result"][0]["Id"], json!(ASSIGNEE_BOB_ADMIN));
    let (_, body) = get(&bms, &token, "/v2/hr/assignees/lookup").await;
    assert_eq!(
        body["Result"][0]["EmailAddress"],
        json!("jane.tech@contoso-msp.com")
    );
}

#[tokio::test]
async fn lookup_tables_by_name() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    let (_, body) = get(&bms, &token, "/v2/system/lookup/TicketType").await;
    assert_eq!(
        body["Result"][0],
        json!({"Id": TYPE_SERVICE_REQUEST, "Name": "Service Request",
               "IsDefault": true, "IsActive": true})
    );
    let (_, body) = get(&bms, &token, "/v2/system/tenantlookup/ticketsource").await;
    let sources = body["Result"].as_array().expect("a list");
    assert_eq!(sources.len(), 5);
    assert_eq!(sources[0]["Id"], json!(SOURCE_CLIENT_PORTAL));
    assert_eq!(sources[4]["IsDefault"], json!(true));

    let (status, body) = get(&bms, &token, "/v2/system/lookup/TicketColour").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["Success"], json!(false));
    assert_eq!(
        body["Error"]["Message"],
        json!("Lookup table 'TicketColour' does not exist")
    );
}

#[tokio::test]
async fn a_valid_ticket_is_created_and_recorded() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    let (status, body) = post_json(&bms, &token, "/v2/servicedesk/tickets", &ticket_body()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let today = chrono::Utc::now().format("%Y%m%d").to_string();
    let result = &body["Result"];
    assert_eq!(result["Id"], json!(FIRST_TICKET_ID));
    assert_eq!(result["TicketNumber"], json!(format!("T{today}.0001")));
    assert_eq!(result["AccountName"], json!("Fabrikam Inc"));
    assert_eq!(result["StatusName"], json!("New"));
    assert_eq!(result["PriorityName"], json!("Medium"));
    assert_eq!(result["SourceId"], json!(SOURCE_CLIENT_PORTAL));

    // Field names are read case-insensitively, and an assignee alone is enough.
    let camel = json!({
        "title": "Second", "details": "d", "accountId": ACCOUNT_NORTHWIND,
        "locationId": LOCATION_NORTHWIND_MAIN, "statusId": STATUS_NEW, "priorityId": PRIORITY_HIGH,
        "typeId": TYPE_INCIDENT, "sourceId": SOURCE_EMAIL, "assigneeId": ASSIGNEE_JANE_TECH,
        "openDate": "2026-11-26T10:00:00+01:00"
    });
    let response = client()
        .post(format!("{}/v2/servicedesk/tickets", bms.url()))
        .bearer_auth(&token)
        .header("Content-Type", "application/json-patch+json")
        .body(camel.to_string())
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        body["Result"]["TicketNumber"],
        json!(format!("T{today}.0002"))
    );
    assert_eq!(body["Result"]["AssigneeName"], json!("Jane Tech"));

    let tickets = bms.tickets();
    assert_eq!(tickets.len(), 2);
    assert_eq!(tickets[0]["Id"], json!(FIRST_TICKET_ID));
    assert_eq!(tickets[0]["Title"], json!("Help button pressed"));
    assert_eq!(tickets[1]["title"], json!("Second"));
    assert_eq!(bms.calls().last().and_then(|c| c.body.clone()), Some(camel));

    let search = format!("Filter.ContactId={CONTACT_DAN_JUMP}&Filter.Title=button");
    assert_eq!(
        ticket_search(&bms, &token, &search).await,
        (json!(1), json!(FIRST_TICKET_ID))
    );
    assert_eq!(
        ticket_search(&bms, &token, "Filter.OpenDateFrom=2026-11-26T09:15:00Z").await,
        (json!(1), json!(FIRST_TICKET_ID))
    );
    assert_eq!(
        ticket_search(&bms, &token, "PageSize=1&PageNumber=2").await,
        (json!(2), json!(FIRST_TICKET_ID + 1))
    );
}

/// A ticket search with `query`: the total it counts and the id of the first ticket it lists.
async fn ticket_search(bms: &Sandbox, token: &str, query: &str) -> (Value, Value) {
    let (status, body) = get(bms, token, &format!("/v2/servicedesk/tickets?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    (
        body["TotalRecords"].clone(),
        body["Result"][0]["Id"].clone(),
    )
}

#[tokio::test]
async fn ticket_search_checks_typed_parameters_and_filters_details_and_dates() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    let mut marked = ticket_body();
    marked["Details"] = json!("Room 4, printer\n\n[Button request 0123abcd]\n");
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    marked["OpenDate"] = json!(now);
    for body in [ticket_body(), marked] {
        let (status, answer) = post_json(&bms, &token, "/v2/servicedesk/tickets", &body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }

    // Typed as int32 or date-time in the spec: anything else is a validation error per name.
    let (status, body) = get(
        &bms,
        &token,
        "/v2/servicedesk/tickets?Filter.ContactId=abc&Filter.OpenDateFrom=yesterday&PageSize=x&Filter.ExcludeCompleted=2147483648&Filter.DueDateTo=2026-13-01",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        sub_errors(&body),
        [
            "Filter.ExcludeCompleted: the value '2147483648' is not valid",
            "Filter.ContactId: the value 'abc' is not valid",
            "PageSize: the value 'x' is not valid",
            "Filter.OpenDateFrom: the value 'yesterday' is not valid",
            "Filter.DueDateTo: the value '2026-13-01' is not valid",
        ]
    );

    // Details: case-insensitive "contains"; the answer items are TicketListDto-shaped.
    let (status, body) = get(
        &bms,
        &token,
        "/v2/servicedesk/tickets?Filter.Details=%5Bbutton%20request%200123ABCD%5D&PageSize=10",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["TotalRecords"], json!(1));
    let item = &body["Result"][0];
    assert_eq!(item["Id"], json!(FIRST_TICKET_ID + 1));
    assert!(
        item["Details"]
            .as_str()
            .unwrap()
            .contains("[Button request 0123abcd]")
    );
    assert_eq!(item["OpenDate"], json!(now));
    assert!(
        item.get("ContactEmail").is_none(),
        "not a TicketListDto field: {item}"
    );

    // Aged past the window start, the ticket drops out of an OpenDateFrom search.
    let since = (chrono::Utc::now() - chrono::Duration::minutes(10))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let recent = format!("/v2/servicedesk/tickets?Filter.OpenDateFrom={since}");
    let (_, body) = get(&bms, &token, &recent).await;
    assert_eq!(body["TotalRecords"], json!(1), "{body}");
    bms.age_tickets(Duration::from_secs(11 * 60));
    let (_, body) = get(&bms, &token, &recent).await;
    assert_eq!(body["TotalRecords"], json!(0), "{body}");
    assert_eq!(
        bms.tickets()[1]["OpenDate"]
            .as_str()
            .map(|d| d < now.as_str()),
        Some(true)
    );
}

#[tokio::test]
async fn invalid_tickets_get_400_with_one_sub_error_per_problem() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            {
                let mut b = ticket_body();
                b.as_object_mut().map(|o| o.remove("Title"));
                b
            },
            vec!["Title: required"],
        ),
        (
            {
                let mut b = ticket_body();
                b["AccountId"] = json!(0);
                b
            },
            vec!["AccountId: must be between 1 and 2147483647, got 0"],
        ),
        (
            {
                let mut b = ticket_body();
                b["PriorityId"] = json!("2");
                b
            },
            vec!["PriorityId: must be an integer, got a string"],
        ),
        (
            {
                let mut b = ticket_body();
                b["LocationId"] = json!(LOCATION_NORTHWIND_MAIN);
                b
            },
            vec!["LocationId: 21 does not belong to account 1"],
        ),
        (
            {
                let mut b = ticket_body();
                b["QueueId"] = Value::Null;
                b
            },
            vec!["QueueId: QueueId or AssigneeId must be set"],
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = post_json(&bms, &token, "/v2/servicedesk/tickets", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_failure(&answer, 400, "One or more validation errors occurred.");
        assert_eq!(sub_errors(&answer), expected);
    }
    assert!(bms.tickets().is_empty());

    let response = client()
        .post(format!("{}/v2/servicedesk/tickets", bms.url()))
        .bearer_auth(&token)
        .header("Content-Type", "text/plain")
        .body(ticket_body().to_string())
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let response = client()
        .post(format!("{}/v2/servicedesk/tickets", bms.url()))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body("{\"Title\": ")
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("JSON");
    assert!(
        sub_errors(&body)[0].starts_with("body: not valid JSON"),
        "{body}"
    );
}

#[tokio::test]
async fn notes_are_validated_and_need_an_existing_ticket() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    let (_, created) = post_json(&bms, &token, "/v2/servicedesk/tickets", &ticket_body()).await;
    let id = created["Result"]["Id"].as_i64().expect("an id");
    let note = json!({
        "Details": "Photo from the button",
        "IsInternal": false,
        "TypeId": 0,
        "NoteDate": "2026-11-26T09:31:00Z",
        "Attachments": [{"Name": "photo.jpg", "Base64Data": "/9j/4AAQ", "Type": "image/jpeg"}]
    });

    let mut bad = note.clone();
    bad["Attachments"][0]["Base64Data"] = json!("%%% not base64 %%%");
    let (status, body) = post_json(
        &bms,
        &token,
        &format!("/v2/servicedesk/tickets/{id}/notes"),
        &bad,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        sub_errors(&body),
        ["Attachments[0].Base64Data: not valid base64"]
    );

    let (status, body) = post_json(&bms, &token, "/v2/servicedesk/tickets/4242/notes", &note).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["Success"], json!(false));

    let (status, body) = post_json(
        &bms,
        &token,
        &format!("/v2/servicedesk/tickets/{id}/notes"),
        &note,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["Result"]["Details"], json!("Photo from the button"));
    assert_eq!(
        body["Result"]["Attachments"][0]["OriginalFileName"],
        json!("photo.jpg")
    );
    assert_eq!(bms.notes(), vec![(id, note)]);
}

#[tokio::test]
async fn fail_next_fails_one_matching_call() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    bms.fail_next("GET", "/v2/system/", Failure::Status(503));
    bms.fail_next(
        "POST",
        "/v2/servicedesk/tickets",
        Failure::SuccessFalse("Database busy".to_owned()),
    );

    let (status, body) = get(
        &bms,
        &token,
        &format!("/v2/crm/accounts/{ACCOUNT_FABRIKAM}/locations/lookup"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a non-matching prefix is not failed: {body}"
    );
    let (status, body) = get(&bms, &token, "/v2/system/queues/lookup").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_failure(&body, 503, "Service Unavailable");
    let (status, _) = get(&bms, &token, "/v2/system/queues/lookup").await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = post_json(&bms, &token, "/v2/servicedesk/tickets", &ticket_body()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["Success"], json!(false));
    assert_eq!(body["Error"]["Message"], json!("Database busy"));
    assert!(bms.tickets().is_empty());

    bms.fail_next("GET", "", Failure::Delay(Duration::from_millis(150)));
    let started = Instant::now();
    let (status, _) = get(&bms, &token, "/v2/system/queues/lookup").await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(150));

    let statuses: Vec<u16> = bms.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [200, 200, 503, 200, 200, 200]);
    bms.reset_calls();
    assert!(bms.calls().is_empty());
}

#[tokio::test]
async fn a_delayed_create_still_happens_when_the_client_gives_up() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    bms.fail_next(
        "POST",
        "/v2/servicedesk/tickets",
        Failure::Delay(Duration::from_secs(5)),
    );
    let result = client()
        .post(format!("{}/v2/servicedesk/tickets", bms.url()))
        .bearer_auth(&token)
        .json(&ticket_body())
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(result.is_err(), "the client times out");
    assert_eq!(bms.tickets().len(), 1);
    assert_eq!(bms.count("POST", "/v2/servicedesk/tickets"), 1);
}

#[tokio::test]
async fn latency_is_added_to_every_answer() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    bms.set_latency(Duration::from_millis(80));
    let started = Instant::now();
    get(&bms, &token, "/v2/system/queues/lookup").await;
    assert!(started.elapsed() >= Duration::from_millis(80));
}

#[tokio::test]
async fn a_modified_tenant_is_served() {
    let mut tenant = Tenant::default();
    tenant.queues.push(Queue {
        id: 9,
        name: "Night Shift".to_owned(),
        is_active: true,
    });
    let bms = Sandbox::start_with(Options {
        tenant,
        ..Options::default()
    })
    .await;
    let token = token(&bms).await;
    let (_, body) = get(&bms, &token, "/v2/system/queues/lookup").await;
    assert_eq!(body["Result"][3]["Name"], json!("Night Shift"));
}

/// One of the sandbox's own read-only routes, which are never recorded as BMS calls.
async fn sandbox_json(bms: &Sandbox, path: &str) -> Value {
    client()
        .get(format!("{}{path}", bms.url()))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn sandbox_routes_show_what_bms_received_without_being_recorded() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    post_json(&bms, &token, "/v2/servicedesk/tickets", &ticket_body()).await;
    let before = bms.calls().len();
    let seen: Value = sandbox_json(&bms, "/_sandbox/tickets").await;
    assert_eq!(
        seen["tickets"][0]["TicketNumber"]
            .as_str()
            .map(|s| s.starts_with('T')),
        Some(true)
    );
    let calls: Value = sandbox_json(&bms, "/_sandbox/calls").await;
    assert_eq!(calls.as_array().map(Vec::len), Some(before));
    assert_eq!(calls[0]["path"], json!("/v2/security/authenticate"));
    assert_eq!(calls[0]["body"], Value::Null);
    assert_eq!(bms.calls().len(), before);
}

#[tokio::test]
async fn sandbox_tenant_names_the_ids_without_being_recorded() {
    let bms = Sandbox::start().await;
    let tenant: Value = sandbox_json(&bms, "/_sandbox/tenant").await;
    let name = |list: &str, id: i64| {
        tenant[list]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["Id"] == json!(id)))
            .map(|i| i["Name"].clone())
    };
    assert_eq!(name("Priorities", 4), Some(json!("Critical")));
    assert_eq!(name("Queues", 2), Some(json!("Escalations")));
    assert_eq!(name("Contacts", 101), Some(json!("Dan Jump")));
    assert!(bms.calls().is_empty());
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let bms = Sandbox::start().await;
    let url = bms.url();
    bms.shutdown().await;
    assert!(
        client()
            .get(format!("{url}/v2/system/queues/lookup"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn resolve_checks_its_body_marks_the_ticket_resolved_and_is_recorded() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    let (_, created) = post_json(&bms, &token, "/v2/servicedesk/tickets", &ticket_body()).await;
    let id = created["Result"]["Id"].as_i64().expect("an id");
    let path = format!("/v2/servicedesk/tickets/{id}/resolve");

    let anonymous = client()
        .post(format!("{}{path}", bms.url()))
        .json(&json!({"Comment": "x"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let (status, body) = post_json(&bms, &token, &path, &json!({"Comment": "  "})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(sub_errors(&body), ["Comment: required"]);
    let wrong = json!({"IsInternal": "yes", "StatusId": 99, "KnowledgeBaseCategoryId": null});
    let (status, body) = post_json(&bms, &token, &path, &wrong).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        sub_errors(&body),
        [
            "Comment: required",
            "IsInternal: must be a boolean, got a string"
        ]
    );
    let (status, body) = post_json(
        &bms,
        &token,
        &path,
        &json!({"Comment": "dup", "StatusId": 99}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(sub_errors(&body), ["StatusId: status 99 does not exist"]);
    let (status, body) = post_json(
        &bms,
        &token,
        "/v2/servicedesk/tickets/999999/resolve",
        &json!({"Comment": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(bms.resolutions().is_empty());

    let request = json!({"Comment": "Duplicate of T1", "IsInternal": true});
    let (status, body) = post_json(&bms, &token, &path, &request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["Success"], json!(true));
    assert_eq!(body["Result"]["Id"], json!(id));
    assert_eq!(body["Result"]["StatusId"], json!(STATUS_COMPLETED));
    assert_eq!(body["Result"]["StatusName"], json!("Completed"));
    assert_eq!(bms.resolutions(), [(id, request.clone())]);
    // The list shows it resolved; what the sandbox received says so too.
    let (_, listed) = get(&bms, &token, "/v2/servicedesk/tickets").await;
    assert_eq!(listed["Result"][0]["StatusId"], json!(STATUS_COMPLETED));
    let seen = sandbox_json(&bms, "/_sandbox/tickets").await;
    assert_eq!(seen["resolutions"][0]["ticket_id"], json!(id));
    assert_eq!(seen["resolutions"][0]["request"], request);
}

#[tokio::test]
async fn an_outage_fails_every_call_until_it_is_lifted() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    bms.set_outage(Some(Failure::Status(503)));
    bms.fail_next("GET", "/v2/system/", Failure::Status(429));
    let (status, _) = get(&bms, &token, "/v2/system/queues/lookup").await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "a queued failure first"
    );
    for _ in 0..2 {
        let (status, body) = get(&bms, &token, "/v2/system/queues/lookup").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_failure(&body, 503, "Service Unavailable");
    }
    let (status, _) = post_json(&bms, &token, "/v2/servicedesk/tickets", &ticket_body()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(bms.tickets().is_empty());
    bms.set_outage(None);
    let (status, _) = get(&bms, &token, "/v2/system/queues/lookup").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_outage_is_started_and_lifted_over_http() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    let outage = format!("{}/_sandbox/outage", bms.url());
    let started = client()
        .post(format!("{outage}?status=502"))
        .send()
        .await
        .expect("answers");
    assert_eq!(started.status(), StatusCode::OK);
    let (status, _) = get(&bms, &token, "/v2/system/queues/lookup").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let refused = client()
        .post(format!("{outage}?status=200"))
        .send()
        .await
        .expect("answers");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let lifted = client().delete(&outage).send().await.expect("answers");
    assert_eq!(lifted.status(), StatusCode::OK);
    let (status, _) = get(&bms, &token, "/v2/system/queues/lookup").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        bms.calls().iter().all(|c| !c.path.starts_with("/_sandbox")),
        "the sandbox's own routes are not recorded"
    );
}

fn ids(body: &Value) -> Vec<i64> {
    body["Result"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|item| item["Id"].as_i64())
        .collect()
}

#[tokio::test]
async fn hardware_assets_are_searched_by_name_or_address() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    let path = "/v2/servicedesk/hardwareasset/searchselect";
    let (status, body) = get(
        &bms,
        &token,
        &format!("{path}?Filter.AssetName=fab-pc-0042&Filter.IsActive=true"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), [ASSET_FAB_PC_0042]);
    let item = &body["Result"][0];
    assert_eq!(item["AccountId"], ACCOUNT_FABRIKAM);
    assert_eq!(item["ContactId"], CONTACT_DAN_JUMP);
    assert_eq!(item["AssetName"], "FAB-PC-0042");
    let (_, body) = get(&bms, &token, &format!("{path}?Filter.AssetName=RECEPTION")).await;
    assert_eq!(
        ids(&body),
        [ASSET_FABRIKAM_RECEPTION, ASSET_NORTHWIND_RECEPTION]
    );
    let (_, body) = get(&bms, &token, &format!("{path}?Filter.IPAddress=10.2.0.7")).await;
    assert_eq!(ids(&body), [ASSET_NW_LAPTOP_07]);
    let (_, body) = get(
        &bms,
        &token,
        &format!("{path}?Filter.AssetName=FAB-OLD&Filter.IsActive=true"),
    )
    .await;
    assert_eq!(ids(&body), Vec::<i64>::new());
    let (status, body) = get(&bms, &token, &format!("{path}?Filter.IsActive=maybe")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn accounts_issue_types_and_an_accounts_contacts_are_looked_up() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    let (status, body) = get(&bms, &token, "/v2/crm/accounts/lookup?Filter.Name=fabrikam").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), [ACCOUNT_FABRIKAM]);
    let (_, body) = get(&bms, &token, "/v2/crm/accounts/lookup").await;
    assert_eq!(body["Result"].as_array().map(Vec::len), Some(3));
    let (_, body) = get(
        &bms,
        &token,
        &format!("/v2/crm/accounts/{ACCOUNT_FABRIKAM}/contacts/lookup"),
    )
    .await;
    // Active contacts only: the retired Old Timer is left out.
    assert_eq!(ids(&body), [CONTACT_DAN_JUMP, CONTACT_DANNY_JUMPER]);
    assert_eq!(body["Result"][0]["EmailAddress"], "dan.jump@fabrikam.com");
    let (_, body) = get(&bms, &token, "/v2/system/issuetypes/lookup").await;
    assert_eq!(
        ids(&body),
        [ISSUE_TYPE_HARDWARE, ISSUE_TYPE_SOFTWARE, ISSUE_TYPE_LEGACY]
    );
    assert_eq!(body["Result"][2]["IsActive"], false);
    let (_, body) = get(
        &bms,
        &token,
        &format!("/v2/system/issuetypes/{ISSUE_TYPE_HARDWARE}/issuesubtypes/lookup"),
    )
    .await;
    assert_eq!(ids(&body), [SUB_ISSUE_TYPE_PRINTER, SUB_ISSUE_TYPE_LAPTOP]);
    assert_eq!(body["Result"][0]["Name"], "Printer");
}

#[tokio::test]
async fn a_contact_is_created_as_the_spec_describes_and_then_found() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    let path = "/v2/crm/contacts/summary";
    let (status, body) = post_json(&bms, &token, path, &json!({"FirstName": "New"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        sub_errors(&body),
        [
            "LastName: required",
            "AccountId: required",
            "LocationId: required",
            "Emails: required"
        ]
    );
    let foreign = json!({
        "FirstName": "New", "LastName": "Hire", "AccountId": ACCOUNT_FABRIKAM,
        "LocationId": LOCATION_NORTHWIND_MAIN,
        "Emails": [{"EmailAddress": "new.hire@fabrikam.com", "EmailTypeId": 1, "IsDefault": true}]
    });
    let (status, body) = post_json(&bms, &token, path, &foreign).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        sub_errors(&body),
        ["LocationId: 21 does not belong to account 1"]
    );
    let mut good = foreign.clone();
    good["LocationId"] = json!(LOCATION_FABRIKAM_HQ);
    let (status, body) = post_json(&bms, &token, path, &good).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["Result"]["Id"], FIRST_CREATED_CONTACT_ID);
    assert_eq!(body["Result"]["EmailAddress"], "new.hire@fabrikam.com");
    let (ids, _) = contact_search(&bms, &token, "Filter.EmailAddress=new.hire@fabrikam.com").await;
    assert_eq!(ids, [FIRST_CREATED_CONTACT_ID]);
}

#[tokio::test]
async fn a_ticket_links_an_asset_and_issue_types_of_its_own() {
    let bms = Sandbox::start().await;
    let token = token(&bms).await;
    let mut body = ticket_body();
    body["HardwareAssetId"] = json!(ASSET_NORTHWIND_RECEPTION);
    let (status, answer) = post_json(&bms, &token, "/v2/servicedesk/tickets", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(
        sub_errors(&answer),
        ["HardwareAssetId: 604 does not belong to account 1"]
    );
    body["HardwareAssetId"] = json!(ASSET_FAB_PC_0042);
    body["IssueTypeId"] = json!(ISSUE_TYPE_HARDWARE);
    body["SubIssueTypeId"] = json!(SUB_ISSUE_TYPE_PRINTER);
    // A ticket without a contact is allowed: the spec makes `ContactId` optional.
    body["ContactId"] = Value::Null;
    let (status, answer) = post_json(&bms, &token, "/v2/servicedesk/tickets", &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["Result"]["HardwareAssetId"], ASSET_FAB_PC_0042);
}
