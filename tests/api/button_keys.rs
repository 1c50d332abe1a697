//! `button-keys`, the real binary, against moto's Secrets Manager: the keys it adds work through
//! the handler, those it revokes do not, it prints no existing key, and nothing it refuses is
//! written.

use std::process::Command;

use bms_sandbox::CREDENTIALS;
use kaseya_button::secret::{KeyMatch, Role, Secret};
use serde_json::json;

use crate::helpers::{Gateway, TestApp, event, press};
use crate::support::moto::{self, create_secret};

const BINARY: &str = env!("CARGO_BIN_EXE_button-keys");
const OLD_BUTTON_KEY: &str = "old-button-key-0123456789";
const OLD_OPERATOR_KEY: &str = "old-operator-key-0123456789";
/// API Gateway's source address in the events of `events/`.
const HERE: &str = "203.0.113.0/24";
const ELSEWHERE: &str = "198.51.100.0/24";

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

/// `button-keys --secret-id id args…`, with moto as Secrets Manager.
fn button_keys(id: &str, args: &[&str]) -> Run {
    let mut command = Command::new(BINARY);
    command
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing");
    run(command, id, args)
}

fn run(mut command: Command, id: &str, args: &[&str]) -> Run {
    let moto = moto::moto();
    let out = command
        .arg("--secret-id")
        .arg(id)
        .args(args)
        .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", &moto.url)
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("BUTTON_EXTRA_CA_FILE")
        .output()
        .expect("button-keys runs");
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A secret as the stack makes it: the sandbox's login, a button key and an operator key.
async fn stack_secret(name: &str) -> String {
    let value = json!({
        "credentials": CREDENTIALS,
        "buttonKeys": [{"key": OLD_BUTTON_KEY, "name": "first-button"}],
        "operatorKeys": [{"key": OLD_OPERATOR_KEY, "name": "operator"}],
    });
    create_secret(name, &value.to_string()).await
}

async fn value_of(id: &str) -> String {
    moto::client()
        .await
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .expect("moto reads the secret")
        .secret_string()
        .expect("a text secret")
        .to_string()
}

/// The key `add` printed: all of standard output, one line.
fn printed_key(run: &Run) -> String {
    assert_eq!(run.status, 0, "{}", run.stderr);
    let key = run.stdout.strip_suffix('\n').expect("one line").to_string();
    assert_eq!(key.len(), 43, "{:?}", run.stdout);
    assert!(key.bytes().all(|b| b.is_ascii_alphanumeric()), "{key}");
    assert!(!run.stderr.contains(&key), "the key went to stderr too");
    key
}

/// A press with `key`, through the handler of a function that has just started.
async fn press_status(id: &str, key: &str) -> u16 {
    let t = TestApp::builder().secret_id(id).spawn().await;
    let auth = format!("Bearer {key}");
    let req = event(
        Gateway::HttpV2,
        "POST",
        "/tickets",
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
        ],
        &press("dan.jump@fabrikam.com", "From a new key").to_string(),
    );
    t.send(req).await.status
}

#[tokio::test]
async fn an_added_key_is_printed_alone_and_files_a_ticket() {
    let id = stack_secret("keys-add").await;
    let run = button_keys(&id, &["add", "--name", "contoso"]);
    let key = printed_key(&run);
    assert!(
        run.stderr
            .contains("added button key `contoso` (from anywhere)"),
        "{}",
        run.stderr
    );
    assert_eq!(press_status(&id, &key).await, 201);
    assert_eq!(
        press_status(&id, OLD_BUTTON_KEY).await,
        201,
        "the old key stays"
    );
}

#[tokio::test]
async fn allow_from_and_operator_are_written_as_the_function_reads_them() {
    let id = stack_secret("keys-allow").await;
    let here = printed_key(&button_keys(
        &id,
        &["add", "--name", "office", "--allow-from", HERE],
    ));
    let elsewhere = printed_key(&button_keys(
        &id,
        &["add", "--name", "lab", "--allow-from", ELSEWHERE],
    ));
    assert_eq!(press_status(&id, &here).await, 201);
    assert_eq!(press_status(&id, &elsewhere).await, 401);

    let tier2 = printed_key(&button_keys(
        &id,
        &[
            "add",
            "--operator",
            "--name",
            "tier2",
            "--allow-from=34.202.14.153,2001:db8::/48",
        ],
    ));
    let secret = Secret::parse(&value_of(&id).await).unwrap();
    let operator = Some(KeyMatch {
        role: Role::Operator,
        name: Some("tier2".into()),
        customer: Default::default(),
    });
    assert_eq!(
        secret.key_for(&tier2, "34.202.14.153".parse().ok()),
        operator
    );
    assert_eq!(secret.key_for(&tier2, "2001:db8::7".parse().ok()), operator);
    assert_eq!(secret.key_for(&tier2, "34.202.14.154".parse().ok()), None);
}

