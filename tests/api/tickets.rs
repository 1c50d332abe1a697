//! A button press through the handler, as Lambda delivers it, against the fake BMS.

use base64::Engine as _;
use bms_sandbox::tenant::{
    ACCOUNT_FABRIKAM, ACCOUNT_NORTHWIND, ACCOUNT_UNREGISTERED, ASSIGNEE_JANE_TECH,
    CONTACT_ANN_BEEBE, CONTACT_DAN_JUMP, CONTACT_UNREGISTERED, LOCATION_FABRIKAM_BRANCH,
    LOCATION_NORTHWIND_MAIN, LOCATION_UNREGISTERED, PRIORITY_HIGH, PRIORITY_MEDIUM,
    QUEUE_ESCALATIONS, QUEUE_SERVICE_DESK, SOURCE_EMAIL, SOURCE_OTHER, STATUS_IN_PROGRESS,
    STATUS_NEW, TYPE_INCIDENT, TYPE_SERVICE_REQUEST,
};
use bms_sandbox::{Casing, Failure};
use serde_json::{Value, json};

use crate::helpers::{BUTTON_KEY, Gateway, TestApp, event, json_event, press};
use crate::support::logs;

#[tokio::test]
async fn known_contact_gets_a_ticket_through_both_gateway_formats() {
    for gw in [Gateway::RestV1, Gateway::HttpV2] {
        let t = TestApp::spawn().await;
        let body = json!({
            "email": "dan.jump@fabrikam.com",
            "name": "Dan Jump",
            "message": "Outlook keeps asking for my password",
            "hostname": "FAB-LT-042",
            "selections": ["Email"],
        });
        let a = t.send(json_event(gw, "/tickets", &body)).await;
        assert_eq!(a.status, 201, "{gw:?}: {a:?}");
        assert_eq!(a.content_type, "application/json");
        assert_eq!(a.body["warnings"], json!([]));
        let ticket = t.only_ticket();
        assert_eq!(ticket["AccountId"], ACCOUNT_FABRIKAM);
        assert_eq!(a.body["ticketId"], ticket["Id"]);
        assert_eq!(a.body["ticketNumber"], ticket["TicketNumber"]);
        assert_eq!(ticket["ContactId"], CONTACT_DAN_JUMP);
        assert_eq!(
            ticket["LocationId"], LOCATION_FABRIKAM_BRANCH,
            "the contact's own location"
        );
        assert_eq!(ticket["QueueId"], QUEUE_SERVICE_DESK);
        assert_eq!(ticket["StatusId"], STATUS_NEW, "BMS's status named New");
        assert_eq!(
            ticket["PriorityId"], PRIORITY_MEDIUM,
            "BMS's default priority"
        );
        assert_eq!(
            ticket["TypeId"], TYPE_SERVICE_REQUEST,
            "the default ticket type"
        );
        assert_eq!(
            ticket["SourceId"], SOURCE_OTHER,
            "the default ticket source"
        );
        assert_eq!(ticket["Title"], "Outlook keeps asking for my password");
        let details = ticket["Details"].as_str().unwrap();
        assert!(
            details.starts_with("Name: Dan Jump\nEmail: dan.jump@fabrikam.com\nHostname: FAB-LT-042\nSelections: Email\nChannel: api\nCaller IP: 203.0.113.10\n\nOutlook keeps"),
            "{details}"
        );
        assert!(!details.contains("[User Registration Requested]"));
    }
}

#[tokio::test]
async fn email_matches_whatever_its_case() {
    let t = TestApp::spawn().await;
    let ticket = t
        .file_ticket(press("ANN.beebe@northwind.COM", "Printer jam"))
        .await;
    assert_eq!(ticket["ContactId"], CONTACT_ANN_BEEBE);
}

#[tokio::test]
async fn a_near_match_from_the_search_is_not_the_user() {
    let t = TestApp::spawn().await;
    // The sandbox's search, like a "contains" filter, answers dan.jump@ and danny.jump@ here.
    let ticket = t
        .file_ticket(press("jump@fabrikam.com", "Screen is black"))
        .await;
    assert_eq!(
        ticket["ContactId"], CONTACT_UNREGISTERED,
        "the catch-all contact"
    );
    assert!(
        ticket["Details"]
            .as_str()
            .unwrap()
            .starts_with("[User Registration Requested]")
    );
}

#[tokio::test]
async fn contact_without_location_uses_the_accounts_main_location() {
    let t = TestApp::spawn().await;
    let ticket = t
        .file_ticket(press("ann.beebe@northwind.com", "Need a new mouse"))
        .await;
    assert_eq!(ticket["AccountId"], ACCOUNT_NORTHWIND);
    assert_eq!(ticket["LocationId"], LOCATION_NORTHWIND_MAIN);
}

