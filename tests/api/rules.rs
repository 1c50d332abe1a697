//! Rules change the ticket BMS receives: through the handler, against the sandbox.

mod cookbook;

use bms_sandbox::tenant::{
    ASSIGNEE_JANE_TECH, CONTACT_DAN_JUMP, LOCATION_FABRIKAM_BRANCH, PRIORITY_CRITICAL,
    PRIORITY_HIGH, PRIORITY_LOW, QUEUE_ESCALATIONS, QUEUE_SERVICE_DESK, SOURCE_OTHER, STATUS_NEW,
    TYPE_SERVICE_REQUEST,
};
use serde_json::{Value, json};

use crate::helpers::{TestApp, press};
use crate::support::logs;

async fn with_rules(rules: Value) -> TestApp {
    TestApp::builder()
        .env("BUTTON_RULES", &rules.to_string())
        .spawn()
        .await
}

fn design_rules() -> Value {
    json!({
        "defaults": {"priority": "Medium", "ticketStatus": "New", "ticketType": "Service Request",
                     "ticketSource": "Other", "queue": "Service Desk"},
        "let": {"vip": false},
        "rules": [
            {"when": "'This is an emergency' in selections", "set": {"priority": "Critical"}},
            {"when": "priority == 'Critical'", "compute": {"title": "'**EMERGENCY** ' + title"}},
            {"when": "email.lowerAscii().endsWith('@fabrikam.com')", "set": {"queue": "Escalations"}},
            {"when": "name == 'Dan Jump'", "set": {"assignee": "Jane Tech", "vip": true}, "stop": true},
            {"set": {"priority": "Low"}}
        ]
    })
}

#[tokio::test]
async fn rules_route_the_ticket_bms_receives() {
    let t = with_rules(design_rules()).await;
    let mut body = press("Dan.Jump@Fabrikam.com", "Server room is flooding");
    body["name"] = "Dan Jump".into();
    body["selections"] = json!(["This is an emergency"]);
    let ticket = t.file_ticket(body).await;
    assert_eq!(ticket["PriorityId"], PRIORITY_CRITICAL);
    assert_eq!(ticket["Title"], "**EMERGENCY** Server room is flooding");
    assert_eq!(ticket["QueueId"], QUEUE_ESCALATIONS, "by e-mail domain");
    assert_eq!(ticket["AssigneeId"], ASSIGNEE_JANE_TECH);
    assert_eq!(ticket["StatusId"], STATUS_NEW);
    assert_eq!(ticket["TypeId"], TYPE_SERVICE_REQUEST);
    assert_eq!(ticket["SourceId"], SOURCE_OTHER);
}

#[tokio::test]
async fn stop_ends_the_rules_and_unmatched_rules_change_nothing() {
    let t = with_rules(design_rules()).await;
    // Not Dan Jump: the last rule runs and sets Low; no emergency, no prefix.
    let ticket = t
        .file_ticket(press("ann.beebe@northwind.com", "Mouse is broken"))
        .await;
    assert_eq!(ticket["PriorityId"], PRIORITY_LOW, "from the last rule");
    assert_eq!(ticket["Title"], "Mouse is broken");
    assert_eq!(ticket["QueueId"], QUEUE_SERVICE_DESK, "the default queue");
    assert!(ticket.get("AssigneeId").is_none_or(Value::is_null));
}

