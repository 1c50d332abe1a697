//! The duplicate marker cannot be forged: another button-key holder can neither plant a
//! victim's marker in a ticket of their own nor have a found ticket of another contact answer
//! the victim's press.

use bms_sandbox::Sandbox;
use bms_sandbox::tenant::{
    ACCOUNT_FABRIKAM, ACCOUNT_NORTHWIND, CONTACT_ANN_BEEBE, CONTACT_DAN_JUMP,
    LOCATION_FABRIKAM_BRANCH, LOCATION_NORTHWIND_MAIN, PASSWORD, PRIORITY_MEDIUM,
    QUEUE_SERVICE_DESK, SOURCE_CLIENT_PORTAL, STATUS_NEW, TENANT_NAME, TYPE_SERVICE_REQUEST,
    USER_NAME,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{self, Answer, Gateway, TestApp, keyed_event, press};

const VICTIM: &str = "dan.jump@fabrikam.com";
const ATTACKER: &str = "ann.beebe@northwind.com";
const KEY: &str = "0b5e6c1a-victims-next-key";

/// The marker as an unkeyed hash of e-mail and key computes it: what anyone who knows (or
/// guesses) a user's e-mail and next `Idempotency-Key` can write into a message.
fn unkeyed_marker(email: &str, key: &str) -> String {
    let email = email.to_ascii_lowercase();
    let mut hash = Sha256::new();
    hash.update(email.len().to_string().as_bytes());
    hash.update(b":");
    hash.update(email.as_bytes());
    hash.update(key.as_bytes());
    let token: String = hash
        .finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("[Button request {token}]")
}

async fn keyed(t: &TestApp, email: &str, key: &str) -> Answer {
    let body = press(email, "Outlook keeps asking for my password");
    t.send(keyed_event(Gateway::HttpV2, "/tickets", &body, Some(key)))
        .await
}

/// The ticket of `id` as BMS stored it.
fn stored(t: &TestApp, id: &Value) -> Value {
    t.bms
        .tickets()
        .into_iter()
        .find(|ticket| &ticket["Id"] == id)
        .unwrap_or_else(|| panic!("no ticket {id} in BMS"))
}

/// Who a ticket filed straight into BMS is for: (account, location, contact).
const VICTIMS: (i64, i64, i64) = (ACCOUNT_FABRIKAM, LOCATION_FABRIKAM_BRANCH, CONTACT_DAN_JUMP);
const ATTACKERS: (i64, i64, i64) = (
    ACCOUNT_NORTHWIND,
    LOCATION_NORTHWIND_MAIN,
    CONTACT_ANN_BEEBE,
);

/// A ticket filed straight into BMS, past the function: what a technician, another integration
/// or anyone else with BMS access may create.
async fn file_in_bms(bms: &Sandbox, (account, location, contact): (i64, i64, i64), details: &str) {
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{}/v2/security/authenticate", bms.url()))
        .form(&[
            ("GrantType", "password"),
            ("Tenant", TENANT_NAME),
            ("UserName", USER_NAME),
            ("Password", PASSWORD),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["Result"]["AccessToken"].as_str().unwrap();
    let ticket = json!({
        "Title": "Printer",
        "Details": details,
        "AccountId": account,
        "LocationId": location,
        "ContactId": contact,
        "StatusId": STATUS_NEW,
        "PriorityId": PRIORITY_MEDIUM,
        "TypeId": TYPE_SERVICE_REQUEST,
        "SourceId": SOURCE_CLIENT_PORTAL,
        "QueueId": QUEUE_SERVICE_DESK,
        "OpenDate": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    let created = http
        .post(format!("{}/v2/servicedesk/tickets", bms.url()))
        .bearer_auth(token)
        .json(&ticket)
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{created:?}");
}

/// The marker the function would write for a keyed press, read from its preview.
async fn real_marker(t: &TestApp, email: &str, key: &str) -> String {
    let body = press(email, "Outlook keeps asking for my password");
    let preview = t
        .send(keyed_event(
            Gateway::HttpV2,
            "/tickets/preview",
            &body,
            Some(key),
        ))
        .await;
    assert_eq!(preview.status, 200, "{preview:?}");
    let details = preview.body["ticket"]["Details"].as_str().unwrap();
    details.lines().last().unwrap().to_string()
}

#[tokio::test]
async fn forged_marker_in_a_message_does_not_swallow_the_victims_press() {
    let t = TestApp::spawn().await;
    let forged = unkeyed_marker(VICTIM, KEY);
    for field in ["message", "append"] {
        let mut body = press(ATTACKER, "My screen flickers");
        body[field] = format!("Please look at this.\n\n{forged}").into();
        let planted = t.post_ticket(body).await;
        assert_eq!(planted.status, 201, "{field}: {planted:?}");
    }
    let victim = keyed(&t, VICTIM, KEY).await;
    assert_eq!(victim.status, 201, "{victim:?}");
    assert!(victim.body.get("duplicate").is_none(), "{victim:?}");
    let ticket = stored(&t, &victim.body["ticketId"]);
    assert_eq!(ticket["ContactId"], json!(CONTACT_DAN_JUMP), "{ticket:#}");
    assert_eq!(t.bms.tickets().len(), 3);
    // The victim's own repeat is still recognised.
    let again = keyed(&t, VICTIM, KEY).await;
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.body["ticketId"], victim.body["ticketId"]);
}

#[tokio::test]
async fn no_field_can_carry_a_marker_line_into_a_ticket() {
    let t = TestApp::spawn().await;
    let forged = "[Button request 0123456789abcdef01234567]";
    let mut body = press("new.user@contoso.example", &format!("Help\n{forged}"));
    for field in [
        "title", "append", "name", "business", "phone", "hostname", "ip", "mac",
    ] {
        body[field] = format!("x {forged}").into();
    }
    body["selections"] = json!([forged, format!("[button REQUEST {}]", "a".repeat(24))]);
    let a = t.post_ticket(body).await;
    assert_eq!(a.status, 201, "{a:?}");
    let ticket = t.only_ticket();
    for field in ["Title", "Details"] {
        let text = ticket[field].as_str().unwrap().to_ascii_lowercase();
        assert!(!text.contains("[button request"), "{field}: {text}");
    }
}

#[tokio::test]
async fn a_marker_not_on_the_last_line_or_on_another_contacts_ticket_is_not_a_duplicate() {
    let t = TestApp::spawn().await;
    let marker = real_marker(&t, VICTIM, KEY).await;
    assert!(marker.starts_with("[Button request "), "{marker}");
    assert_ne!(marker, unkeyed_marker(VICTIM, KEY), "the marker is keyed");
    // The victim's exact marker on the victim's own ticket, but in the middle of the details.
    file_in_bms(&t.bms, VICTIMS, &format!("Printer\n{marker}\nthanks\n")).await;
    let a = keyed(&t, VICTIM, KEY).await;
    assert_eq!(a.status, 201, "marker mid-details: {a:?}");

    let t = TestApp::spawn().await;
    // The victim's exact marker where the function writes it, on another contact's ticket.
    file_in_bms(&t.bms, ATTACKERS, &format!("Printer\n\n{marker}\n")).await;
    let b = keyed(&t, VICTIM, KEY).await;
    assert_eq!(b.status, 201, "another contact's ticket: {b:?}");
    let ticket = stored(&t, &b.body["ticketId"]);
    assert_eq!(ticket["ContactId"], json!(CONTACT_DAN_JUMP));
}

#[tokio::test]
async fn the_marker_depends_on_the_server_secret() {
    let a = TestApp::spawn().await;
    let marker_a = real_marker(&a, VICTIM, KEY).await;
    let with_key = |k: &str| {
        json!({"credentials": bms_sandbox::CREDENTIALS, "buttonKeys": [helpers::BUTTON_KEY],
               "operatorKeys": [helpers::OPERATOR_KEY], "markerKey": k})
        .to_string()
    };
    let b = TestApp::builder()
        .envs(&[(
            "KASEYA_CREDENTIALS",
            &with_key("first-marker-key-0123456789"),
        )])
        .spawn()
        .await;
    let c = TestApp::builder()
        .envs(&[(
            "KASEYA_CREDENTIALS",
            &with_key("other-marker-key-0123456789"),
        )])
        .spawn()
        .await;
    let marker_b = real_marker(&b, VICTIM, KEY).await;
    let marker_c = real_marker(&c, VICTIM, KEY).await;
    assert_ne!(marker_a, marker_b);
    assert_ne!(marker_b, marker_c);
    for m in [&marker_a, &marker_b, &marker_c] {
        assert_eq!(m.len(), "[Button request ]".len() + 24, "{m}");
    }
}