#[tokio::test]
async fn unknown_user_goes_to_the_catch_all_contact_with_a_registration_block() {
    let t = TestApp::spawn().await;
    let body = json!({
        "email": "sam.new@contoso.com",
        "name": "Sam New",
        "business": "Contoso Retail",
        "phone": "+1 555 0100",
        "message": "VPN does not connect",
    });
    let ticket = t.file_ticket(body).await;
    assert_eq!(ticket["ContactId"], CONTACT_UNREGISTERED);
    assert_eq!(ticket["AccountId"], ACCOUNT_UNREGISTERED);
    assert_eq!(ticket["LocationId"], LOCATION_UNREGISTERED);
    let details = ticket["Details"].as_str().unwrap();
    assert!(
        details.starts_with(
            "[User Registration Requested]\nName: Sam New\nEmail: sam.new@contoso.com\nBusiness: Contoso Retail\nPhone: +1 555 0100\n\n"
        ),
        "{details}"
    );
    assert_eq!(
        details,
        "[User Registration Requested]\nName: Sam New\nEmail: sam.new@contoso.com\nBusiness: \
         Contoso Retail\nPhone: +1 555 0100\n\nChannel: api\nCaller IP: 203.0.113.10\n\nVPN does not \
         connect\n",
        "who the user is, said once"
    );
}

#[tokio::test]
async fn form_body_with_a_comma_separated_selection() {
    let t = TestApp::spawn().await;
    let auth = format!("Bearer {BUTTON_KEY}");
    let req = event(
        Gateway::RestV1,
        "POST",
        "/tickets",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", &auth),
        ],
        "email=dan.jump%40fabrikam.com&message=Keyboard+is+sticky&selections=Hardware%2CUrgent&ip=10.0.0.9",
    );
    let a = t.send(req).await;
    assert_eq!(a.status, 201, "{a:?}");
    let details = t.only_ticket()["Details"].as_str().unwrap().to_string();
    assert!(
        details.contains("IP: 10.0.0.9\nSelections: Hardware, Urgent\n"),
        "{details}"
    );
}

#[tokio::test]
async fn bms_answering_in_camel_case_works_the_same() {
    let t = TestApp::spawn().await;
    t.bms.set_casing(Casing::Camel);
    let a = t
        .post_ticket(press("ann.beebe@northwind.com", "Printer jam"))
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(t.only_ticket()["ContactId"], CONTACT_ANN_BEEBE);
    assert!(a.body["ticketNumber"].as_str().unwrap().starts_with('T'));
    assert_eq!(t.only_ticket()["LocationId"], LOCATION_NORTHWIND_MAIN);
}

#[tokio::test]
async fn an_expired_token_means_one_new_login_and_one_retry() {
    let t = TestApp::spawn().await;
    assert_eq!(
        t.post_ticket(press("dan.jump@fabrikam.com", "one"))
            .await
            .status,
        201
    );
    assert_eq!(t.bms.count("POST", "/v2/security/authenticate"), 1);
    t.bms.expire_tokens();
    let a = t.post_ticket(press("dan.jump@fabrikam.com", "two")).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(t.bms.count("POST", "/v2/security/authenticate"), 2);
    assert_eq!(t.bms.tickets().len(), 2);
}

#[tokio::test]
async fn warm_requests_reuse_the_token_and_the_lookups() {
    let t = TestApp::spawn().await;
    assert_eq!(
        t.post_ticket(press("dan.jump@fabrikam.com", "cold"))
            .await
            .status,
        201
    );
    let cold = t.bms.calls().len();
    t.bms.reset_calls();
    assert_eq!(
        t.post_ticket(press("dan.jump@fabrikam.com", "warm"))
            .await
            .status,
        201
    );
    let warm: Vec<String> = t
        .bms
        .calls()
        .iter()
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    assert_eq!(
        warm,
        [
            "GET /v2/crm/contacts/search",
            "POST /v2/servicedesk/tickets"
        ],
        "a warm ticket for a known contact with a location costs two calls"
    );
    // login, contact, catch-all contact, status, priority, queue, type, source, create
    assert_eq!(cold, 9);
}

