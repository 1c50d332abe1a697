//! No answer tells a caller whether an e-mail belongs to a BMS contact: a known e-mail, an
//! unknown one and a near match get the same answers, successes and errors alike.

use bms_sandbox::tenant::{
    ACCOUNT_FABRIKAM, ACCOUNT_UNREGISTERED, CONTACT_DAN_JUMP, CONTACT_UNREGISTERED,
    LOCATION_UNREGISTERED, Tenant,
};
use bms_sandbox::{Failure, Options, Sandbox};
use serde_json::{Value, json};

use crate::helpers::{Answer, Gateway, TestApp, app_for, keyed_event, post_ticket, press};

const KNOWN: &str = "dan.jump@fabrikam.com";
const UNKNOWN: &str = "sam.new@contoso.com";
/// The sandbox's contains-search answers dan.jump@ and danny.jump@ for it; neither is the user.
const NEAR_MATCH: &str = "jump@fabrikam.com";
const EMAILS: [&str; 3] = [KNOWN, UNKNOWN, NEAR_MATCH];

/// The same press from each e-mail, each on a fresh function and sandbox (so ticket ids and
/// numbers line up), prepared by `setup`; the answers, in the order of [`EMAILS`].
async fn answers_for_each_email(
    vars: &[(&str, &str)],
    setup: impl Fn(&TestApp),
    body: impl Fn(&str) -> Value,
) -> Vec<(Answer, TestApp)> {
    let mut out = Vec::new();
    for email in EMAILS {
        let t = TestApp::builder().envs(vars).spawn().await;
        setup(&t);
        let a = t.post_ticket(body(email)).await;
        out.push((a, t));
    }
    out
}

fn assert_all_equal(answers: &[(Answer, TestApp)]) {
    let first = without_token(&answers[0].0.body);
    for (email, (a, _)) in EMAILS.iter().zip(answers) {
        assert_eq!(
            (a.status, &a.content_type, &without_token(&a.body)),
            (answers[0].0.status, &answers[0].0.content_type, &first),
            "{email} is answered differently from {KNOWN}"
        );
    }
}

/// The answer less its follow-up token, which is made of the press alone (the e-mail as sent,
/// the ticket id, the time): checked to be so, then set aside.
fn without_token(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(token) = body.as_object_mut().and_then(|b| b.remove("followUp")) {
        let token = token.as_str().expect("a string token");
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, token)
                .expect("base64url");
        // Version, ticket id, time, the e-mail sent, the MAC: nothing of the contact it matched.
        let email = &bytes[17..bytes.len() - 16];
        assert!(EMAILS.iter().any(|e| e.as_bytes() == email), "{token}");
    }
    body
}

#[tokio::test]
async fn a_created_ticket_is_answered_alike_for_known_unknown_and_near_match_emails() {
    let answers = answers_for_each_email(&[], |_| {}, |e| press(e, "Printer is jammed")).await;
    assert_all_equal(&answers);
    let (a, _) = &answers[0];
    assert_eq!(a.status, 201, "{a:?}");
    let mut keys: Vec<&String> = a.body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["followUp", "ticketId", "ticketNumber", "warnings"]);
    assert!(a.body["ticketId"].is_i64());
    assert!(a.body["ticketNumber"].is_string());
    assert_eq!(a.body["warnings"], json!([]));
    // BMS got what tells them apart: the contact, and the registration block for strangers.
    let contact = |t: &TestApp| t.only_ticket()["ContactId"].clone();
    assert_eq!(contact(&answers[0].1), CONTACT_DAN_JUMP);
    assert_eq!(contact(&answers[1].1), CONTACT_UNREGISTERED);
    assert_eq!(contact(&answers[2].1), CONTACT_UNREGISTERED);
}