#[tokio::test]
async fn a_rejecting_rule_answers_422_and_files_nothing() {
    let rules = json!({
        "defaults": {"queue": "Service Desk"},
        "rules": [{"when": "email.endsWith('@northwind.com')", "reject": "Ticket submission is disabled until payment."}]
    });
    let t = with_rules(rules).await;
    let a = t
        .post_ticket(press("ann.beebe@northwind.com", "Help"))
        .await;
    assert_eq!(a.status, 422, "{a:?}");
    assert_eq!(a.content_type, "application/problem+json");
    assert_eq!(a.detail(), "Ticket submission is disabled until payment.");
    assert!(
        t.bms.calls().is_empty(),
        "a rejected press never reaches BMS"
    );
    // Everyone else still gets a ticket.
    assert_eq!(
        t.post_ticket(press("dan.jump@fabrikam.com", "Help"))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn a_rule_failing_at_run_time_is_skipped_and_reported_in_the_ticket() {
    let rules = json!({
        "defaults": {"queue": "Service Desk"},
        "let": {"impact": 2},
        "rules": [
            {"when": "int(name) > impact", "set": {"priority": "Critical"}},
            {"set": {"priority": "High"}}
        ]
    });
    let t = with_rules(rules).await;
    let mut body = press("dan.jump@fabrikam.com", "Slow laptop");
    body["name"] = "Dan Jump".into();
    let a = t.post_ticket(body).await;
    assert_eq!(a.status, 201, "{a:?}");
    let warnings = a.body["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].as_str().unwrap().contains("rules[0]"),
        "{warnings:?}"
    );
    let ticket = t.only_ticket();
    assert_eq!(
        ticket["PriorityId"], PRIORITY_HIGH,
        "the failing rule was skipped, the next one ran"
    );
    let details = ticket["Details"].as_str().unwrap();
    assert!(
        details.contains("[Submission Errors]\n- rules[0]"),
        "{details}"
    );
}

#[tokio::test]
async fn rules_with_static_errors_stop_the_function_with_a_500_naming_them_in_the_log() {
    let (log, _guard) = logs::capture();
    let rules = json!({"rules": [{"when": "priorty == 'High'", "set": {"email": "x@y.com"}}]});
    let t = with_rules(rules).await;
    let a = t.post_ticket(press("dan.jump@fabrikam.com", "Help")).await;
    assert_eq!(a.status, 500, "{a:?}");
    // The caller, not yet authenticated, learns that the function is misconfigured; the log
    // says what and where.
    assert!(a.detail().contains("not configured correctly"), "{a:?}");
    assert!(!a.detail().contains("priorty"), "{a:?}");
    let log = log.text();
    assert!(log.contains("BUTTON_RULES"), "{log}");
    assert!(log.contains("rules[0]"), "{log}");
    assert!(log.contains("did you mean `priority`"), "{log}");
    assert!(log.contains("`email` is read-only"), "{log}");
    assert!(t.bms.calls().is_empty());
}

#[tokio::test]
async fn preview_shows_everything_and_creates_nothing() {
    let t = with_rules(design_rules()).await;
    let mut body = press("dan.jump@fabrikam.com", "Server room is flooding");
    body["name"] = "Dan Jump".into();
    body["selections"] = json!("This is an emergency");
    let a = t.preview(body).await;
    assert_eq!(a.status, 200, "{a:?}");
    let p = &a.body;
    assert_eq!(p["contextBefore"]["priority"], "");
    assert_eq!(p["contextBefore"]["title"], "Server room is flooding");
    assert_eq!(p["contextAfter"]["priority"], "Critical");
    assert_eq!(
        p["contextAfter"]["title"],
        "**EMERGENCY** Server room is flooding"
    );
    assert_eq!(p["contextAfter"]["queue"], "Escalations");
    assert_eq!(p["contextAfter"]["assignee"], "Jane Tech");
    assert_eq!(p["rules"]["matched"], json!([0, 1, 2, 3]), "rules[3] stops");
    assert_eq!(p["resolved"]["priority"]["id"], PRIORITY_CRITICAL, "{p:#}");
    assert_eq!(p["resolved"]["assignee"]["id"], ASSIGNEE_JANE_TECH);
    assert_eq!(
        p["resolved"]["queue"],
        json!({"id": QUEUE_ESCALATIONS, "name": "Escalations"})
    );
    assert_eq!(p["contact"]["contactId"], CONTACT_DAN_JUMP);
    assert_eq!(p["contact"]["locationId"], LOCATION_FABRIKAM_BRANCH);
    assert_eq!(
        p["ticket"]["Title"],
        "**EMERGENCY** Server room is flooding"
    );
    assert_eq!(p["ticket"]["QueueId"], QUEUE_ESCALATIONS);
    assert!(
        p["ticket"]["Details"]
            .as_str()
            .unwrap()
            .contains("Server room is flooding")
    );
    assert!(t.bms.tickets().is_empty());
    assert_eq!(t.bms.count("POST", "/v2/servicedesk/tickets"), 0);
}

#[tokio::test]
async fn preview_lists_every_name_the_rules_set_that_bms_does_not_know() {
    let rules = json!({
        "defaults": {"queue": "Service Desk", "priority": "Medium"},
        "rules": [
            {"when": "'Printer' in selections", "set": {"queue": "Printers"}},
            {"when": "name == 'Dan Jump'", "set": {"assignee": "Jane Tech"}},
            {"when": "'VIP' in selections", "set": {"priority": "Urgent"}}
        ]
    });
    let t = with_rules(rules).await;
    // A press that reaches none of the rules: their names are checked all the same.
    let a = t.preview(press("dan.jump@fabrikam.com", "Help")).await;
    assert_eq!(a.status, 200, "{a:?}");
    let unknown = a.body["unknownNames"].as_array().unwrap();
    assert_eq!(unknown.len(), 2, "{unknown:?}");
    assert!(
        unknown[0].as_str().unwrap().starts_with(
            "rules[0].set.queue: `Printers` is not an active queue in BMS (known: Service Desk, "
        ),
        "{unknown:?}"
    );
    assert!(
        unknown[1].as_str().unwrap().starts_with(
            "rules[2].set.priority: `Urgent` is not an active priority in BMS (known: Low, "
        ),
        "{unknown:?}"
    );

    let t = with_rules(design_rules()).await;
    let a = t.preview(press("dan.jump@fabrikam.com", "Help")).await;
    assert_eq!(a.body["unknownNames"], json!([]), "{a:?}");
}

#[tokio::test]
async fn preview_of_a_rejected_press_shows_the_rejection_without_calling_bms() {
    let rules = json!({"defaults": {"queue": "Service Desk"}, "rules": [{"when": "true", "reject": "Closed for the holidays."}]});
    let t = with_rules(rules).await;
    let a = t.preview(press("dan.jump@fabrikam.com", "Help")).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(
        a.body["rules"]["rejected"]["message"],
        "Closed for the holidays."
    );
    assert!(a.body.get("ticket").is_none());
    assert!(t.bms.calls().is_empty());
}