#[tokio::test]
async fn unknown_queue_name_falls_back_and_warns() {
    let rules = json!({"defaults": {"queue": "Service Desk"}, "rules": [{"set": {"queue": "Servce Desk"}}]});
    let t = TestApp::builder()
        .env("BUTTON_RULES", &rules.to_string())
        .spawn()
        .await;
    let a = t
        .post_ticket(press("dan.jump@fabrikam.com", "Laptop is slow"))
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    let warnings = a.body["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].as_str().unwrap().contains("Servce Desk"),
        "{warnings:?}"
    );
    let ticket = t.only_ticket();
    assert_eq!(ticket["QueueId"], QUEUE_SERVICE_DESK);
    let details = ticket["Details"].as_str().unwrap();
    assert!(
        details.contains("\n[Submission Errors]\n- Queue `Servce Desk`"),
        "{details}"
    );
}

#[tokio::test]
async fn the_button_is_told_a_value_was_replaced_but_never_the_names_bms_knows() {
    let rules = json!({
        "defaults": {"queue": "Service Desk"},
        "rules": [{"set": {"queue": "Servce Desk", "assignee": "Jane Tek", "priority": "Urgent"}}]
    });
    let t = TestApp::builder()
        .env("BUTTON_RULES", &rules.to_string())
        .spawn()
        .await;
    let a = t
        .post_ticket(press("dan.jump@fabrikam.com", "Laptop is slow"))
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(
        a.body["warnings"],
        json!([
            "Priority `Urgent` could not be used; another priority was used instead",
            "Queue `Servce Desk` could not be used; another queue was used instead",
            "Assignee `Jane Tek` could not be used; it was left empty",
        ]),
        "{a:?}"
    );
    let told = a.body.to_string();
    for bms_name in ["Jane Tech", "Service Desk", "Medium", "known"] {
        assert!(
            !told.contains(bms_name),
            "`{bms_name}` told to the button: {told}"
        );
    }
    // The technicians read the whole text in an internal note; the description, which the
    // customer reads in the client portal, says only what was replaced.
    let details = t.only_ticket()["Details"].as_str().unwrap().to_string();
    assert!(
        details.contains("- Queue `Servce Desk` could not be used; another queue was used instead"),
        "{details}"
    );
    let notes = t.bms.notes();
    let note = notes
        .iter()
        .map(|(_, n)| n)
        .find(|n| n["IsInternal"] == true)
        .expect("an internal note");
    let text = note["Details"].as_str().unwrap();
    for full in [
        "- Priority `Urgent` could not be used (`Urgent` is not an active priority in BMS (known: ",
        "; used `Medium` instead",
        "- Queue `Servce Desk` could not be used (`Servce Desk` is not an active queue in BMS \
         (known: Service Desk, ",
        "; used `Service Desk` instead",
        "- Assignee `Jane Tek` could not be used (`Jane Tek` is not an active assignee in BMS \
         (known: ",
        "Jane Tech",
    ] {
        assert!(text.contains(full), "`{full}` missing from:\n{text}");
    }
}

#[tokio::test]
async fn neither_queue_nor_assignee_is_a_clear_error_and_no_ticket() {
    let t = TestApp::builder().env("BUTTON_RULES", "{}").spawn().await;
    let a = t.post_ticket(press("dan.jump@fabrikam.com", "Help")).await;
    assert_eq!(a.status, 500, "{a:?}");
    assert_eq!(a.content_type, "application/problem+json");
    assert!(
        a.detail().contains("neither a queue nor an assignee"),
        "{a:?}"
    );
    assert!(a.detail().contains("defaults.queue"), "{a:?}");
    assert!(t.bms.tickets().is_empty());
    assert_eq!(t.bms.count("POST", "/v2/servicedesk/tickets"), 0);
}

#[tokio::test]
async fn an_attachment_becomes_a_note_on_the_ticket() {
    let t = TestApp::spawn().await;
    let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\nfake screenshot");
    let mut body = press("dan.jump@fabrikam.com", "See the screenshot");
    body["attachments"] = json!([{"name": "screen.png", "contentType": "image/png", "data": png}]);
    let a = t.post_ticket(body).await;
    assert_eq!(a.status, 201, "{a:?}");
    let notes = t.bms.notes();
    assert_eq!(notes.len(), 1);
    let (ticket_id, note) = &notes[0];
    assert_eq!(json!(ticket_id), a.body["ticketId"]);
    assert_eq!(note["Attachments"][0]["Name"], "screen.png");
    assert_eq!(note["Attachments"][0]["Type"], "image/png");
    assert_eq!(note["Attachments"][0]["Base64Data"], png);
}

