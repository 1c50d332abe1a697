//! What the function logs, at every level, through a whole set of requests: never a password,
//! a button key or a token; and no user value forges a log line.

use bms_sandbox::{CREDENTIALS, Failure};
use serde_json::json;

use crate::helpers::{self, BUTTON_KEY, Gateway, TestApp, closed_port_url, event, press};
use crate::support::logs;

const SEARCH: &str = "/v2/crm/contacts/search";
const TICKETS: &str = "/v2/servicedesk/tickets";
const SECOND_KEY: &str = "second-button-key-7f3a9c";
const ROTATED_PASSWORD: &str = "n3w-Rotated:pass+word";
const WRONG_KEY: &str = "not-the-key-42";

/// The status of a press from a known contact.
async fn status_of(t: &TestApp, message: &str) -> u16 {
    t.post_ticket(press("dan.jump@fabrikam.com", message))
        .await
        .status
}

#[tokio::test]
async fn no_log_line_holds_a_password_key_or_token() {
    let (captured, _guard) = logs::capture();

    let secret = json!({"credentials": CREDENTIALS, "buttonKeys": [BUTTON_KEY, SECOND_KEY]});
    let t = TestApp::builder()
        .env("KASEYA_CREDENTIALS", &secret.to_string())
        .fast_retries()
        .spawn()
        .await;
    let mut body = press("dan.jump@fabrikam.com", "first");
    body["attachments"] =
        json!([{"name": "s.png", "contentType": "image/png", "data": "aGVsbG8="}]);
    assert_eq!(t.post_ticket(body).await.status, 201);

    // Throttling and outages, retried and not.
    let retried = [
        Failure::StatusRetryAfter(429, "0".into()),
        Failure::Status(503),
        Failure::DropAnswer,
    ];
    for failure in retried {
        t.bms.fail_next("GET", SEARCH, failure);
    }
    assert_eq!(status_of(&t, "throttled").await, 201);
    t.bms.fail_next("POST", TICKETS, Failure::Status(503));
    assert_eq!(status_of(&t, "maybe").await, 503);
    t.bms.fail_next("POST", TICKETS, Failure::DropAnswer);
    assert_eq!(status_of(&t, "lost").await, 503);

    // Token expiry, once and for good.
    t.bms.expire_tokens();
    let a = t
        .post_ticket(press("dan.jump@fabrikam.com", "after expiry"))
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    for _ in 0..2 {
        t.bms.fail_next("GET", SEARCH, Failure::Status(401));
    }
    assert_eq!(status_of(&t, "always 401").await, 502);

    // Callers with the second key, a wrong key, and none.
    let second = format!("Bearer {SECOND_KEY}");
    let with = |auth: &str| {
        event(
            Gateway::HttpV2,
            "POST",
            "/tickets",
            &[
                ("content-type", "application/json"),
                ("authorization", auth),
            ],
            &press("dan.jump@fabrikam.com", "keyed").to_string(),
        )
    };
    assert_eq!(t.send(with(&second)).await.status, 201);
    assert_eq!(
        t.send(with(&format!("Bearer {WRONG_KEY}"))).await.status,
        401
    );
    let unkeyed = event(
        Gateway::HttpV2,
        "POST",
        "/tickets",
        &[("x-api-key", WRONG_KEY)],
        "{}",
    );
    assert_eq!(t.send(unkeyed).await.status, 401);

    // The password rotated in BMS but not (yet) in the secret.
    t.bms.set_password(ROTATED_PASSWORD);
    t.bms.expire_tokens();
    assert_eq!(status_of(&t, "refused").await, 502);

    // Secrets Manager down: its endpoint is a port nothing listens on.
    let sm = TestApp::builder()
        .secret_id("kaseya-button/outage")
        .secrets_manager_at(&closed_port_url())
        .env("KASEYA_TIMEOUT_SECONDS", "2")
        .spawn()
        .await;
    assert_eq!(status_of(&sm, "no secret").await, 503);

    // A rule's queue BMS does not know: the button is told less than the log.
    let rules = json!({"defaults": {"queue": "Service Desk"}, "rules": [{"set": {"queue": "Servce Desk"}}]});
    let replaced = TestApp::builder()
        .env("BUTTON_RULES", &rules.to_string())
        .spawn()
        .await;
    assert_eq!(status_of(&replaced, "replaced").await, 201);

    let log = captured.text();
    for expected in [
        "`Servce Desk` is not an active queue in BMS (known: ",
        "ticket created",
        "retrying",
        "logging in again",
        "fetching the secret again",
        "Secrets Manager could not be reached",
    ] {
        assert!(
            log.contains(expected),
            "the capture holds `{expected}`:\n{log}"
        );
    }
    let tokens = t.bms.tokens_issued();
    assert!(tokens.len() >= 6, "{tokens:?}");
    let secrets = [
        bms_sandbox::tenant::PASSWORD,
        ROTATED_PASSWORD,
        BUTTON_KEY,
        SECOND_KEY,
        WRONG_KEY,
    ];
    for secret in secrets
        .iter()
        .copied()
        .chain(tokens.iter().map(String::as_str))
    {
        assert!(!log.contains(secret), "`{secret}` was logged:\n{log}");
    }
    // The only `Bearer` allowed is the placeholder in the answer that says how to send a key.
    let lower = log.to_ascii_lowercase();
    assert!(
        lower
            .match_indices("bearer ")
            .all(|(i, m)| lower[i + m.len()..].starts_with("<key>")),
        "a token was logged:\n{log}"
    );
}

const FORGED: &str = "2026-11-26T10:00:00.000000Z  INFO kaseya_button: ticket created ticket_id=1";

#[tokio::test]
async fn a_newline_in_an_invalid_email_cannot_forge_a_log_line() {
    let (captured, _guard) = logs::capture();

    let t = TestApp::spawn().await;
    for brk in ["\n", "\r\n", "\r"] {
        let email = format!("dan{brk}{FORGED}");
        let a = t
            .post_ticket(json!({"email": email, "message": "Printer is jammed"}))
            .await;
        assert_eq!(a.status, 400, "{a:?}");
        assert!(a.detail().contains("email"), "{a:?}");
    }
    // A field the parser refuses for its type, and a form body, name the value too.
    let form = event(
        Gateway::HttpV2,
        "POST",
        "/tickets",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("authorization", &format!("Bearer {}", helpers::BUTTON_KEY)),
        ],
        &format!(
            "email=dan%0A{}&message=m",
            FORGED.replace(' ', "+").replace(':', "%3A")
        ),
    );
    assert_eq!(t.send(form).await.status, 400);

    let log = captured.text();
    assert!(log.contains("request refused"), "{log}");
    for line in log.split(['\n', '\r']) {
        assert!(
            !line.starts_with("2026-11-26T10:00:00"),
            "a forged log line:\n{log}"
        );
    }
}
