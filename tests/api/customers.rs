//! Every ticket on its customer and its computer: the hardware asset linked by hostname (then
//! IP address) on the ticket's account, the `asset` variable, and the names BMS knows kept out
//! of what the customer reads.

use bms_sandbox::tenant::{
    ACCOUNT_FABRIKAM, ASSET_FAB_PC_0042, CONTACT_DAN_JUMP, QUEUE_ESCALATIONS, QUEUE_SERVICE_DESK,
};
use serde_json::{Value, json};

use crate::helpers::TestApp;

const SEARCH: &str = "/v2/servicedesk/hardwareasset/searchselect";

fn dan(extra: Value) -> Value {
    let mut body = json!({"email": "dan.jump@fabrikam.com", "message": "Printer jammed"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    body
}

fn details(ticket: &Value) -> String {
    ticket["Details"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_known_contacts_computer_is_linked_by_its_name_in_any_case() {
    let t = TestApp::builder().warm().spawn().await;
    // A latency that makes calls one after the other visibly so.
    t.bms.set_latency(std::time::Duration::from_millis(20));
    let a = t.post_ticket(dan(json!({"hostname": "fab-pc-0042"}))).await;
    assert_eq!(a.status, 201, "{a:?}");
    let ticket = t.bms.tickets().pop().unwrap();
    assert_eq!(ticket["ContactId"], CONTACT_DAN_JUMP);
    assert_eq!(ticket["AccountId"], ACCOUNT_FABRIKAM);
    assert_eq!(ticket["HardwareAssetId"], ASSET_FAB_PC_0042);
    let d = details(&ticket);
    assert!(
        d.contains("Hostname: fab-pc-0042\nAsset: FAB-PC-0042\n"),
        "{d}"
    );
    // The computer search rode beside the contact search: they overlap.
    let calls = t.bms.calls();
    let find = |path: &str| calls.iter().find(|c| c.path == path).cloned();
    let (assets, contacts) = (
        find(SEARCH).unwrap(),
        find("/v2/crm/contacts/search").unwrap(),
    );
    assert!(
        assets.started < contacts.ended && contacts.started < assets.ended,
        "{assets:?} {contacts:?}"
    );
    assert_eq!(t.bms.round_trips(), 2, "{calls:#?}");
    assert!(
        assets.query.contains("Filter.AssetName=fab-pc-0042")
            && assets.query.contains("Filter.IsActive=true"),
        "{}",
        assets.query
    );
}

#[tokio::test]
async fn without_a_hostname_the_ip_address_finds_the_computer() {
    let t = TestApp::spawn().await;
    let ticket = t.file_ticket(dan(json!({"ip": "10.1.0.42"}))).await;
    assert_eq!(ticket["HardwareAssetId"], ASSET_FAB_PC_0042);
    assert!(details(&ticket).contains("Asset: FAB-PC-0042\n"));
}

#[tokio::test]
async fn another_customers_computer_or_none_links_nothing() {
    for (extra, searched) in [
        (json!({"hostname": "NW-LAPTOP-07"}), 1),
        (json!({"hostname": "FAB-PC-004"}), 1),
        (json!({}), 0),
    ] {
        let t = TestApp::spawn().await;
        let ticket = t.file_ticket(dan(extra.clone())).await;
        assert!(
            ticket.get("HardwareAssetId").is_none_or(Value::is_null),
            "{extra}: {ticket}"
        );
        assert!(!details(&ticket).contains("Asset:"), "{extra}");
        assert_eq!(t.bms.count("GET", SEARCH), searched, "{extra}");
    }
}

#[tokio::test]
async fn a_computer_that_cannot_be_looked_up_costs_the_link_not_the_ticket() {
    let t = TestApp::spawn().await;
    t.bms.fail_next(
        "GET",
        SEARCH,
        bms_sandbox::Failure::SuccessFalse("Access denied".into()),
    );
    let ticket = t.file_ticket(dan(json!({"hostname": "FAB-PC-0042"}))).await;
    assert!(ticket.get("HardwareAssetId").is_none_or(Value::is_null));
    let d = details(&ticket);
    assert!(
        d.contains("The computer could not be looked up in BMS"),
        "{d}"
    );
}

#[tokio::test]
async fn rules_route_by_the_asset() {
    let rules = json!({
        "defaults": {"queue": "Service Desk"},
        "rules": [{"when": "asset == 'FAB-PC-0042'", "set": {"queue": "Escalations"}}],
    });
    let t = TestApp::builder()
        .env("BUTTON_RULES", &rules.to_string())
        .spawn()
        .await;
    let a = t.post_ticket(dan(json!({"hostname": "FAB-PC-0042"}))).await;
    assert_eq!(a.status, 201, "{a:?}");
    let a = t
        .post_ticket(dan(json!({"hostname": "NW-LAPTOP-07"})))
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    let queues: Vec<Value> = t
        .bms
        .tickets()
        .iter()
        .map(|t| t["QueueId"].clone())
        .collect();
    assert_eq!(
        queues,
        [json!(QUEUE_ESCALATIONS), json!(QUEUE_SERVICE_DESK)]
    );
}

#[tokio::test]
async fn the_names_bms_knows_go_to_an_internal_note_not_the_description() {
    let rules = json!({
        "defaults": {"queue": "Service Desk", "priority": "Urgent", "assignee": "Jane Tek"}
    });
    let t = TestApp::builder()
        .env("BUTTON_RULES", &rules.to_string())
        .spawn()
        .await;
    let ticket = t.file_ticket(dan(json!({}))).await;
    let d = details(&ticket);
    assert!(
        d.contains(
            "[Submission Errors]\n- Priority `Urgent` could not be used; another priority was \
             used instead\n- Assignee `Jane Tek` could not be used; it was left empty\n"
        ),
        "{d}"
    );
    for bms_name in ["known:", "Medium", "Jane Tech"] {
        assert!(
            !d.contains(bms_name),
            "`{bms_name}` in the description:\n{d}"
        );
    }
    let notes = t.bms.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    let (ticket_id, note) = &notes[0];
    assert_eq!(*ticket_id, ticket["Id"].as_i64().unwrap());
    assert_eq!(note["IsInternal"], true);
    let text = note["Details"].as_str().unwrap();
    assert!(
        text.contains(
            "Priority `Urgent` could not be used (`Urgent` is not an active priority in BMS \
             (known: Low, Medium, High, Critical)); used `Medium` instead"
        ),
        "{text}"
    );
    assert!(text.contains("Jane Tech"), "{text}");
}

#[tokio::test]
async fn the_ticket_names_the_key_the_channel_and_the_callers_address() {
    let rules = json!({
        "defaults": {"queue": "Service Desk"},
        "rules": [{"when": "channel == 'web'", "set": {"queue": "Escalations"}}],
    });
    let t = TestApp::builder()
        .env("BUTTON_RULES", &rules.to_string())
        .spawn()
        .await;
    let body = dan(json!({})).to_string();
    for browser in [false, true] {
        let mut headers = vec![
            ("content-type", "application/json"),
            ("x-api-key", crate::helpers::BUTTON_KEY),
        ];
        if browser {
            headers.push(("sec-fetch-mode", "cors"));
        }
        let req = crate::helpers::event(
            crate::helpers::Gateway::HttpV2,
            "POST",
            "/tickets",
            &headers,
            &body,
        );
        let a = t.send(req).await;
        assert_eq!(a.status, 201, "{a:?}");
    }
    let tickets = t.bms.tickets();
    let (api, web) = (details(&tickets[0]), details(&tickets[1]));
    // The tests' key has no name: no `Button:` line (the unit tests show a named one).
    assert!(
        api.contains("\nChannel: api\nCaller IP: 203.0.113.10\n"),
        "{api}"
    );
    assert!(
        web.contains("\nChannel: web\nCaller IP: 203.0.113.10\n"),
        "{web}"
    );
    assert!(!api.contains("Button:"), "{api}");
    assert_eq!(tickets[0]["QueueId"], QUEUE_SERVICE_DESK);
    assert_eq!(tickets[1]["QueueId"], QUEUE_ESCALATIONS);
}

async fn with_rules(rules: Value) -> TestApp {
    TestApp::builder()
        .env("BUTTON_RULES", &rules.to_string())
        .spawn()
        .await
}

#[tokio::test]
async fn issue_types_and_sub_types_resolve_from_names_or_ids() {
    use bms_sandbox::tenant::{
        ISSUE_TYPE_HARDWARE, ISSUE_TYPE_SOFTWARE, SUB_ISSUE_TYPE_EMAIL, SUB_ISSUE_TYPE_PRINTER,
    };
    let t = with_rules(json!({
        "defaults": {"queue": "Service Desk"},
        "rules": [
            {"when": "message.contains('Printer')",
             "set": {"issueType": "hardware", "subIssueType": "PRINTER"}},
            {"when": "message.contains('Mail')",
             "set": {"issueType": ISSUE_TYPE_SOFTWARE, "subIssueType": SUB_ISSUE_TYPE_EMAIL}},
        ],
    }))
    .await;
    for message in ["Printer jammed", "Printer again", "Mail is down", "Other"] {
        let a = t
            .post_ticket(json!({"email": "dan.jump@fabrikam.com", "message": message}))
            .await;
        assert_eq!(a.status, 201, "{a:?}");
        assert_eq!(a.body["warnings"], json!([]), "{message}");
    }
    let tickets = t.bms.tickets();
    let ids = |i: usize| {
        (
            tickets[i]["IssueTypeId"].clone(),
            tickets[i]["SubIssueTypeId"].clone(),
        )
    };
    assert_eq!(
        ids(0),
        (json!(ISSUE_TYPE_HARDWARE), json!(SUB_ISSUE_TYPE_PRINTER))
    );
    assert_eq!(
        ids(1),
        (json!(ISSUE_TYPE_HARDWARE), json!(SUB_ISSUE_TYPE_PRINTER))
    );
    assert_eq!(
        ids(2),
        (json!(ISSUE_TYPE_SOFTWARE), json!(SUB_ISSUE_TYPE_EMAIL))
    );
    assert!(tickets[3].get("IssueTypeId").is_none_or(Value::is_null));
    // Each list once: the sub-types of an issue type are cached as the other lists are; ids
    // need no list.
    assert_eq!(t.bms.count("GET", "/v2/system/issuetypes/lookup"), 1);
    let subs = format!("/v2/system/issuetypes/{ISSUE_TYPE_HARDWARE}/issuesubtypes/lookup");
    assert_eq!(t.bms.count("GET", &subs), 1);
}

#[tokio::test]
async fn an_issue_type_bms_does_not_know_is_left_out_and_said() {
    let cases = [
        (
            json!({"issueType": "Hardwear", "subIssueType": "Printer"}),
            vec![
                "Issue type `Hardwear` could not be used; it was left empty",
                "Sub-issue type `Printer` could not be used; it was left empty",
            ],
            "`Hardwear` is not an active issue type in BMS (known: Hardware, Software)",
        ),
        (
            json!({"issueType": "Hardware", "subIssueType": "Email"}),
            vec!["Sub-issue type `Email` could not be used; it was left empty"],
            "`Email` is not an active sub-issue type in BMS (known: Printer, Laptop)",
        ),
        (
            json!({"issueType": "Legacy"}),
            vec!["Issue type `Legacy` could not be used; it was left empty"],
            "`Legacy` is not an active issue type in BMS",
        ),
    ];
    for (set, told, noted) in cases {
        let mut defaults = json!({"queue": "Service Desk"});
        if let (Some(d), Some(s)) = (defaults.as_object_mut(), set.as_object()) {
            d.extend(s.clone());
        }
        let t = with_rules(json!({"defaults": defaults})).await;
        let a = t.post_ticket(dan(json!({}))).await;
        assert_eq!(a.status, 201, "{set}: {a:?}");
        assert_eq!(a.body["warnings"], json!(told), "{set}");
        let ticket = t.only_ticket();
        assert!(
            ticket.get("SubIssueTypeId").is_none_or(Value::is_null),
            "{set}"
        );
        for line in &told {
            assert!(
                details(&ticket).contains(line),
                "{set}: {}",
                details(&ticket)
            );
        }
        let notes = t.bms.notes();
        let note = notes[0].1["Details"].as_str().unwrap_or_default();
        assert!(note.contains(noted), "{set}: {note}");
    }
}

mod placement {
    use bms_sandbox::tenant::{
        ACCOUNT_FABRIKAM, ACCOUNT_NORTHWIND, ACCOUNT_UNREGISTERED, ASSET_NW_LAPTOP_07,
        CONTACT_DAN_JUMP, CONTACT_UNREGISTERED, LOCATION_FABRIKAM_BRANCH, LOCATION_FABRIKAM_HQ,
        LOCATION_NORTHWIND_MAIN, LOCATION_UNREGISTERED,
    };
    use serde_json::{Value, json};

    use super::{details, with_rules};

    fn fabrikam_rule() -> Value {
        json!({
            "defaults": {"queue": "Service Desk"},
            "rules": [{"when": "email.endsWith('@fabrikam.com')", "set": {"account": "Fabrikam Inc"}}],
        })
    }

    fn no_contact(ticket: &Value) -> bool {
        ticket.get("ContactId").is_none_or(Value::is_null)
    }

    #[tokio::test]
    async fn a_new_hire_of_a_known_customer_lands_on_that_customer() {
        let t = with_rules(fabrikam_rule()).await;
        let body =
            json!({"email": "new.hire@fabrikam.com", "name": "New Hire", "message": "No access"});
        let ticket = t.file_ticket(body).await;
        assert_eq!(ticket["AccountId"], ACCOUNT_FABRIKAM);
        assert_eq!(
            ticket["LocationId"], LOCATION_FABRIKAM_HQ,
            "the account's main location"
        );
        assert!(no_contact(&ticket), "{ticket}");
        let d = details(&ticket);
        assert!(
            d.starts_with(
                "[User Registration Requested]\nName: New Hire\nEmail: new.hire@fabrikam.com\n"
            ),
            "{d}"
        );
    }

    #[tokio::test]
    async fn a_known_contacts_own_account_always_wins() {
        let rules = json!({"defaults": {"queue": "Service Desk", "account": "Northwind Traders"}});
        let t = with_rules(rules).await;
        let a = t.post_ticket(super::dan(json!({}))).await;
        assert_eq!(a.status, 201, "{a:?}");
        assert_eq!(a.body["warnings"], json!([]));
        let ticket = t.only_ticket();
        assert_eq!(ticket["AccountId"], ACCOUNT_FABRIKAM);
        assert_eq!(ticket["ContactId"], CONTACT_DAN_JUMP);
        assert_eq!(ticket["LocationId"], LOCATION_FABRIKAM_BRANCH);
        // Another customer's name stays out of what this customer reads.
        assert!(
            !details(&ticket).contains("Northwind"),
            "{}",
            details(&ticket)
        );
        let notes = t.bms.notes();
        let note = notes[0].1["Details"].as_str().unwrap_or_default();
        assert_eq!(notes[0].1["IsInternal"], true);
        assert!(
            note.contains("account `Northwind Traders` (2), but dan.jump@fabrikam.com is contact 101 of account 1"),
            "{note}"
        );
    }

    #[tokio::test]
    async fn an_unknown_users_computer_places_the_ticket_unless_two_customers_share_its_name() {
        let t = with_rules(json!({"defaults": {"queue": "Service Desk"}})).await;
        for hostname in ["nw-laptop-07", "RECEPTION", "NO-SUCH-PC"] {
            let body =
                json!({"email": "temp@agency.example", "message": "Slow", "hostname": hostname});
            let a = t.post_ticket(body).await;
            assert_eq!(a.status, 201, "{a:?}");
        }
        let tickets = t.bms.tickets();
        assert_eq!(tickets[0]["AccountId"], ACCOUNT_NORTHWIND);
        assert_eq!(tickets[0]["LocationId"], LOCATION_NORTHWIND_MAIN);
        assert_eq!(tickets[0]["HardwareAssetId"], ASSET_NW_LAPTOP_07);
        assert!(no_contact(&tickets[0]));
        for shared in &tickets[1..] {
            assert_eq!(shared["AccountId"], ACCOUNT_UNREGISTERED, "{shared}");
            assert_eq!(shared["LocationId"], LOCATION_UNREGISTERED);
            assert_eq!(shared["ContactId"], CONTACT_UNREGISTERED);
            assert!(shared.get("HardwareAssetId").is_none_or(Value::is_null));
        }
    }

    #[tokio::test]
    async fn an_account_bms_does_not_know_leaves_the_user_on_the_catch_all() {
        let rules = json!({"defaults": {"queue": "Service Desk", "account": "Fabrikm"}});
        let t = with_rules(rules).await;
        let a = t
            .post_ticket(json!({"email": "new.hire@fabrikam.com", "message": "Hi"}))
            .await;
        assert_eq!(a.status, 201, "{a:?}");
        assert_eq!(
            a.body["warnings"],
            json!(["Account `Fabrikm` could not be used; it was left empty"])
        );
        let ticket = t.only_ticket();
        assert_eq!(ticket["ContactId"], CONTACT_UNREGISTERED);
        // The MSP's customers are named in the internal note only.
        assert!(
            !details(&ticket).contains("Northwind"),
            "{}",
            details(&ticket)
        );
        let notes = t.bms.notes();
        let note = notes[0].1["Details"].as_str().unwrap_or_default();
        assert!(
            note.contains("known: Fabrikam Inc, Northwind Traders"),
            "{note}"
        );
    }

    #[tokio::test]
    async fn an_account_given_by_id_needs_no_list() {
        let rules = json!({"defaults": {"queue": "Service Desk", "account": ACCOUNT_NORTHWIND}});
        let t = with_rules(rules).await;
        let ticket = t
            .file_ticket(json!({"email": "sam@northwind.example", "message": "Hi"}))
            .await;
        assert_eq!(ticket["AccountId"], ACCOUNT_NORTHWIND);
        assert_eq!(ticket["LocationId"], LOCATION_NORTHWIND_MAIN);
        assert_eq!(t.bms.count("GET", "/v2/crm/accounts/lookup"), 0);
    }
}

mod keys {
    use bms_sandbox::CREDENTIALS;
    use bms_sandbox::tenant::{
        ACCOUNT_FABRIKAM, ACCOUNT_NORTHWIND, CONTACT_DAN_JUMP, LOCATION_FABRIKAM_HQ,
        LOCATION_NORTHWIND_MAIN,
    };
    use serde_json::{Value, json};

    use crate::helpers::{Answer, Gateway, TestApp, event};

    pub const FABRIKAM_KEY: &str = "fabrikam-office-key-0123456789";
    pub const NORTHWIND_KEY: &str = "northwind-office-key-0123456789";

    /// Two customers' keys: Fabrikam's by account name, allowed to create contacts;
    /// Northwind's by account id.
    pub async fn app(rules: Option<Value>) -> TestApp {
        let secret = json!({
            "credentials": CREDENTIALS,
            "buttonKeys": [
                {"key": FABRIKAM_KEY, "name": "fabrikam-office", "account": "Fabrikam Inc",
                 "createContacts": true},
                {"key": NORTHWIND_KEY, "name": "northwind-office", "account": ACCOUNT_NORTHWIND},
            ],
        });
        let rules = rules.unwrap_or_else(|| json!({"defaults": {"queue": "Service Desk"}}));
        TestApp::builder()
            .env("KASEYA_CREDENTIALS", &secret.to_string())
            .env("BUTTON_RULES", &rules.to_string())
            .spawn()
            .await
    }

    pub async fn press_with(t: &TestApp, key: &str, body: &Value) -> Answer {
        let headers = [("content-type", "application/json"), ("x-api-key", key)];
        t.send(event(
            Gateway::HttpV2,
            "POST",
            "/tickets",
            &headers,
            &body.to_string(),
        ))
        .await
    }

    #[tokio::test]
    async fn an_unknown_user_of_a_customers_key_is_filed_on_that_customer() {
        let t = app(None).await;
        for (key, email) in [
            (NORTHWIND_KEY, "temp@agency.example"),
            (NORTHWIND_KEY, "dan.jump@fabrikam.com"),
        ] {
            let a = press_with(&t, key, &json!({"email": email, "message": "Help"})).await;
            assert_eq!(a.status, 201, "{a:?}");
        }
        let tickets = t.bms.tickets();
        assert_eq!(tickets[0]["AccountId"], ACCOUNT_NORTHWIND);
        assert_eq!(tickets[0]["LocationId"], LOCATION_NORTHWIND_MAIN);
        assert!(tickets[0].get("ContactId").is_none_or(Value::is_null));
        let d = tickets[0]["Details"].as_str().unwrap_or_default();
        assert!(d.contains("\nButton: northwind-office\n"), "{d}");
        // A known contact's own account wins over the key's.
        assert_eq!(tickets[1]["AccountId"], ACCOUNT_FABRIKAM);
        assert_eq!(tickets[1]["ContactId"], CONTACT_DAN_JUMP);
    }

    #[tokio::test]
    async fn a_rule_may_change_the_account_a_key_starts_with() {
        let rules = json!({
            "defaults": {"queue": "Service Desk"},
            "rules": [{"when": "account == 'Fabrikam Inc' && email.endsWith('@northwind.com')",
                       "set": {"account": "Northwind Traders"}}],
        });
        let t = app(Some(rules)).await;
        for email in ["visitor@northwind.com", "visitor@elsewhere.example"] {
            let a = press_with(&t, FABRIKAM_KEY, &json!({"email": email, "message": "Hi"})).await;
            assert_eq!(a.status, 201, "{a:?}");
        }
        let tickets = t.bms.tickets();
        assert_eq!(tickets[0]["AccountId"], ACCOUNT_NORTHWIND);
        assert_eq!(tickets[1]["AccountId"], ACCOUNT_FABRIKAM);
        assert_eq!(tickets[1]["LocationId"], LOCATION_FABRIKAM_HQ);
    }
}

mod new_contacts {
    use bms_sandbox::tenant::{
        ACCOUNT_FABRIKAM, ACCOUNT_NORTHWIND, FIRST_CREATED_CONTACT_ID, LOCATION_FABRIKAM_HQ,
    };
    use serde_json::{Value, json};

    use super::keys::{FABRIKAM_KEY, NORTHWIND_KEY, app, press_with};

    const CREATE: &str = "/v2/crm/contacts/summary";

    #[tokio::test]
    async fn a_new_hire_on_the_customers_own_domain_becomes_a_contact_once() {
        let t = app(None).await;
        for _ in 0..2 {
            let body = json!({"email": "New.Hire@Fabrikam.com", "message": "No access"});
            let a = press_with(&t, FABRIKAM_KEY, &body).await;
            assert_eq!(a.status, 201, "{a:?}");
        }
        assert_eq!(t.bms.count("POST", CREATE), 1, "created once");
        let calls = t.bms.calls();
        let created = calls.iter().find(|c| c.path == CREATE).unwrap();
        let body = created.body.clone().unwrap_or_default();
        assert_eq!(body["FirstName"], "New");
        assert_eq!(body["LastName"], "Hire");
        assert_eq!(body["AccountId"], ACCOUNT_FABRIKAM);
        assert_eq!(body["LocationId"], LOCATION_FABRIKAM_HQ);
        assert_eq!(body["Emails"][0]["EmailAddress"], "New.Hire@Fabrikam.com");
        for ticket in t.bms.tickets() {
            assert_eq!(ticket["ContactId"], FIRST_CREATED_CONTACT_ID, "{ticket}");
            assert_eq!(ticket["AccountId"], ACCOUNT_FABRIKAM);
            assert_eq!(ticket["LocationId"], LOCATION_FABRIKAM_HQ);
            let d = ticket["Details"].as_str().unwrap_or_default();
            assert!(!d.contains("[User Registration Requested]"), "{d}");
        }
    }

    #[tokio::test]
    async fn two_presses_of_a_new_hire_at_once_make_one_contact() {
        let t = app(None).await;
        let body = json!({"email": "new.hire@fabrikam.com", "message": "No access"});
        let (a, b) = tokio::join!(
            press_with(&t, FABRIKAM_KEY, &body),
            press_with(&t, FABRIKAM_KEY, &body)
        );
        assert_eq!((a.status, b.status), (201, 201), "{a:?} {b:?}");
        assert_eq!(t.bms.count("POST", CREATE), 1);
        for ticket in t.bms.tickets() {
            assert_eq!(ticket["ContactId"], FIRST_CREATED_CONTACT_ID, "{ticket}");
        }
    }

    #[tokio::test]
    async fn another_domain_or_a_key_without_create_contacts_creates_nothing() {
        let t = app(None).await;
        for (key, email) in [
            (FABRIKAM_KEY, "someone@gmail.com"),
            (FABRIKAM_KEY, "typo@fabrikan.com"),
            (NORTHWIND_KEY, "new.person@northwind.com"),
        ] {
            let a = press_with(&t, key, &json!({"email": email, "message": "Hi"})).await;
            assert_eq!(a.status, 201, "{a:?}");
        }
        assert_eq!(t.bms.count("POST", CREATE), 0);
        let tickets = t.bms.tickets();
        let accounts: Vec<Value> = tickets.iter().map(|t| t["AccountId"].clone()).collect();
        assert_eq!(
            accounts,
            [
                json!(ACCOUNT_FABRIKAM),
                json!(ACCOUNT_FABRIKAM),
                json!(ACCOUNT_NORTHWIND)
            ]
        );
        for ticket in &tickets {
            assert!(
                ticket.get("ContactId").is_none_or(Value::is_null),
                "{ticket}"
            );
            let d = ticket["Details"].as_str().unwrap_or_default();
            assert!(d.starts_with("[User Registration Requested]"), "{d}");
        }
    }

    #[tokio::test]
    async fn a_contact_bms_refuses_to_create_leaves_the_ticket_on_the_account() {
        let t = app(None).await;
        t.bms.fail_next(
            "POST",
            CREATE,
            bms_sandbox::Failure::SuccessFalse("Access denied".into()),
        );
        let body = json!({"email": "new.hire@fabrikam.com", "message": "Hi"});
        let a = press_with(&t, FABRIKAM_KEY, &body).await;
        assert_eq!(a.status, 201, "{a:?}");
        let ticket = t.only_ticket();
        assert_eq!(ticket["AccountId"], ACCOUNT_FABRIKAM);
        assert!(ticket.get("ContactId").is_none_or(Value::is_null));
        let d = ticket["Details"].as_str().unwrap_or_default();
        assert!(d.contains("could not be created in account 1"), "{d}");
    }

    /// Creating a contact costs one round trip more than filing on the account: the staff's
    /// domain and the main location are known to the container after the first new hire.
    #[tokio::test]
    async fn creating_a_contact_costs_one_more_round_trip() {
        let t = app(None).await;
        t.bms.set_latency(std::time::Duration::from_millis(20));
        let press = |email: &str| json!({"email": email, "message": "Hi"});
        let a = press_with(&t, FABRIKAM_KEY, &press("first.hire@fabrikam.com")).await;
        assert_eq!(a.status, 201, "{a:?}");
        t.bms.reset_calls();
        let a = press_with(&t, FABRIKAM_KEY, &press("someone@gmail.com")).await;
        assert_eq!(a.status, 201, "{a:?}");
        assert_eq!(t.bms.round_trips(), 2, "filed on the account");
        t.bms.reset_calls();
        let a = press_with(&t, FABRIKAM_KEY, &press("second.hire@fabrikam.com")).await;
        assert_eq!(a.status, 201, "{a:?}");
        assert_eq!(t.bms.round_trips(), 3, "a contact created");
    }
}

mod health_and_preview {
    use bms_sandbox::CREDENTIALS;
    use serde_json::json;

    use crate::helpers::{Gateway, OPERATOR_KEY, TestApp, event, get};

    const KEY: &str = "fabrikam-office-key-0123456789";

    async fn app(account: &str, rules: serde_json::Value) -> TestApp {
        let secret = json!({
            "credentials": CREDENTIALS,
            "buttonKeys": [{"key": KEY, "name": "fabrikam-office", "account": account,
                            "createContacts": true}],
            "operatorKeys": [OPERATOR_KEY],
        });
        TestApp::builder()
            .env("KASEYA_CREDENTIALS", &secret.to_string())
            .env("BUTTON_RULES", &rules.to_string())
            .spawn()
            .await
    }

    #[tokio::test]
    async fn health_names_every_account_and_issue_type_bms_does_not_know() {
        let rules = json!({
            "defaults": {"queue": "Service Desk"},
            "rules": [
                {"when": "message.contains('print')",
                 "set": {"issueType": "Hardwear", "subIssueType": "Printr"}},
                {"when": "email.endsWith('@northwind.com')", "set": {"account": "Nrthwind"}},
                {"when": "message.contains('mail')",
                 "set": {"issueType": "Software", "subIssueType": "Email"}},
            ],
        });
        let t = app("Fabrkam Inc", rules).await;
        let a = t.send(get("/health", Some(OPERATOR_KEY))).await;
        assert_eq!(a.status, 503, "{a:?}");
        let text = a.body.as_str().unwrap_or_default().to_string();
        let line = text
            .lines()
            .find(|l| l.starts_with("FAIL rules names:"))
            .unwrap_or_else(|| panic!("{text}"));
        for unknown in [
            "rules[0].set.issueType: `Hardwear` is not an active issue type in BMS",
            "rules[0].set.subIssueType: `Printr` is not an active sub-issue type in BMS",
            "rules[1].set.account: `Nrthwind` is not an active account in BMS",
            "the key `fabrikam-office`'s account: `Fabrkam Inc` is not an active account",
        ] {
            assert!(line.contains(unknown), "`{unknown}` missing: {line}");
        }
        for known in ["`Software`", "`Email`"] {
            assert!(!line.contains(known), "{known} is known: {line}");
        }
    }

    #[tokio::test]
    async fn health_passes_when_bms_knows_every_name() {
        let rules = json!({
            "defaults": {"queue": "Service Desk", "issueType": "Hardware"},
            "rules": [{"when": "true", "set": {"subIssueType": "Laptop"}}],
        });
        let t = app("Fabrikam Inc", rules).await;
        let a = t.send(get("/health", Some(OPERATOR_KEY))).await;
        let text = a.body.as_str().unwrap_or_default().to_string();
        assert_eq!(a.status, 200, "{text}");
        assert!(
            text.contains("ok   rules names: each of the 4 names the rules and keys set is active"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn the_preview_shows_who_the_ticket_is_for_and_what_will_be_created() {
        // An operator key may name a customer too: the preview then shows that customer's
        // presses.
        let secret = json!({
            "credentials": CREDENTIALS,
            "operatorKeys": [{"key": OPERATOR_KEY, "name": "tier2", "account": "Fabrikam Inc",
                              "createContacts": true}],
        });
        let t = TestApp::builder()
            .env("KASEYA_CREDENTIALS", &secret.to_string())
            .env(
                "BUTTON_RULES",
                &json!({"defaults": {"queue": "Service Desk"}}).to_string(),
            )
            .spawn()
            .await;
        let preview = |email: &str, hostname: &str| {
            let body = json!({"email": email, "message": "Hi", "hostname": hostname});
            let headers = [
                ("content-type", "application/json"),
                ("x-api-key", OPERATOR_KEY),
            ];
            event(
                Gateway::HttpV2,
                "POST",
                "/tickets/preview",
                &headers,
                &body.to_string(),
            )
        };
        let cases = [
            (
                "dan.jump@fabrikam.com",
                "FAB-PC-0042",
                "found",
                Some(101),
                1,
                Some(601),
            ),
            ("new.hire@fabrikam.com", "", "to be created", None, 1, None),
            ("someone@gmail.com", "", "none", None, 1, None),
        ];
        for (email, host, contact, id, account, asset) in cases {
            let a = t.send(preview(email, host)).await;
            assert_eq!(a.status, 200, "{a:?}");
            let d = &a.body["decisions"];
            assert_eq!(d["contact"], contact, "{email}: {d}");
            assert_eq!(d["contactId"], json!(id), "{email}: {d}");
            assert_eq!(d["account"]["id"], account, "{email}: {d}");
            assert_eq!(d["asset"]["id"], json!(asset), "{email}: {d}");
        }
        let a = t.send(preview("new.hire@fabrikam.com", "")).await;
        assert_eq!(a.body["decisions"]["newContact"]["LastName"], "Hire");
        assert_eq!(a.body["decisions"]["account"]["name"], "Fabrikam Inc");
        // A preview creates nothing and files nothing.
        assert_eq!(t.bms.count("POST", "/v2/crm/contacts/summary"), 0);
        assert!(t.bms.tickets().is_empty());
    }

    #[tokio::test]
    async fn the_preview_shows_the_catch_all_for_a_stranger() {
        let t = TestApp::spawn().await;
        let body = json!({"email": "stranger@example.com", "message": "Hi"});
        let a = t.preview(body).await;
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(a.body["decisions"]["contact"], "catch-all", "{a:?}");
        assert_eq!(a.body["decisions"]["asset"], serde_json::Value::Null);
    }
}

#[tokio::test]
async fn a_sub_issue_type_id_of_another_issue_type_is_left_out_not_the_ticket() {
    use bms_sandbox::tenant::{ISSUE_TYPE_HARDWARE, SUB_ISSUE_TYPE_EMAIL};
    let t = with_rules(json!({
        "defaults": {"queue": "Service Desk", "issueType": ISSUE_TYPE_HARDWARE,
                     "subIssueType": SUB_ISSUE_TYPE_EMAIL},
    }))
    .await;
    let a = t.post_ticket(dan(json!({}))).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(
        a.body["warnings"],
        json!(["Sub-issue type id 721 could not be used; it was left empty"])
    );
    let ticket = t.only_ticket();
    assert_eq!(ticket["IssueTypeId"], ISSUE_TYPE_HARDWARE);
    assert!(ticket.get("SubIssueTypeId").is_none_or(Value::is_null));
}