#[tokio::test]
async fn a_failing_attachment_note_keeps_the_ticket_and_warns() {
    let t = TestApp::spawn().await;
    t.bms.fail_next(
        "POST",
        "/v2/servicedesk/tickets/",
        Failure::SuccessFalse("Attachment too large".into()),
    );
    let mut body = press("dan.jump@fabrikam.com", "See the screenshot");
    body["attachments"] =
        json!([{"name": "s.png", "contentType": "image/png", "data": "aGVsbG8="}]);
    let a = t.post_ticket(body).await;
    assert_eq!(a.status, 201, "{a:?}");
    let warning = a.body["warnings"][0].as_str().unwrap();
    assert!(warning.contains("attachments could not be added"), "{a:?}");
    // BMS's own words may name a contact or a technician: the log keeps them, the caller is
    // told what failed.
    assert!(!warning.contains("Attachment too large"), "{a:?}");
    assert_eq!(t.bms.tickets().len(), 1);
}

#[tokio::test]
async fn success_false_under_http_200_is_a_502() {
    let t = TestApp::spawn().await;
    t.bms.fail_next(
        "POST",
        "/v2/servicedesk/tickets",
        Failure::SuccessFalse("Contract expired".into()),
    );
    let a = t.post_ticket(press("dan.jump@fabrikam.com", "Help")).await;
    assert_eq!(a.status, 502, "{a:?}");
    assert_eq!(a.content_type, "application/problem+json");
    // BMS's own words stay in the log.
    assert!(!a.detail().contains("Contract expired"), "{a:?}");
    assert!(a.detail().contains("create ticket"), "{a:?}");
    assert!(t.bms.tickets().is_empty());
}

#[tokio::test]
async fn auth_none_takes_callers_without_a_key() {
    let t = TestApp::builder().env("BUTTON_AUTH", "none").spawn().await;
    let req = event(
        Gateway::HttpV2,
        "POST",
        "/tickets",
        &[("content-type", "application/json")],
        &press("dan.jump@fabrikam.com", "x").to_string(),
    );
    assert_eq!(t.send(req).await.status, 201);
}

#[tokio::test]
async fn a_configuration_error_answers_every_request_with_500() {
    let (log, _guard) = logs::capture();
    let t = TestApp::builder()
        .env("KASEYA_API_URL", "http://user:hunter2@nowhere.example")
        .env("BUTTON_RULES", "{\"rules\": 5")
        .spawn()
        .await;
    let a = t.post_ticket(press("dan.jump@fabrikam.com", "x")).await;
    assert_eq!(a.status, 500);
    assert_eq!(a.content_type, "application/problem+json");
    // A caller learns that the function is misconfigured and nothing more: not the rules'
    // source, not a URL with its password. The log names each problem.
    assert!(a.detail().contains("not configured correctly"), "{a:?}");
    for told in ["KASEYA_API_URL", "BUTTON_RULES", "hunter2", "rules\": 5"] {
        assert!(!a.detail().contains(told), "{told}: {a:?}");
    }
    let log = log.text();
    assert!(
        log.contains("KASEYA_API_URL") && log.contains("BUTTON_RULES"),
        "{log}"
    );
    assert!(!log.contains("hunter2"), "{log}");
    assert!(t.bms.calls().is_empty());
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let t = TestApp::spawn().await;
    let auth = format!("Bearer {BUTTON_KEY}");
    let keyed = [("authorization", auth.as_str())];
    let a = t
        .send(event(Gateway::HttpV2, "POST", "/nope", &keyed, ""))
        .await;
    assert_eq!(a.status, 404);
    let a = t
        .send(event(Gateway::RestV1, "GET", "/tickets", &keyed, ""))
        .await;
    assert_eq!(a.status, 405);
    assert_eq!(a.content_type, "application/problem+json");
    // Without a key, nothing is said about what exists.
    let a = t
        .send(event(Gateway::HttpV2, "POST", "/nope", &[], ""))
        .await;
    assert_eq!(a.status, 401);
}

#[tokio::test]
async fn a_missing_catch_all_contact_is_named() {
    let t = TestApp::builder()
        .env("KASEYA_UNREGISTERED_EMAIL", "catchall@nowhere.example")
        .spawn()
        .await;
    let a = t.post_ticket(press("stranger@contoso.com", "x")).await;
    assert_eq!(a.status, 500, "{a:?}");
    assert!(
        a.detail().contains("catchall@nowhere.example")
            && a.detail().contains("KASEYA_UNREGISTERED_EMAIL"),
        "{a:?}"
    );
    assert!(t.bms.tickets().is_empty());
}

