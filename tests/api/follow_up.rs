//! The user hears back: the follow-up token a press is answered with, the ticket's status and
//! the help desk's public replies read with it, a note (and a screenshot) added with it, and
//! every refusal answered alike. Through the handler with real API Gateway events, against the
//! BMS sandbox, whose technicians change the status and write notes.

use bms_sandbox::tenant::{
    ASSIGNEE_JANE_TECH, CREDENTIALS, STATUS_IN_PROGRESS, STATUS_WAITING_CUSTOMER,
};
use chrono::{Duration, Utc};
use kaseya_button::button::Email;
use kaseya_button::follow_up;
use kaseya_button::idempotency::MarkerKey;
use serde_json::{Value, json};

use crate::helpers::{Answer, BUTTON_KEY, Gateway, TestApp, app_for, event, press, read};

/// The marker key the tests' secret gives: derived from the sandbox's login, as the function
/// derives it when the secret names none.
fn marker_key() -> MarkerKey {
    let (tenant, rest) = CREDENTIALS.split_once('+').unwrap();
    let (user, password) = rest.split_once(':').unwrap();
    MarkerKey::derived(tenant, user, password)
}

/// `GET /tickets/{id}` with the button key (when `keyed`) and the token (when given).
pub fn status_request(
    gw: Gateway,
    id: &str,
    token: Option<&str>,
    keyed: bool,
) -> lambda_http::Request {
    let auth = format!("Bearer {BUTTON_KEY}");
    let mut headers = Vec::new();
    if keyed {
        headers.push(("authorization", auth.as_str()));
    }
    if let Some(token) = token {
        headers.push(("X-Follow-Up", token));
    }
    event(gw, "GET", &format!("/tickets/{id}"), &headers, "")
}

/// `POST /tickets/{id}/notes` with the button key, the token and an `Idempotency-Key` if given.
pub fn note_request(
    id: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: &Value,
) -> lambda_http::Request {
    let auth = format!("Bearer {BUTTON_KEY}");
    let mut headers = vec![
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    if let Some(token) = token {
        headers.push(("X-Follow-Up", token));
    }
    if let Some(key) = key {
        headers.push(("Idempotency-Key", key));
    }
    event(
        Gateway::HttpV2,
        "POST",
        &format!("/tickets/{id}/notes"),
        &headers,
        &body.to_string(),
    )
}

/// A press filed: its ticket id and follow-up token.
async fn filed(t: &TestApp, email: &str) -> (i64, String) {
    let a = t.post_ticket(press(email, "Printer jammed")).await;
    assert_eq!(a.status, 201, "{a:?}");
    let token = a.body["followUp"]
        .as_str()
        .expect("a followUp token")
        .to_string();
    (a.body["ticketId"].as_i64().unwrap(), token)
}

async fn status(t: &TestApp, id: i64, token: &str) -> Answer {
    t.send(status_request(
        Gateway::HttpV2,
        &id.to_string(),
        Some(token),
        true,
    ))
    .await
}

#[tokio::test]
async fn a_filed_ticket_is_read_back_with_its_token() {
    for gw in [Gateway::RestV1, Gateway::HttpV2] {
        let t = TestApp::spawn().await;
        let (id, token) = filed(&t, "dan.jump@fabrikam.com").await;
        let ticket = t.only_ticket();
        let a = t
            .send(status_request(gw, &id.to_string(), Some(&token), true))
            .await;
        assert_eq!(a.status, 200, "{gw:?}: {a:?}");
        assert_eq!(a.content_type, "application/json");
        assert_eq!(a.body["ticketId"], id);
        assert_eq!(a.body["ticketNumber"], ticket["TicketNumber"]);
        assert_eq!(a.body["title"], "Printer jammed");
        assert_eq!(a.body["status"], "New");
        assert_eq!(a.body["replies"], json!([]));
        assert!(a.body["updated"].as_str().is_some(), "{a:?}");
    }
}

#[tokio::test]
async fn the_status_and_public_replies_show_and_nothing_else() {
    let t = TestApp::spawn().await;
    let body = json!({"email": "sam.new@contoso.com", "message": "VPN is down",
        "attachments": [{"name": "vpn.png", "contentType": "image/png", "data": "iVBORw0KGgo="}]});
    let a = t.post_ticket(body).await;
    assert_eq!(a.status, 201, "an unknown user's press: {a:?}");
    let (id, token) = (
        a.body["ticketId"].as_i64().unwrap(),
        a.body["followUp"].as_str().unwrap().to_string(),
    );
    t.bms
        .set_ticket_status(id, STATUS_WAITING_CUSTOMER)
        .unwrap();
    t.bms
        .add_staff_note(id, ASSIGNEE_JANE_TECH, "Internal: call the ISP first", true)
        .unwrap();
    t.bms
        .add_staff_note(
            id,
            ASSIGNEE_JANE_TECH,
            "<p>Please restart the router.</p><p>Thanks!</p>",
            false,
        )
        .unwrap();
    let a = status(&t, id, &token).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["status"], "Waiting Customer", "{a:?}");
    let replies = a.body["replies"].as_array().unwrap();
    assert_eq!(
        replies.len(),
        1,
        "the public reply only, not the internal note nor the attachment note: {replies:?}"
    );
    assert_eq!(replies[0]["from"], "help desk");
    assert_eq!(replies[0]["text"], "Please restart the router.\n\nThanks!");
    let text = a.body.to_string();
    for hidden in [
        "Internal",
        "call the ISP",
        "Attachments sent",
        "Button API",
        "Jane",
        "<p>",
    ] {
        assert!(!text.contains(hidden), "`{hidden}` in {text}");
    }
}

