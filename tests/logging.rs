//! What the function logs, at every level, through a whole set of requests: never a password,
//! a button key or a token. A binary of its own, because tracing caches per call site whether
//! anyone listens, and tests logging on other threads at the same time would race with that.

mod helpers;

use helpers::{BUTTON_KEY, Gateway, TestApp, event, press};
use serde_json::json;

/// Everything logged, at every level, into a buffer.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_log_line_holds_a_password_key_or_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let t = TestApp::spawn().await;
    let mut body = press("dan.jump@fabrikam.com", "first");
    body["attachments"] =
        json!([{"name": "s.png", "contentType": "image/png", "data": "aGVsbG8="}]);
    assert_eq!(t.post_ticket(body).await.status, 201);
    t.bms.expire_tokens();
    assert_eq!(
        t.post_ticket(press("dan.jump@fabrikam.com", "after expiry"))
            .await
            .status,
        201
    );
    let wrong = event(
        Gateway::HttpV2,
        "POST",
        "/tickets",
        &[("authorization", "Bearer not-the-key-42")],
        "{}",
    );
    assert_eq!(t.send(wrong).await.status, 401);
    t.bms.set_password("rotated");
    t.bms.expire_tokens();
    assert_eq!(
        t.post_ticket(press("dan.jump@fabrikam.com", "refused"))
            .await
            .status,
        502
    );

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("ticket created"), "the capture works: {log}");
    for secret in [
        bms_sandbox::tenant::PASSWORD,
        BUTTON_KEY,
        "not-the-key-42",
        "rotated",
    ] {
        assert!(!log.contains(secret), "`{secret}` was logged:\n{log}");
    }
    assert!(
        !log.to_ascii_lowercase().contains("bearer "),
        "a token was logged:\n{log}"
    );
}
