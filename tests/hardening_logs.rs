//! User values cannot forge log lines in the text log format. A binary of its own, because
//! tracing caches per call site whether anyone listens (see tests/logging.rs).

mod helpers;
mod support {
    pub mod logs;
}

use helpers::{Gateway, TestApp, event};
use serde_json::json;
use support::logs;

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