/// An unknown user filed on their customer's account, without a contact, is answered as a
/// known contact is: neither the account nor the missing contact shows.
#[tokio::test]
async fn a_ticket_placed_on_a_customer_is_answered_alike() {
    let rules = json!({
        "defaults": {"queue": "Service Desk", "account": "Fabrikam Inc"},
    })
    .to_string();
    let answers =
        answers_for_each_email(&[("BUTTON_RULES", &rules)], |_| {}, |e| press(e, "x")).await;
    assert_all_equal(&answers);
    assert_eq!(answers[0].0.status, 201);
    let ticket = |i: usize| answers[i].1.only_ticket();
    assert_eq!(ticket(0)["ContactId"], CONTACT_DAN_JUMP);
    assert!(ticket(1)["ContactId"].is_null() || ticket(1).get("ContactId").is_none());
    assert_eq!(ticket(1)["AccountId"], ACCOUNT_FABRIKAM);
}

#[tokio::test]
async fn warnings_are_the_same_text_for_every_email() {
    let rules = json!({
        "defaults": {"queue": "Service Desk"},
        "rules": [{"set": {"queue": "Servce Desk"}}]
    })
    .to_string();
    let answers = answers_for_each_email(
        &[("BUTTON_RULES", &rules)],
        |_| {},
        |e| press(e, "Printer is jammed"),
    )
    .await;
    assert_all_equal(&answers);
    let (a, _) = &answers[0];
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(
        a.body["warnings"].as_array().map(Vec::len),
        Some(1),
        "{a:?}"
    );
}

#[tokio::test]
async fn a_repeat_is_answered_alike_for_every_email() {
    let mut repeats = Vec::new();
    for email in EMAILS {
        let t = TestApp::spawn().await;
        let body = press(email, "Printer is jammed");
        let key = Some("same-key-for-all");
        let first = t
            .send(keyed_event(Gateway::HttpV2, "/tickets", &body, key))
            .await;
        assert_eq!(first.status, 201, "{email}: {first:?}");
        let again = t
            .send(keyed_event(Gateway::HttpV2, "/tickets", &body, key))
            .await;
        repeats.push((again, t));
    }
    assert_all_equal(&repeats);
    let (a, _) = &repeats[0];
    assert_eq!(a.status, 200, "{a:?}");
    let mut keys: Vec<&String> = a.body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "duplicate",
            "followUp",
            "ticketId",
            "ticketNumber",
            "warnings"
        ]
    );
}

#[tokio::test]
async fn errors_are_answered_alike_for_every_email() {
    // BMS refuses the ticket; the contact search fails.
    for (method, path) in [
        ("POST", "/v2/servicedesk/tickets"),
        ("GET", "/v2/crm/contacts/search"),
    ] {
        let failing = |t: &TestApp| {
            t.bms
                .fail_next(method, path, Failure::SuccessFalse("BMS says no".into()))
        };
        let answers = answers_for_each_email(&[], failing, |e| press(e, "x")).await;
        assert_all_equal(&answers);
        assert_eq!(answers[0].0.status, 502, "{method} {path}");
    }

    // The catch-all contact is missing: a known user's press must not get through where an
    // unknown user's fails, or the 500 would mark the unknown e-mails.
    let no_catch_all = answers_for_each_email(
        &[("KASEYA_UNREGISTERED_EMAIL", "catchall@nowhere.example")],
        |_| {},
        |e| press(e, "x"),
    )
    .await;
    assert_all_equal(&no_catch_all);
    let (a, t) = &no_catch_all[0];
    assert_eq!(a.status, 500, "{a:?}");
    assert!(a.detail().contains("KASEYA_UNREGISTERED_EMAIL"), "{a:?}");
    assert!(t.bms.tickets().is_empty());

    // A rule refuses the press.
    let rules =
        json!({"rules": [{"when": "true", "reject": "Closed for the holidays."}]}).to_string();
    let rejected =
        answers_for_each_email(&[("BUTTON_RULES", &rules)], |_| {}, |e| press(e, "x")).await;
    assert_all_equal(&rejected);
    assert_eq!(rejected[0].0.status, 422);
}