#[tokio::test]
async fn list_shows_names_roles_and_places_and_never_a_key() {
    let value = json!({
        "credentials": CREDENTIALS,
        "buttonKeys": ["unnamed-key-0123456789", {"key": OLD_BUTTON_KEY, "name": "kiosk", "allowFrom": "192.0.2.7, 10.1.0.9/16"}],
        "operatorKeys": format!("{OLD_OPERATOR_KEY}, second-operator-key-0123456789"),
    });
    let id = create_secret("keys-list", &value.to_string()).await;
    let new = printed_key(&button_keys(&id, &["add", "--name", "contoso"]));

    let run = button_keys(&id, &["list"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "NAME       ROLE      ALLOW FROM\n\
         (no name)  button    anywhere\n\
         kiosk      button    192.0.2.7, 10.1.0.0/16\n\
         contoso    button    anywhere\n\
         (no name)  operator  anywhere\n\
         (no name)  operator  anywhere\n"
    );
    for key in [
        new.as_str(),
        "unnamed-key-0123456789",
        OLD_BUTTON_KEY,
        OLD_OPERATOR_KEY,
        "second-operator-key-0123456789",
    ] {
        // Not even a prefix.
        for shown in [key, &key[..8]] {
            assert!(
                !run.stdout.contains(shown) && !run.stderr.contains(shown),
                "`{shown}` listed:\n{}{}",
                run.stdout,
                run.stderr
            );
        }
    }
}

#[tokio::test]
async fn a_revoked_key_is_refused_and_the_others_stay() {
    let id = stack_secret("keys-revoke").await;
    let key = printed_key(&button_keys(&id, &["add", "--name", "contoso"]));
    assert_eq!(press_status(&id, &key).await, 201);

    let run = button_keys(&id, &["revoke", "contoso"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("removed 1 key named `contoso`"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    assert!(!value_of(&id).await.contains(&key));
    assert_eq!(press_status(&id, &key).await, 401);
    assert_eq!(press_status(&id, OLD_BUTTON_KEY).await, 201);
}

#[tokio::test]
async fn what_is_refused_is_not_written() {
    let id = stack_secret("keys-refused").await;
    let before = value_of(&id).await;
    let long_name = "n".repeat(65);
    let cases: [(&[&str], i32, &[&str]); 5] = [
        (
            &["add", "--name", &long_name],
            1,
            &[
                "after this change the function could not read the secret",
                "has a `name` that is blank, longer than 64 characters",
                "Nothing was written",
            ],
        ),
        (
            &["add", "--name", "x", "--allow-from", "10.0.0.0/33"],
            2,
            &["`10.0.0.0/33` (in `--allow-from 10.0.0.0/33`) is not an IPv4 or IPv6 address"],
        ),
        (
            &["add", "--name", "OPERATOR"],
            1,
            &["the name `OPERATOR` is taken by an operator key named `operator`"],
        ),
        (
            &["revoke", "first-buton"],
            1,
            &[
                "no key is named `first-buton` (did you mean `first-button`?)",
                "the names are `first-button`, `operator`",
            ],
        ),
        (&["add"], 2, &["`add` needs a name for the key"]),
    ];
    for (args, status, said) in cases {
        let run = button_keys(&id, args);
        assert_eq!(run.status, status, "{args:?}: {}", run.stderr);
        for words in said {
            assert!(run.stderr.contains(words), "{args:?}: {}", run.stderr);
        }
        assert_eq!(run.stdout, "", "{args:?}");
        assert_eq!(value_of(&id).await, before, "{args:?} wrote the secret");
    }
}

#[tokio::test]
async fn a_plain_secret_becomes_json_with_the_same_login() {
    let id = create_secret("keys-plain", CREDENTIALS).await;
    let run = button_keys(&id, &["list"]);
    assert_eq!((run.status, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    assert!(run.stderr.contains("lists no keys"), "{}", run.stderr);

    let run = button_keys(&id, &["add", "--name", "first"]);
    let key = printed_key(&run);
    assert!(
        run.stderr
            .contains("plain `Company+username:password` form"),
        "{}",
        run.stderr
    );
    let value: serde_json::Value = serde_json::from_str(&value_of(&id).await).unwrap();
    assert_eq!(value["credentials"], CREDENTIALS);
    // The function logs in to BMS with it and files the ticket.
    assert_eq!(press_status(&id, &key).await, 201);
}

#[tokio::test]
async fn check_says_ok_or_what_is_wrong_and_list_and_add_point_at_it() {
    let good = stack_secret("keys-check-good").await;
    let run = button_keys(&good, &["check"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("OK: the function can read secret")
            && run
                .stdout
                .contains("1 button key (1 named), 1 operator key (1 named)"),
        "{}",
        run.stdout
    );

    let broken = json!({"credentials": CREDENTIALS, "buttonKeys": [{"key": "secretvalue-0123456789", "allowFrom": ["10.0.0.1", "nope"]}]});
    let bad = create_secret("keys-check-bad", &broken.to_string()).await;
    let before = value_of(&bad).await;
    let run = button_keys(&bad, &["check"]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("`buttonKeys[0]` has an `allowFrom[1]`"),
        "{}",
        run.stderr
    );
    for args in [&["list"][..], &["add", "--name", "x"]] {
        let run = button_keys(&bad, args);
        assert_eq!(run.status, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("check` says what"), "{}", run.stderr);
        assert!(!run.stdout.contains("secretvalue") && !run.stderr.contains("secretvalue"));
    }
    assert_eq!(value_of(&bad).await, before);

    let run = button_keys("kaseya-button/no-such-secret", &["check"]);
    assert_eq!(run.status, 3, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("has no secret `kaseya-button/no-such-secret` in region us-east-1"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn without_credentials_it_says_which_variables_to_set() {
    let id = stack_secret("keys-no-credentials").await;
    let mut command = Command::new(BINARY);
    command
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let run = run(command, &id, &["list"]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(
            "button-keys: no AWS credentials in the environment: set AWS_ACCESS_KEY_ID"
        ),
        "{}",
        run.stderr
    );
}
