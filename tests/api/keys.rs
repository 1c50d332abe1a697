//! Named keys, operator keys and `allowFrom`, through the handler: the address checked is the
//! one API Gateway saw (`203.0.113.10` in the events of `events/`).

use bms_sandbox::CREDENTIALS;
use serde_json::{Value, json};

use crate::helpers::{BUTTON_KEY, Gateway, OPERATOR_KEY, TestApp, event, get, post, press};
use crate::support::logs;

const FROM_HERE: &str = "203.0.113.0/24";
const ELSEWHERE: &str = "198.51.100.0/24";

fn with_key(key: &str, gw: Gateway) -> lambda_http::Request {
    let auth = format!("Bearer {key}");
    event(
        gw,
        "POST",
        "/tickets",
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
        ],
        &press("dan.jump@fabrikam.com", "Printer is jammed").to_string(),
    )
}

async fn app_with_keys(button_keys: Value, operator_keys: Value) -> TestApp {
    let secret = json!({
        "credentials": CREDENTIALS,
        "buttonKeys": button_keys,
        "operatorKeys": operator_keys,
    });
    TestApp::builder()
        .envs(&[("KASEYA_CREDENTIALS", &secret.to_string())])
        .spawn()
        .await
}

#[tokio::test]
async fn a_key_used_from_outside_its_allow_from_is_refused_like_a_wrong_key() {
    let t = app_with_keys(
        json!([
            {"key": "kiosk-key-0123456789", "name": "kiosk", "allowFrom": [FROM_HERE]},
            {"key": "lab-key-0123456789", "name": "lab", "allowFrom": [ELSEWHERE]},
        ]),
        json!([{"key": "tier2-key-0123456789", "name": "tier2", "allowFrom": "203.0.113.10"}]),
    )
    .await;
    for gw in [Gateway::RestV1, Gateway::HttpV2] {
        let here = t.send(with_key("kiosk-key-0123456789", gw)).await;
        assert_eq!(here.status, 201, "{gw:?}: {here:?}");
        let elsewhere = t.send(with_key("lab-key-0123456789", gw)).await;
        let wrong = t.send(with_key("no-such-key-0123456789", gw)).await;
        assert_eq!(elsewhere.status, 401, "{gw:?}: {elsewhere:?}");
        assert_eq!(elsewhere.body, wrong.body, "{gw:?}: one answer for both");
        // Operator keys are accepted wherever a key is today.
        let operator = t.send(with_key("tier2-key-0123456789", gw)).await;
        assert_eq!(operator.status, 201, "{gw:?}: {operator:?}");
    }
}

#[tokio::test]
async fn a_misconfigured_allow_from_is_a_configuration_error_that_hides_the_key() {
    let (log, _guard) = logs::capture();
    let t = app_with_keys(
        json!(["plain-key-0123456789"]),
        json!([{"key": "tier2-key-0123456789", "allowFrom": ["203.0.113.300"]}]),
    )
    .await;
    let a = t
        .send(with_key("plain-key-0123456789", Gateway::HttpV2))
        .await;
    assert_eq!(a.status, 500, "{a:?}");
    // The caller learns only that the function is misconfigured; the log says where.
    assert!(a.detail().contains("not configured correctly"), "{a:?}");
    assert!(!a.detail().contains("allowFrom"), "{a:?}");
    let log = log.text();
    assert!(log.contains("`operatorKeys[0]`"), "{log}");
    assert!(log.contains("allowFrom[0]"), "{log}");
    assert!(
        !log.contains("tier2-key") && !a.detail().contains("tier2-key"),
        "{log}"
    );
    assert!(t.bms.tickets().is_empty());
}

#[tokio::test]
async fn health_and_preview_answer_only_an_operator_key() {
    let t = TestApp::spawn().await;
    for req in [
        get("/health", Some(BUTTON_KEY)),
        post("/tickets/preview", Some(BUTTON_KEY)),
    ] {
        let a = t.send(req).await;
        assert_eq!(a.status, 403, "{a:?}");
    }
    assert!(t.bms.calls().is_empty(), "a button key reached BMS");
    assert_eq!(t.send(get("/health", Some(OPERATOR_KEY))).await.status, 200);
    assert_eq!(
        t.send(post("/tickets/preview", Some(OPERATOR_KEY)))
            .await
            .status,
        200
    );
    // An operator key files tickets too.
    assert_eq!(
        t.send(post("/tickets", Some(OPERATOR_KEY))).await.status,
        201
    );
}

/// A key refused for its address is answered like a wrong key, and the log says which key (by
/// its name, never the key) was used from where: the operator can tell a customer's new office
/// from a stolen key.
#[tokio::test]
async fn a_key_refused_for_its_address_is_logged_with_its_name_and_the_address() {
    let (log, _guard) = logs::capture();
    let t = app_with_keys(
        json!([{"key": "lab-key-0123456789", "name": "fabrikam-lab", "allowFrom": [ELSEWHERE]}]),
        json!([]),
    )
    .await;
    let a = t
        .send(with_key("lab-key-0123456789", Gateway::HttpV2))
        .await;
    assert_eq!(a.status, 401, "{a:?}");
    let wrong = t
        .send(with_key("no-such-key-0123456789", Gateway::HttpV2))
        .await;
    assert_eq!(a.body, wrong.body, "one answer for both");
    let log = log.text();
    let line = log
        .lines()
        .find(|l| l.contains("allowFrom does not list"))
        .unwrap_or_else(|| panic!("no line names the refused key: {log}"));
    assert!(line.contains("fabrikam-lab"), "{line}");
    assert!(line.contains("203.0.113.10"), "{line}");
    assert!(!log.contains("lab-key-0123456789"), "{log}");
    assert_eq!(
        log.matches("allowFrom does not list").count(),
        1,
        "a wrong key is not said to be refused for its address: {log}"
    );
}
