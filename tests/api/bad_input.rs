//! Bad input and unknown callers, through the handler: each gets its own problem+json answer
//! naming what was wrong, and none of them reaches BMS.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kaseya_button::button::{MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, MAX_FIELD_BYTES};
use serde_json::{Value, json};

use crate::helpers::{Answer, BUTTON_KEY, Gateway, TestApp, event};

const TICKETS: &str = "/v2/servicedesk/tickets";

/// `POST /tickets` with the button key, this content type and this body.
async fn post_raw(t: &TestApp, content_type: &str, body: &str) -> Answer {
    let auth = format!("Bearer {BUTTON_KEY}");
    t.send(event(
        Gateway::HttpV2,
        "POST",
        "/tickets",
        &[("content-type", content_type), ("authorization", &auth)],
        body,
    ))
    .await
}

/// The request is refused with `status`, as problem+json whose detail holds `needle`, and BMS
/// saw nothing at all.
async fn assert_refused(content_type: &str, body: &str, status: u16, needle: &str) {
    let t = TestApp::spawn().await;
    let a = post_raw(&t, content_type, body).await;
    let shown: String = body.chars().take(120).collect();
    assert_eq!(a.status, status, "{shown}: {a:?}");
    assert_eq!(a.content_type, "application/problem+json", "{shown}");
    assert_eq!(a.body["status"], status);
    assert!(a.detail().contains(needle), "{shown}: {a:?}");
    assert!(t.bms.tickets().is_empty());
    assert_eq!(t.bms.count("POST", TICKETS), 0);
    assert!(t.bms.calls().is_empty(), "{shown}: {:?}", t.bms.calls());
}

async fn assert_refused_json(body: Value, needle: &str) {
    assert_refused("application/json", &body.to_string(), 400, needle).await;
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    assert_refused("application/json", "{not json", 400, "not valid JSON").await;
    assert_refused("application/json", "[1, 2]", 400, "must be an object").await;
    assert_refused("application/json", "", 400, "not valid JSON").await;
}

#[tokio::test]
async fn a_missing_email_is_a_400_naming_it() {
    assert_refused_json(json!({"message": "x"}), "field `email`: is required").await;
}

#[tokio::test]
async fn an_invalid_email_is_a_400_naming_it() {
    for email in [
        "not-an-email",
        "a@b",
        "a b@c.com",
        "@example.com",
        "a@-x.com",
    ] {
        assert_refused_json(json!({"email": email, "message": "x"}), "field `email`").await;
    }
}

#[tokio::test]
async fn an_empty_or_blank_message_is_a_400_naming_it() {
    for message in ["", "   \n\t "] {
        assert_refused_json(
            json!({"email": "a@b.com", "message": message}),
            "field `message`",
        )
        .await;
    }
    assert_refused_json(json!({"email": "a@b.com"}), "field `message`").await;
}

#[tokio::test]
async fn wrong_types_are_a_400_naming_the_field_and_the_type() {
    let cases = [
        (
            json!({"email": "a@b.com", "message": 42}),
            "field `message`: must be a string, not a number",
        ),
        (
            json!({"email": ["a@b.com"], "message": "x"}),
            "field `email`: must be a string, not an array",
        ),
        (
            json!({"email": "a@b.com", "message": "x", "title": true}),
            "field `title`: must be a string, not a boolean",
        ),
        (
            json!({"email": "a@b.com", "message": "x", "selections": {"a": 1}}),
            "field `selections`: must be an array of strings or a comma-separated string, not an object",
        ),
        (
            json!({"email": "a@b.com", "message": "x", "selections": 7}),
            "field `selections`",
        ),
        (
            json!({"email": "a@b.com", "message": "x", "selections": ["ok", 3]}),
            "field `selections`: must hold strings, not a number",
        ),
        (
            json!({"email": "a@b.com", "message": "x", "attachments": "s.png"}),
            "field `attachments`",
        ),
        (
            json!({"email": "a@b.com", "message": "x", "attachments": [{"name": 1, "data": "aGk="}]}),
            "`name` must be a string",
        ),
    ];
    for (body, needle) in cases {
        assert_refused_json(body, needle).await;
    }
}

#[tokio::test]
async fn another_content_type_is_a_415() {
    assert_refused("text/plain", "hello", 415, "`text/plain`").await;
    assert_refused(
        "multipart/form-data; boundary=x",
        "--x--",
        415,
        "multipart/form-data",
    )
    .await;
}

#[tokio::test]
async fn a_body_over_6_mb_is_a_413() {
    let big = format!(
        r#"{{"email":"a@b.com","message":"{}"}}"#,
        "x".repeat(6 * 1024 * 1024)
    );
    assert_refused("application/json", &big, 413, "at most 6291456 bytes").await;
}

#[tokio::test]
async fn bad_base64_in_an_attachment_is_a_400_naming_it() {
    let body = json!({"email": "a@b.com", "message": "x", "attachments": [{"name": "a.png", "data": "***"}]});
    assert_refused_json(
        body,
        "field `attachments`: [0]: `data` of `a.png` is not valid base64",
    )
    .await;
}

#[tokio::test]
async fn too_many_attachments_is_a_400() {
    let one = json!({"name": "a.png", "contentType": "image/png", "data": "aGk="});
    let body =
        json!({"email": "a@b.com", "message": "x", "attachments": vec![one; MAX_ATTACHMENTS + 1]});
    assert_refused_json(body, &format!("at most {MAX_ATTACHMENTS} are accepted")).await;
}