#[tokio::test]
async fn a_status_read_costs_two_calls_in_one_wave_then_nothing_for_a_minute() {
    let t = TestApp::spawn().await;
    let (id, token) = filed(&t, "dan.jump@fabrikam.com").await;
    t.bms.reset_calls();
    // A latency that makes a wave visible: calls one after the other would not overlap.
    t.bms.set_latency(std::time::Duration::from_millis(100));
    assert_eq!(status(&t, id, &token).await.status, 200);
    let calls = t.bms.calls();
    let paths: Vec<String> = calls
        .iter()
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    assert_eq!(calls.len(), 2, "{paths:?}");
    assert_eq!(t.bms.round_trips(), 1, "side by side: {paths:?}");
    t.bms.reset_calls();
    t.bms.set_latency(std::time::Duration::ZERO);
    t.bms.set_ticket_status(id, STATUS_IN_PROGRESS).unwrap();
    let again = status(&t, id, &token).await;
    assert_eq!(again.body["status"], "New", "reused within the minute");
    assert!(t.bms.calls().is_empty(), "{:?}", t.bms.calls());
    // Another container reads BMS afresh, and sees what the technician did.
    let other = read(
        app_for(&t.bms, &[])
            .await
            .handle(status_request(
                Gateway::HttpV2,
                &id.to_string(),
                Some(&token),
                true,
            ))
            .await,
    );
    assert_eq!(other.body["status"], "In Progress", "{other:?}");
}

