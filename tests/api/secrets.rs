//! The secret from a real Secrets Manager API (moto_server on loopback), through the handler.

use bms_sandbox::Sandbox;
use bms_sandbox::tenant::{PASSWORD, TENANT_NAME, USER_NAME};
use serde_json::json;

use crate::helpers::{
    Answer, BUTTON_KEY, Gateway, TestApp, app_for, event, post, press, read, unkeyed_event,
};
use crate::support::moto::{self, create_secret, put_secret};

fn plain_credentials() -> String {
    format!("{TENANT_NAME}+{USER_NAME}:{PASSWORD}")
}

/// A press without a key (`BUTTON_AUTH=none`) to the function reading its credentials from a
/// new secret `name` holding `value`; the answer, and the function.
async fn unkeyed_press_with_secret(name: &str, value: &str) -> (Answer, TestApp) {
    let id = create_secret(name, value).await;
    let t = TestApp::builder()
        .secret_id(&id)
        .env("BUTTON_AUTH", "none")
        .spawn()
        .await;
    let a = t
        .send(unkeyed_event(&press("dan.jump@fabrikam.com", "x")))
        .await;
    (a, t)
}

fn keyed(key: &str) -> lambda_http::Request {
    let auth = format!("Bearer {key}");
    event(
        Gateway::HttpV2,
        "POST",
        "/tickets",
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
        ],
        &press("dan.jump@fabrikam.com", "From a keyed button").to_string(),
    )
}

#[tokio::test]
async fn plain_secret_string() {
    let (a, t) = unkeyed_press_with_secret("plain", &plain_credentials()).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(t.bms.tickets().len(), 1);
}

#[tokio::test]
async fn json_secret_with_button_keys() {
    let value = json!({"company": TENANT_NAME, "username": USER_NAME, "password": PASSWORD, "buttonKeys": ["key-one", "key-two"]});
    let id = create_secret("json", &value.to_string()).await;
    let t = TestApp::builder().secret_id(&id).spawn().await;
    assert_eq!(t.send(keyed("key-two")).await.status, 201);
    let a = t.send(keyed("key-three")).await;
    assert_eq!(a.status, 401, "{a:?}");
    assert_eq!(t.bms.tickets().len(), 1);
}

#[tokio::test]
async fn credentials_field_form() {
    let value = json!({"credentials": plain_credentials(), "buttonKeys": "k1, k2"});
    let id = create_secret("credentials", &value.to_string()).await;
    let t = TestApp::builder().secret_id(&id).spawn().await;
    assert_eq!(t.send(keyed("k2")).await.status, 201);
}

#[tokio::test]
async fn a_missing_secret_is_a_clear_500() {
    moto::moto();
    let t = TestApp::builder()
        .secret_id("kaseya-button/does-not-exist")
        .spawn()
        .await;
    let a = t.post_ticket(press("dan.jump@fabrikam.com", "x")).await;
    assert_eq!(a.status, 500, "{a:?}");
    assert_eq!(a.content_type, "application/problem+json");
    // Named in the log and the health report; a caller whose key could not be checked learns
    // nothing about the configuration.
    assert!(
        !a.detail().contains("kaseya-button/does-not-exist") && a.detail().contains("log"),
        "{a:?}"
    );
    assert!(t.bms.calls().is_empty());
}

#[tokio::test]
async fn a_malformed_secret_is_a_500_that_does_not_echo_it() {
    let (a, _) = unkeyed_press_with_secret("malformed", "only-a-password-hunter2").await;
    assert_eq!(a.status, 500, "{a:?}");
    assert!(
        a.detail()
            .contains("the function's secret could not be used"),
        "{a:?}"
    );
    assert!(!a.body.to_string().contains("hunter2"));
}

#[tokio::test]
async fn a_rotated_password_is_picked_up_after_bms_says_401() {
    let old = json!({"company": TENANT_NAME, "username": USER_NAME, "password": PASSWORD, "buttonKeys": ["k"]});
    let id = create_secret("rotated", &old.to_string()).await;
    let t = TestApp::builder().secret_id(&id).spawn().await;
    assert_eq!(t.send(keyed("k")).await.status, 201);

    // The MSP rotates the API user's password in BMS and in the secret; the warm container
    // still holds the old one and its token dies.
    t.bms.set_password("n3w:pass+word");
    let new = json!({"company": TENANT_NAME, "username": USER_NAME, "password": "n3w:pass+word", "buttonKeys": ["k"]});
    put_secret(&id, &new.to_string()).await;
    t.bms.expire_tokens();

    let a = t.send(keyed("k")).await;
    assert_eq!(a.status, 201, "{a:?}");
    let logins: Vec<u16> = t
        .bms
        .calls()
        .iter()
        .filter(|c| c.path == "/v2/security/authenticate")
        .map(|c| c.status)
        .collect();
    assert_eq!(
        logins,
        [200, 401, 200],
        "first login, the old password refused, the new one"
    );
    assert_eq!(t.bms.tickets().len(), 2);
}