#[tokio::test]
async fn an_attachment_over_4_mb_is_a_400() {
    let data = STANDARD.encode(vec![0u8; MAX_ATTACHMENT_BYTES + 1]);
    let body = json!({"email": "a@b.com", "message": "x", "attachments": [{"name": "big.png", "data": data}]});
    assert_refused_json(body, "`big.png` is 4194305 bytes; at most 4194304").await;
}

#[tokio::test]
async fn a_field_over_64_kb_is_a_400_naming_it() {
    let long = "x".repeat(MAX_FIELD_BYTES + 1);
    for field in ["message", "title", "name", "append", "hostname"] {
        let mut body = json!({"email": "a@b.com", "message": "x"});
        body[field] = json!(long);
        assert_refused_json(body, &format!("field `{field}`: is 65537 bytes")).await;
    }
    let many = vec!["y".repeat(1024); 65];
    assert_refused_json(
        json!({"email": "a@b.com", "message": "x", "selections": many}),
        "field `selections`",
    )
    .await;
}

#[tokio::test]
async fn attachments_in_a_form_are_a_400() {
    assert_refused(
        "application/x-www-form-urlencoded",
        "email=a%40b.com&message=x&attachments=aGk%3D",
        400,
        "field `attachments`: cannot be sent in a form",
    )
    .await;
}

#[tokio::test]
async fn html_is_kept_as_literal_text() {
    let t = TestApp::spawn().await;
    let body = json!({
        "email": "dan.jump@fabrikam.com",
        "name": "<b>Dan</b>",
        "message": "<script>alert('x')</script> & <img src=x onerror=alert(1)>",
    });
    let ticket = t.file_ticket(body).await;
    let details = ticket["Details"].as_str().unwrap_or_default();
    assert!(
        details.contains("<script>alert('x')</script> & <img src=x onerror=alert(1)>"),
        "{details}"
    );
    assert!(details.contains("Name: <b>Dan</b>"), "{details}");
    assert_eq!(ticket["Title"], "<script>alert('x')</script> & <img src=x");
}

#[tokio::test]
async fn control_characters_other_than_tab_and_newlines_are_removed() {
    let t = TestApp::spawn().await;
    let body = json!({
        "email": "dan.jump@fabrikam.com",
        "message": "bell\u{7} nul\u{0} esc\u{1b}[31mred\u{1b}[0m\ttab\r\nnext\u{7f}",
        "selections": ["Email\u{0}", "\u{1}"],
        "append": "exit code 1\u{0}\u{0}",
    });
    let ticket = t.file_ticket(body).await;
    let details = ticket["Details"].as_str().unwrap_or_default();
    assert!(
        details.contains("bell nul esc[31mred[0m\ttab\r\nnext"),
        "{details:?}"
    );
    assert!(details.contains("Selections: Email\n"), "{details:?}");
    assert!(details.contains("exit code 1"), "{details:?}");
    assert!(
        !details
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')),
        "{details:?}"
    );
}

// --- callers -----------------------------------------------------------------------------------

fn keyed_event(headers: &[(&str, &str)]) -> lambda_http::Request {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    event(
        Gateway::HttpV2,
        "POST",
        "/tickets",
        &all,
        &json!({"email": "dan.jump@fabrikam.com", "message": "x"}).to_string(),
    )
}

#[tokio::test]
async fn no_key_a_wrong_key_and_no_configured_keys_get_the_same_401() {
    let t = TestApp::spawn().await;
    let wrong_bearer = format!("Bearer {BUTTON_KEY}x");
    let prefix = format!("Bearer {}", &BUTTON_KEY[..10]);
    let refusals: [&[(&str, &str)]; 6] = [
        &[],
        &[("authorization", "Bearer wrong-key")],
        &[("authorization", &wrong_bearer)],
        &[("authorization", &prefix)],
        &[("authorization", "Basic dXNlcjpwYXNz")],
        &[("x-api-key", "")],
    ];
    let mut bodies = Vec::new();
    for headers in refusals {
        let a = t.send(keyed_event(headers)).await;
        assert_eq!(a.status, 401, "{headers:?}: {a:?}");
        assert_eq!(a.content_type, "application/problem+json");
        assert!(!a.body.to_string().contains(BUTTON_KEY));
        bodies.push(a.body);
    }
    // The secret lists no keys at all: a setup mistake, but the caller learns nothing more.
    let unkeyed = TestApp::builder()
        .env("KASEYA_CREDENTIALS", bms_sandbox::CREDENTIALS)
        .spawn()
        .await;
    let auth = format!("Bearer {BUTTON_KEY}");
    let a = unkeyed.send(keyed_event(&[("authorization", &auth)])).await;
    assert_eq!(a.status, 401, "{a:?}");
    bodies.push(a.body);
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:#?}");
    assert!(t.bms.calls().is_empty() && unkeyed.bms.calls().is_empty());
}

#[tokio::test]
async fn the_key_is_taken_as_a_bearer_token_or_an_api_key_header() {
    let t = TestApp::spawn().await;
    let lower = format!("bearer {BUTTON_KEY}");
    let spaced = format!("Bearer   {BUTTON_KEY}  ");
    for headers in [
        &[("x-api-key", BUTTON_KEY)][..],
        &[("authorization", lower.as_str())][..],
        &[("authorization", spaced.as_str())][..],
    ] {
        let a = t.send(keyed_event(headers)).await;
        assert_eq!(a.status, 201, "{headers:?}: {a:?}");
    }
    assert_eq!(t.bms.tickets().len(), 3);
}
