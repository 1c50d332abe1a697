//! The secret from a real Secrets Manager API (moto_server on loopback), through the handler.

mod helpers;
mod support {
    pub mod moto;
}

use bms_sandbox::Sandbox;
use bms_sandbox::tenant::{PASSWORD, TENANT_NAME, USER_NAME};
use helpers::{Answer, Gateway, app_for, event, post_ticket, press, read, unkeyed_event};
use kaseya_button::App;
use serde_json::json;
use support::moto;

/// A secret with a name no other test uses.
async fn create_secret(client: &aws_sdk_secretsmanager::Client, name: &str, value: &str) -> String {
    let id = format!("kaseya-button/{name}-{}", std::process::id());
    client
        .create_secret()
        .name(&id)
        .secret_string(value)
        .send()
        .await
        .expect("moto creates the secret");
    id
}

async fn put_secret(client: &aws_sdk_secretsmanager::Client, id: &str, value: &str) {
    client
        .put_secret_value()
        .secret_id(id)
        .secret_string(value)
        .send()
        .await
        .expect("moto stores the new value");
}

/// The function reading its secret `id` from Secrets Manager, with `extra` settings.
async fn app_with_secret(bms: &Sandbox, id: &str, extra: &[(&str, &str)]) -> App {
    let mut vars = vec![("KASEYA_CREDENTIALS", ""), ("KASEYA_SECRET_ID", id)];
    vars.extend_from_slice(extra);
    app_for(bms, &vars).await
}

fn plain_credentials() -> String {
    format!("{TENANT_NAME}+{USER_NAME}:{PASSWORD}")
}

async fn press_without_key(app: &App) -> Answer {
    read(
        app.handle(unkeyed_event(&press("dan.jump@fabrikam.com", "x")))
            .await,
    )
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
    let sm = moto::client().await;
    let bms = Sandbox::start().await;
    let id = create_secret(&sm, "plain", &plain_credentials()).await;
    let app = app_with_secret(&bms, &id, &[("BUTTON_AUTH", "none")]).await;
    let a = press_without_key(&app).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(bms.tickets().len(), 1);
}

#[tokio::test]
async fn json_secret_with_button_keys() {
    let sm = moto::client().await;
    let bms = Sandbox::start().await;
    let value = json!({"company": TENANT_NAME, "username": USER_NAME, "password": PASSWORD, "buttonKeys": ["key-one", "key-two"]});
    let id = create_secret(&sm, "json", &value.to_string()).await;
    let app = app_with_secret(&bms, &id, &[]).await;
    assert_eq!(read(app.handle(keyed("key-two")).await).status, 201);
    let a = read(app.handle(keyed("key-three")).await);
    assert_eq!(a.status, 401, "{a:?}");
    assert_eq!(bms.tickets().len(), 1);
}

#[tokio::test]
async fn credentials_field_form() {
    let sm = moto::client().await;
    let bms = Sandbox::start().await;
    let value = json!({"credentials": plain_credentials(), "buttonKeys": "k1, k2"});
    let id = create_secret(&sm, "credentials", &value.to_string()).await;
    let app = app_with_secret(&bms, &id, &[]).await;
    assert_eq!(read(app.handle(keyed("k2")).await).status, 201);
}

#[tokio::test]
async fn a_missing_secret_is_a_clear_500() {
    moto::moto();
    let bms = Sandbox::start().await;
    let app = app_with_secret(&bms, "kaseya-button/does-not-exist", &[]).await;
    let a = post_ticket(&app, &press("dan.jump@fabrikam.com", "x")).await;
    assert_eq!(a.status, 500, "{a:?}");
    assert_eq!(a.content_type, "application/problem+json");
    // Named in the log and the health report; a caller whose key could not be checked learns
    // nothing about the configuration.
    assert!(
        !a.detail().contains("kaseya-button/does-not-exist") && a.detail().contains("log"),
        "{a:?}"
    );
    assert!(bms.calls().is_empty());
}

#[tokio::test]
async fn a_malformed_secret_is_a_500_that_does_not_echo_it() {
    let sm = moto::client().await;
    let bms = Sandbox::start().await;
    let id = create_secret(&sm, "malformed", "only-a-password-hunter2").await;
    let app = app_with_secret(&bms, &id, &[("BUTTON_AUTH", "none")]).await;
    let a = press_without_key(&app).await;
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
    let sm = moto::client().await;
    let bms = Sandbox::start().await;
    let old = json!({"company": TENANT_NAME, "username": USER_NAME, "password": PASSWORD, "buttonKeys": ["k"]});
    let id = create_secret(&sm, "rotated", &old.to_string()).await;
    let app = app_with_secret(&bms, &id, &[]).await;
    assert_eq!(read(app.handle(keyed("k")).await).status, 201);

    // The MSP rotates the API user's password in BMS and in the secret; the warm container
    // still holds the old one and its token dies.
    bms.set_password("n3w:pass+word");
    let new = json!({"company": TENANT_NAME, "username": USER_NAME, "password": "n3w:pass+word", "buttonKeys": ["k"]});
    put_secret(&sm, &id, &new.to_string()).await;
    bms.expire_tokens();

    let a = read(app.handle(keyed("k")).await);
    assert_eq!(a.status, 201, "{a:?}");
    let logins: Vec<u16> = bms
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
    assert_eq!(bms.tickets().len(), 2);
}

#[tokio::test]
async fn a_new_button_key_works_at_once_but_unknown_keys_refetch_at_most_once_a_minute() {
    let sm = moto::client().await;
    let bms = Sandbox::start().await;
    let with_keys =
        |keys: &[&str]| json!({"credentials": plain_credentials(), "buttonKeys": keys}).to_string();
    let id = create_secret(&sm, "keys", &with_keys(&["k1"])).await;
    let app = app_with_secret(&bms, &id, &[]).await;
    assert_eq!(read(app.handle(keyed("k1")).await).status, 201);

    put_secret(&sm, &id, &with_keys(&["k1", "k2"])).await;
    assert_eq!(
        read(app.handle(keyed("k2")).await).status,
        201,
        "the new key, after one refetch"
    );

    put_secret(&sm, &id, &with_keys(&["k1", "k2", "k3"])).await;
    assert_eq!(
        read(app.handle(keyed("k3")).await).status,
        401,
        "within a minute of the last refetch an unknown key does not reach Secrets Manager"
    );
}