#[tokio::test]
async fn ticket_type_and_source_by_name_and_by_id() {
    let rules = json!({"defaults": {"queue": "Escalations", "ticketType": "Incident", "ticketSource": SOURCE_EMAIL, "priority": "High", "ticketStatus": "In Progress", "assignee": "Jane Tech"}});
    let t = TestApp::builder()
        .env("BUTTON_RULES", &rules.to_string())
        .spawn()
        .await;
    let ticket = t.file_ticket(press("dan.jump@fabrikam.com", "x")).await;
    assert_eq!(
        (
            &ticket["QueueId"],
            &ticket["TypeId"],
            &ticket["SourceId"],
            &ticket["PriorityId"],
            &ticket["StatusId"],
            &ticket["AssigneeId"]
        ),
        (
            &json!(QUEUE_ESCALATIONS),
            &json!(TYPE_INCIDENT),
            &json!(SOURCE_EMAIL),
            &json!(PRIORITY_HIGH),
            &json!(STATUS_IN_PROGRESS),
            &json!(ASSIGNEE_JANE_TECH)
        )
    );
}

#[tokio::test]
async fn an_undocumented_lookup_table_that_does_not_exist_is_named() {
    let t = TestApp::builder()
        .env("KASEYA_TICKET_TYPE_TABLE", "TicketTypes")
        .spawn()
        .await;
    let a = t.post_ticket(press("dan.jump@fabrikam.com", "x")).await;
    assert_eq!(a.status, 500, "{a:?}");
    assert!(
        a.detail().contains("TicketTypes") && a.detail().contains("KASEYA_TICKET_TYPE_TABLE"),
        "{a:?}"
    );
    // With the type given as an id the same setup files the ticket.
    let rules = json!({"defaults": {"queue": "Service Desk", "ticketType": TYPE_SERVICE_REQUEST}});
    let t = TestApp::builder()
        .env("KASEYA_TICKET_TYPE_TABLE", "TicketTypes")
        .env("BUTTON_RULES", &rules.to_string())
        .spawn()
        .await;
    assert_eq!(
        t.post_ticket(press("dan.jump@fabrikam.com", "x"))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn wrong_bms_credentials_are_a_502_that_names_the_secret_not_its_value() {
    let t = TestApp::spawn().await;
    t.bms.set_password("rotated-elsewhere");
    let a = t.post_ticket(press("dan.jump@fabrikam.com", "x")).await;
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.detail().contains("credentials"), "{a:?}");
    let text = a.body.to_string();
    assert!(
        !text.contains("s3cret") && !text.contains("rotated-elsewhere"),
        "{text}"
    );
}

fn attachment(name: &str, content_type: &str) -> Value {
    json!({"name": name, "contentType": content_type, "data": "aGVsbG8="})
}

#[tokio::test]
async fn attachment_names_lose_their_path_and_types_are_checked() {
    let t = TestApp::spawn().await;
    let mut body = json!({"email": "dan.jump@fabrikam.com", "message": "See the files"});
    body["attachments"] = json!([
        attachment("../../x.png", "image/png"),
        attachment("C:\\a\\b.png", "IMAGE/PNG"),
        attachment("logs/", "text/plain; charset=utf-8"),
        attachment("..", "application/octet-stream"),
        attachment("page.html", "text/html"),
        attachment("two\r\nlines.txt", "text/plain"),
    ]);
    let a = t.post_ticket(body).await;
    assert_eq!(a.status, 201, "{a:?}");
    let notes = t.bms.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    let sent = notes[0].1["Attachments"].as_array().unwrap().clone();
    let names: Vec<&str> = sent.iter().map(|x| x["Name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "x.png",
            "b.png",
            "attachment",
            "attachment",
            "page.html",
            "two lines.txt"
        ]
    );
    let types: Vec<&str> = sent.iter().map(|x| x["Type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "image/png",
            "image/png",
            "text/plain",
            "application/octet-stream",
            "text/html",
            "text/plain"
        ]
    );
    let note = notes[0].1["Details"].as_str().unwrap();
    assert!(!note.contains(['\r', '\n', '/', '\\']), "{note:?}");

    for bad in [
        "image/png\r\nX-Injected: 1",
        "image",
        "image/",
        "/png",
        "image/png/x",
        "image png",
        "<script>/x",
    ] {
        let mut body = json!({"email": "dan.jump@fabrikam.com", "message": "See the files"});
        body["attachments"] = json!([attachment("a.png", "image/png"), attachment("b.png", bad)]);
        let a = t.post_ticket(body).await;
        assert_eq!(a.status, 400, "{bad:?}: {a:?}");
        let detail = a.detail();
        assert!(
            detail.contains("attachments") && detail.contains("[1]"),
            "{bad:?}: {detail}"
        );
        assert!(
            !detail.contains('\n') && !detail.contains('\r'),
            "{detail:?}"
        );
    }
    assert_eq!(
        t.bms.tickets().len(),
        1,
        "the refused presses filed nothing"
    );
}