#[tokio::test]
async fn a_new_button_key_works_at_once_but_unknown_keys_refetch_at_most_once_a_minute() {
    let with_keys =
        |keys: &[&str]| json!({"credentials": plain_credentials(), "buttonKeys": keys}).to_string();
    let id = create_secret("keys", &with_keys(&["k1"])).await;
    let t = TestApp::builder().secret_id(&id).spawn().await;
    assert_eq!(t.send(keyed("k1")).await.status, 201);

    put_secret(&id, &with_keys(&["k1", "k2"])).await;
    assert_eq!(
        t.send(keyed("k2")).await.status,
        201,
        "the new key, after one refetch"
    );

    put_secret(&id, &with_keys(&["k1", "k2", "k3"])).await;
    assert_eq!(
        t.send(keyed("k3")).await.status,
        401,
        "within a minute of the last refetch an unknown key does not reach Secrets Manager"
    );
}

#[tokio::test]
async fn a_removed_button_key_stops_working_within_the_ttl_and_no_press_waits_for_it() {
    let with_keys =
        |keys: &[&str]| json!({"credentials": plain_credentials(), "buttonKeys": keys}).to_string();
    let id = create_secret("revoked", &with_keys(&["kept", "revoked"])).await;
    let t = TestApp::builder()
        .secret_id(&id)
        .env("KASEYA_SECRET_TTL_SECONDS", "1")
        .spawn()
        .await;
    assert_eq!(t.send(keyed("revoked")).await.status, 201);

    put_secret(&id, &with_keys(&["kept"])).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // The press that finds the secret older than its TTL is answered from the value in hand,
    // which still lists the key: it did not wait for the new value, which would refuse it.
    assert_eq!(
        t.send(keyed("revoked")).await.status,
        201,
        "the press that starts the background read is answered at once"
    );
    // The new value lands beside the requests; poll for it, bounded.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let a = t.send(keyed("revoked")).await;
        if a.status == 401 {
            break;
        }
        assert_eq!(a.status, 201, "{a:?}");
        assert!(
            std::time::Instant::now() < deadline,
            "the removed key still works 20 s after its TTL"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(t.send(keyed("kept")).await.status, 201);
}

/// The secret template.yaml creates, as CloudFormation writes it: its two keys are the values of
/// the two generated secrets it references.
#[test]
fn the_stacks_generated_secret_holds_a_button_key_and_an_operator_key() {
    use kaseya_button::secret::{KeyMatch, Role, Secret};
    let template = include_str!("../../template.yaml");
    // One single-quoted line (so that checkov's skip comment above it covers all of it).
    let written = template
        .lines()
        .find_map(|l| l.trim().strip_prefix("SecretString: !Sub '"))
        .and_then(|rest| rest.strip_suffix('\''))
        .expect("ButtonSecret's SecretString, on one line")
        .to_string();
    let references =
        regex::Regex::new(r"\{\{resolve:secretsmanager:\$\{(\w+)\}:SecretString\}\}").unwrap();
    assert_eq!(
        references.find_iter(&written).count(),
        2,
        "both keys come from generated secrets, none is written in the template"
    );
    let value = references.replace_all(&written, "generated-$1");
    let secret = Secret::parse(&value).unwrap_or_else(|e| panic!("{e}\n{value}"));
    assert_eq!(
        secret.key_for("generated-FirstButtonKey", None),
        Some(KeyMatch {
            role: Role::Button,
            name: Some("first-button".into()),
            customer: Default::default(),
        })
    );
    assert_eq!(
        secret.key_for("generated-OperatorKey", None),
        Some(KeyMatch {
            role: Role::Operator,
            name: Some("operator".into()),
            customer: Default::default(),
        })
    );
    assert_eq!(secret.credentials.tenant, "REPLACE-company");
}

#[tokio::test]
async fn secret_an_unauthenticated_caller_learns_nothing_about_it() {
    moto::moto();
    let bms = Sandbox::start().await;
    let arn = format!("kaseya-button/deleted-{}", std::process::id());
    let app = app_for(
        &bms,
        &[("KASEYA_CREDENTIALS", ""), ("KASEYA_SECRET_ID", &arn)],
    )
    .await;
    for key in [None, Some("wrong-key"), Some(BUTTON_KEY)] {
        let a = read(app.handle(post("/tickets", key)).await);
        assert!(a.status >= 500, "{a:?}");
        let body = a.body.to_string();
        assert!(
            !body.contains(&arn),
            "the secret's id reached the caller: {body}"
        );
        assert!(
            !body.contains("Secrets Manager can't find"),
            "the SDK's text: {body}"
        );
        assert!(!body.contains("ResourceNotFound"), "the SDK's text: {body}");
    }
    assert!(bms.tickets().is_empty());
}