#[tokio::test]
async fn every_refusal_answers_as_a_ticket_that_does_not_exist() {
    let t = TestApp::spawn().await;
    let (id, token) = filed(&t, "dan.jump@fabrikam.com").await;
    let (other_id, other_token) = filed_again(&t).await;
    assert_ne!(id, other_id);
    let email = Email::parse("dan.jump@fabrikam.com").unwrap();
    let expired = follow_up::issue(&marker_key(), id, &email, Utc::now() - Duration::days(31));
    let forged_key = follow_up::issue(&MarkerKey::given("not the key"), id, &email, Utc::now());
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let still_good = follow_up::issue(&marker_key(), id, &email, Utc::now() - Duration::days(29));
    assert_eq!(
        status(&t, id, &still_good).await.status,
        200,
        "29 days old holds"
    );
    t.bms.reset_calls();
    let cases: Vec<(String, Option<&str>)> = vec![
        (id.to_string(), None),
        (id.to_string(), Some("")),
        (id.to_string(), Some(&tampered)),
        (id.to_string(), Some(&expired)),
        (id.to_string(), Some(&forged_key)),
        (id.to_string(), Some(&other_token)),
        (other_id.to_string(), Some(&token)),
        ("999999".into(), Some(&token)),
        ("abc".into(), Some(&token)),
    ];
    let mut answers = Vec::new();
    for (path_id, tok) in &cases {
        let a = t
            .send(status_request(Gateway::HttpV2, path_id, *tok, true))
            .await;
        assert_eq!(a.status, 404, "{path_id} {tok:?}: {a:?}");
        answers.push(a.body.to_string());
        let n = t
            .send(note_request(path_id, *tok, None, &json!({"message": "hi"})))
            .await;
        assert_eq!(n.status, 404, "note {path_id} {tok:?}: {n:?}");
        answers.push(n.body.to_string());
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:#?}");
    assert!(
        t.bms.calls().is_empty(),
        "a refused token costs no BMS call: {:?}",
        t.bms.calls()
    );
    assert!(t.bms.notes().is_empty());
    // A ticket deleted in BMS since: the same answer.
    let no_such = follow_up::issue(&marker_key(), 999_999, &email, Utc::now());
    let a = t
        .send(status_request(
            Gateway::HttpV2,
            "999999",
            Some(&no_such),
            true,
        ))
        .await;
    assert_eq!((a.status, a.body.to_string()), (404, answers[0].clone()));
    // No key: the 401 every request without one gets, before anything about tickets.
    let a = t
        .send(status_request(
            Gateway::HttpV2,
            &id.to_string(),
            Some(&token),
            false,
        ))
        .await;
    assert_eq!(a.status, 401, "{a:?}");
}

async fn filed_again(t: &TestApp) -> (i64, String) {
    let a = t
        .post_ticket(press("ann.beebe@northwind.com", "Scanner"))
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    (
        a.body["ticketId"].as_i64().unwrap(),
        a.body["followUp"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn a_repeated_press_is_answered_with_a_token_that_opens_the_first_ticket() {
    let t = TestApp::spawn().await;
    let body = press("dan.jump@fabrikam.com", "Printer jammed");
    let first = read(
        t.app
            .handle(crate::helpers::keyed_event(
                Gateway::HttpV2,
                "/tickets",
                &body,
                Some("k-1"),
            ))
            .await,
    );
    let again = read(
        t.app
            .handle(crate::helpers::keyed_event(
                Gateway::HttpV2,
                "/tickets",
                &body,
                Some("k-1"),
            ))
            .await,
    );
    assert_eq!((first.status, again.status), (201, 200), "{again:?}");
    assert_eq!(again.body["duplicate"], true);
    let token = again.body["followUp"]
        .as_str()
        .expect("a token in the duplicate answer");
    let a = status(&t, first.body["ticketId"].as_i64().unwrap(), token).await;
    assert_eq!(a.status, 200, "{a:?}");
}

#[tokio::test]
async fn a_note_with_a_screenshot_is_added_once_and_read_back_as_yours() {
    let t = TestApp::spawn().await;
    let (id, token) = filed(&t, "sam.new@contoso.com").await;
    assert_eq!(
        status(&t, id, &token).await.body["replies"],
        json!([]),
        "read, and kept for a minute"
    );
    let body = json!({"message": "Forgot the screenshot",
        "attachments": [{"name": "shot.png", "contentType": "image/png", "data": "iVBORw0KGgo="}]});
    let a = read(
        t.app
            .handle(note_request(
                &id.to_string(),
                Some(&token),
                Some("note-1"),
                &body,
            ))
            .await,
    );
    assert_eq!(a.status, 201, "{a:?}");
    let note_id = a.body["noteId"].as_i64().expect("the note's id");
    let notes = t.bms.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    let (on, note) = &notes[0];
    assert_eq!(*on, id);
    assert_eq!(
        note["IsInternal"], false,
        "a public note: BMS tells the technician"
    );
    assert_eq!(note["Attachments"][0]["Name"], "shot.png");
    assert_eq!(note["Attachments"][0]["Base64Data"], "iVBORw0KGgo=");
    let details = note["Details"].as_str().unwrap();
    assert!(
        details.starts_with(&format!(
            "{}\nForgot the screenshot\n",
            follow_up::USER_NOTE_HEADING
        )),
        "{details}"
    );
    // The same Idempotency-Key again: nothing more is added.
    let again = read(
        t.app
            .handle(note_request(
                &id.to_string(),
                Some(&token),
                Some("note-1"),
                &body,
            ))
            .await,
    );
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(
        (
            again.body["noteId"].as_i64(),
            again.body["duplicate"].as_bool()
        ),
        (Some(note_id), Some(true))
    );
    assert_eq!(t.bms.notes().len(), 1);
    // The read after a note is fresh, and shows it as the user's.
    let s = status(&t, id, &token).await;
    let replies = s.body["replies"].as_array().unwrap();
    assert_eq!(replies.len(), 1, "{s:?}");
    assert_eq!(replies[0]["from"], "you");
    assert_eq!(
        replies[0]["text"],
        "Forgot the screenshot\n(attached: shot.png)"
    );
    // Without a key each note is its own; a note needs a message or a file.
    let plain = read(
        t.app
            .handle(note_request(
                &id.to_string(),
                Some(&token),
                None,
                &json!({"message": "Still broken"}),
            ))
            .await,
    );
    assert_eq!(plain.status, 201, "{plain:?}");
    let empty = read(
        t.app
            .handle(note_request(
                &id.to_string(),
                Some(&token),
                None,
                &json!({"message": " "}),
            ))
            .await,
    );
    assert_eq!(empty.status, 400, "{empty:?}");
    assert!(empty.detail().contains("message"), "{empty:?}");
    let bad =
        json!({"attachments": [{"name": "x.png", "contentType": "image/png", "data": "***"}]});
    let bad = read(
        t.app
            .handle(note_request(&id.to_string(), Some(&token), None, &bad))
            .await,
    );
    assert_eq!(bad.status, 400, "{bad:?}");
    assert_eq!(t.bms.notes().len(), 2);
}

/// `GET /tickets/parked` with the button key and a claim.
fn claim_request(claim: &str) -> lambda_http::Request {
    let auth = format!("Bearer {BUTTON_KEY}");
    let headers = [("authorization", auth.as_str()), ("X-Follow-Up", claim)];
    event(Gateway::HttpV2, "GET", "/tickets/parked", &headers, "")
}

/// A press parked while BMS was down is answered with a claim; once the replay has filed it, the
/// claim is exchanged for that ticket and its follow-up token. Until then it waits (202; 503
/// while BMS cannot be asked), and a forged claim is a ticket that does not exist.
#[tokio::test]
async fn a_parked_press_is_claimed_once_the_replay_has_filed_it() {
    use crate::support::parking::{app_parking_on, deliver, press_on};
    use crate::support::sqs::Parking;
    let queue = Parking::create("claims", 5).await;
    let bms = bms_sandbox::Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    bms.set_outage(Some(bms_sandbox::Failure::Status(503)));
    for key in [Some("k-claim"), None] {
        let a = press_on(&app, &press("dan.jump@fabrikam.com", "VPN is down"), key).await;
        assert_eq!(a.status, 202, "{a:?}");
        let claim = a.body["followUp"].as_str().expect("a claim").to_string();
        // BMS down: nothing can be looked up, so the page asks again later.
        let down = read(app.handle(claim_request(&claim)).await);
        assert_eq!(down.status, 503, "{down:?}");
        bms.set_outage(None);
        let waiting = read(app.handle(claim_request(&claim)).await);
        assert_eq!(waiting.status, 202, "not filed yet: {waiting:?}");
        assert_eq!(waiting.body["status"], "queued");

        let event = queue.receive_event(10).await;
        assert_eq!(deliver(&app, &queue, &event).await, Vec::<String>::new());
        let filed = read(app.handle(claim_request(&claim)).await);
        assert_eq!(filed.status, 200, "{filed:?}");
        let tickets = bms.tickets();
        let ticket = tickets.last().expect("the replay filed it");
        assert_eq!(filed.body["ticketId"], ticket["Id"], "{key:?}");
        // The token it gives reads that ticket.
        let id = filed.body["ticketId"].to_string();
        let token = filed.body["followUp"].as_str().expect("a token");
        let status = read(
            app.handle(status_request(Gateway::HttpV2, &id, Some(token), true))
                .await,
        );
        assert_eq!(status.status, 200, "{status:?}");
        bms.set_outage(Some(bms_sandbox::Failure::Status(503)));
    }
    bms.set_outage(None);

    let a = press_on(&app, &press("dan.jump@fabrikam.com", "again"), Some("k-2")).await;
    assert_eq!(a.status, 201, "{a:?}");
    let token = a.body["followUp"].as_str().expect("a token");
    let mut forged = a.body["followUp"].as_str().unwrap_or_default().to_string();
    forged.pop();
    for refused in [token, forged.as_str(), "", "not-a-claim"] {
        let r = read(app.handle(claim_request(refused)).await);
        assert_eq!(r.status, 404, "{refused}: {r:?}");
    }
}