#[tokio::test]
async fn preview_is_off_unless_switched_on() {
    for setting in ["", "off"] {
        let t = TestApp::builder()
            .env("BUTTON_PREVIEW", setting)
            .spawn()
            .await;
        for gw in [Gateway::RestV1, Gateway::HttpV2] {
            let a = t
                .send(keyed_event(
                    gw,
                    "/tickets/preview",
                    &press(KNOWN, "x"),
                    None,
                ))
                .await;
            assert_eq!(a.status, 404, "{setting:?} {gw:?}: {a:?}");
            assert_eq!(a.content_type, "application/problem+json");
            assert!(a.detail().contains("BUTTON_PREVIEW=on"), "{a:?}");
            assert!(
                !a.body.to_string().contains(&CONTACT_DAN_JUMP.to_string()),
                "{a:?}"
            );
        }
        assert!(t.bms.calls().is_empty(), "{setting:?}: BMS was asked");
        // The ticket endpoint is unaffected.
        assert_eq!(t.post_ticket(press(KNOWN, "x")).await.status, 201);
    }
    let on = TestApp::builder().env("BUTTON_PREVIEW", "on").spawn().await;
    let a = on.preview(press(KNOWN, "x")).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["contact"]["contactId"], CONTACT_DAN_JUMP);
}

/// Dan Jump's contact without a location, and his account without a main one.
fn tenant_without_dans_location() -> Tenant {
    let mut tenant = Tenant::default();
    for c in tenant
        .contacts
        .iter_mut()
        .filter(|c| c.id == CONTACT_DAN_JUMP)
    {
        c.location_id = None;
    }
    for l in tenant
        .locations
        .iter_mut()
        .filter(|l| l.account_id == ACCOUNT_FABRIKAM)
    {
        l.is_main = false;
    }
    tenant
}

#[tokio::test]
async fn location_a_known_contact_without_any_is_filed_and_answered_like_an_unknown_one() {
    let bms = Sandbox::start_with(Options {
        tenant: tenant_without_dans_location(),
        ..Options::default()
    })
    .await;
    let app = app_for(&bms, &[]).await;
    let known = post_ticket(&app, &press("dan.jump@fabrikam.com", "No location")).await;
    let unknown = post_ticket(&app, &press("who@nowhere.example", "No contact")).await;
    assert_eq!(known.status, 201, "{known:?}");
    assert_eq!(unknown.status, 201, "{unknown:?}");
    let keys = |a: &Answer| {
        let mut k: Vec<String> = a
            .body
            .as_object()
            .map_or(Vec::new(), |o| o.keys().cloned().collect());
        k.sort();
        k
    };
    assert_eq!(keys(&known), keys(&unknown));
    assert_eq!(known.body["warnings"], unknown.body["warnings"]);
    let tickets = bms.tickets();
    let ticket = &tickets[0];
    // Filed where a ticket always has a place: the catch-all's account and location, with the
    // reason for the technicians.
    assert_eq!(ticket["AccountId"], ACCOUNT_UNREGISTERED);
    assert_eq!(ticket["LocationId"], LOCATION_UNREGISTERED);
    assert_eq!(ticket["ContactId"], CONTACT_UNREGISTERED);
    let details = ticket["Details"].as_str().unwrap_or_default();
    assert!(details.contains("[Submission Errors]"), "{details}");
    assert!(
        details.contains(&format!("contact {CONTACT_DAN_JUMP}")),
        "{details}"
    );
    assert!(details.contains("dan.jump@fabrikam.com"), "{details}");
}

#[tokio::test]
async fn bms_error_text_does_not_reach_the_caller() {
    let t = TestApp::spawn().await;
    let secret_text = "contact jane.secret@fabrikam.com is locked";
    t.bms.fail_next(
        "POST",
        "/v2/servicedesk/tickets",
        Failure::SuccessFalse(secret_text.into()),
    );
    let a = t.post_ticket(press("dan.jump@fabrikam.com", "x")).await;
    assert_eq!(a.status, 502, "{a:?}");
    assert!(!a.body.to_string().contains("jane.secret"), "{a:?}");
    assert!(
        a.detail().contains("log"),
        "the detail says where to look: {a:?}"
    );
}
