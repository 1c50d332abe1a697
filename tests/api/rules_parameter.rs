//! The rules read from Parameter Store (`BUTTON_RULES_PARAMETER`, moto's): presses routed by
//! the parameter's rules, a new version in force after the TTL, a version with problems or a
//! parameter that cannot be read leaving the rules in force (and `/health` and the log saying
//! so), a container that never read good rules filing nothing, and `button-rules publish`.

use std::process::{Command, Output};
use std::time::Duration;

use bms_sandbox::tenant::{QUEUE_ESCALATIONS, QUEUE_SERVICE_DESK};
use serde_json::{Value, json};

use crate::helpers::{Answer, OPERATOR_KEY, TestApp, get, press};
use crate::support::lambda::{self, Function, Runtime};
use crate::support::parking::{app_parking_on, press_on, replay_until_empty};
use crate::support::sqs::Parking;
use crate::support::{logs, moto};

/// The TTL the functions under test read the parameter again after.
const TTL: Duration = Duration::from_secs(1);

fn to_queue(queue: &str) -> String {
    json!({"defaults": {"queue": queue}}).to_string()
}

/// A misspelt variable: the checker refuses it, naming the rule and the variable meant.
const WITH_PROBLEMS: &str =
    r#"{"rules": [{"when": "priorty == 'High'", "set": {"queue": "Escalations"}}]}"#;

/// A function reading its rules from the parameter `name` every second; the health report made
/// afresh at each call.
async fn app_reading(name: &str) -> TestApp {
    moto::moto();
    TestApp::builder()
        .env("BUTTON_RULES", "")
        .env("BUTTON_RULES_PARAMETER", name)
        .env("BUTTON_RULES_TTL_SECONDS", &TTL.as_secs().to_string())
        .env("BUTTON_HEALTH_REUSE_SECONDS", "0")
        .spawn()
        .await
}

/// The queue of the ticket a press filed, answered 201.
async fn filed_queue(t: &TestApp) -> Value {
    let before = t.bms.tickets().len();
    let a = t
        .post_ticket(press("dan.jump@fabrikam.com", "Printer jammed"))
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    let tickets = t.bms.tickets();
    assert_eq!(tickets.len(), before + 1, "one press, one ticket");
    tickets[before]["QueueId"].clone()
}

async fn health(t: &TestApp) -> (u16, String) {
    let a: Answer = t.send(get("/health", Some(OPERATOR_KEY))).await;
    (a.status, a.body.as_str().unwrap_or_default().to_string())
}

/// The line of the health report about the rules parameter.
fn rules_line(report: &str) -> &str {
    report
        .lines()
        .find(|l| l.contains("rules parameter:"))
        .unwrap_or_else(|| panic!("no rules parameter line in {report}"))
}

#[tokio::test]
async fn presses_follow_the_parameter_and_a_new_version_once_the_ttl_is_over() {
    let name = moto::parameter_name("follows");
    moto::put_parameter(&name, &to_queue("Escalations")).await;
    let t = app_reading(&name).await;
    assert_eq!(filed_queue(&t).await, QUEUE_ESCALATIONS);

    moto::put_parameter(&name, &to_queue("Service Desk")).await;
    tokio::time::sleep(TTL).await;
    // The first press past the TTL is not held up by the read: it goes by the rules in hand,
    // and the read runs beside it. The preview files nothing, so it can ask until the read
    // has landed.
    let mut queue = Value::Null;
    for _ in 0..100 {
        let a = t
            .preview(press("dan.jump@fabrikam.com", "Printer jammed"))
            .await;
        queue = a.body["contextAfter"]["queue"].clone();
        if queue == "Service Desk" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        queue, "Service Desk",
        "the new version is read after the TTL"
    );
    assert_eq!(filed_queue(&t).await, QUEUE_SERVICE_DESK);
}

#[tokio::test]
async fn a_version_with_problems_is_refused_and_the_rules_in_force_stay() {
    let name = moto::parameter_name("refused");
    moto::put_parameter(&name, &to_queue("Escalations")).await;
    let t = app_reading(&name).await;
    assert_eq!(filed_queue(&t).await, QUEUE_ESCALATIONS);
    let (status, report) = health(&t).await;
    assert_eq!(status, 200, "{report}");
    assert!(
        rules_line(&report).starts_with(&format!("ok   rules parameter: version 1 of `{name}`")),
        "{report}"
    );

    let (log, _capturing) = logs::capture();
    moto::put_parameter(&name, WITH_PROBLEMS).await;
    // The report reads the parameter now, and again at the second call: the version is
    // refused (and logged) once.
    let (status, report) = health(&t).await;
    let (_, again) = health(&t).await;
    assert_eq!(status, 503, "{report}");
    let line = rules_line(&report);
    assert!(
        line.starts_with(&format!(
            "FAIL rules parameter: version 2 of `{name}` was refused"
        )),
        "{line}"
    );
    assert!(
        line.contains("priorty") && line.contains("priority"),
        "{line}"
    );
    assert!(line.ends_with("version 1 stays in force"), "{line}");
    assert_eq!(rules_line(&again), line);
    assert_eq!(
        filed_queue(&t).await,
        QUEUE_ESCALATIONS,
        "the old rules still route"
    );

    let log = log.text();
    let refusals: Vec<&str> = log.lines().filter(|l| l.contains("was refused")).collect();
    assert_eq!(refusals.len(), 1, "one error line per version: {log}");
    let refusal = refusals[0];
    assert!(refusal.contains("ERROR"), "{refusal}");
    assert!(refusal.contains(&format!("parameter={name}")), "{refusal}");
    assert!(
        refusal.contains("version=2") && refusal.contains("in_force=Some(1)"),
        "{refusal}"
    );
    assert!(refusal.contains("priorty"), "{refusal}");

    // A corrected version replaces it.
    moto::put_parameter(&name, &to_queue("Service Desk")).await;
    let (status, report) = health(&t).await;
    assert_eq!(status, 200, "{report}");
    assert!(rules_line(&report).contains("version 3"), "{report}");
    assert_eq!(filed_queue(&t).await, QUEUE_SERVICE_DESK);
}

#[tokio::test]
async fn a_parameter_that_cannot_be_read_leaves_the_rules_in_force() {
    let name = moto::parameter_name("deleted");
    moto::put_parameter(&name, &to_queue("Escalations")).await;
    let t = app_reading(&name).await;
    assert_eq!(filed_queue(&t).await, QUEUE_ESCALATIONS);
    moto::ssm_client()
        .delete_parameter()
        .name(&name)
        .send()
        .await
        .expect("moto deletes the parameter");

    let (status, report) = health(&t).await;
    assert_eq!(status, 503, "{report}");
    let line = rules_line(&report);
    assert!(
        line.contains(&format!("Parameter Store has no parameter `{name}`")),
        "{line}"
    );
    assert!(line.ends_with("version 1 stays in force"), "{line}");
    assert_eq!(filed_queue(&t).await, QUEUE_ESCALATIONS);
}

/// Without rules ever read, a press is not filed without them: nothing reaches BMS, the caller
/// is told to try again (a function with a queue parks it), and once a good version can be
/// read presses go by it.
#[tokio::test]
async fn a_container_that_never_read_good_rules_files_nothing_until_it_does() {
    let name = moto::parameter_name("cold");
    moto::put_parameter(&name, WITH_PROBLEMS).await;
    let t = app_reading(&name).await;
    for _ in 0..2 {
        let a = t
            .post_ticket(press("dan.jump@fabrikam.com", "Printer jammed"))
            .await;
        assert_eq!(a.status, 503, "{a:?}");
        assert_eq!(a.content_type, "application/problem+json");
        assert_eq!(
            a.body["type"],
            "urn:kaseya-button:problem:rules-unavailable"
        );
        assert!(a.retry_after.is_some(), "{a:?}");
        assert!(
            !a.detail().contains(&name),
            "the parameter is the log's: {a:?}"
        );
    }
    assert!(t.bms.tickets().is_empty());
    let (status, report) = health(&t).await;
    assert_eq!(status, 503, "{report}");
    assert!(
        rules_line(&report).contains("no version is in force"),
        "{report}"
    );
    assert!(
        report.contains("skip rules defaults: needs rules in force"),
        "{report}"
    );

    moto::put_parameter(&name, &to_queue("Escalations")).await;
    tokio::time::sleep(TTL).await;
    assert_eq!(filed_queue(&t).await, QUEUE_ESCALATIONS);
}

/// With a queue, such a press is parked, and the replay (reading the same parameter) files it
/// as the rules say once a good version can be read: never a lost ticket, never one filed
/// without the rules.
#[tokio::test]
async fn a_press_parked_for_want_of_rules_is_filed_by_them_once_they_can_be_read() {
    let name = moto::parameter_name("parked");
    moto::put_parameter(&name, WITH_PROBLEMS).await;
    let queue = Parking::create("rules-unavailable", 5).await;
    let bms = bms_sandbox::Sandbox::start().await;
    let app = app_parking_on(
        &bms,
        &queue,
        &[
            ("BUTTON_RULES", ""),
            ("BUTTON_RULES_PARAMETER", &name),
            ("BUTTON_RULES_TTL_SECONDS", "1"),
        ],
    )
    .await;
    let a = press_on(
        &app,
        &press("dan.jump@fabrikam.com", "Printer jammed"),
        None,
    )
    .await;
    assert_eq!(a.status, 202, "{a:?}");
    assert_eq!(a.body["status"], "queued");

    let reported = replay_until_empty(&app, &queue, 1).await;
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert_eq!(
        reported[0].len(),
        1,
        "still no rules: the press waits: {reported:?}"
    );
    assert!(bms.tickets().is_empty());

    moto::put_parameter(&name, &to_queue("Escalations")).await;
    tokio::time::sleep(TTL).await;
    let mut filed = Vec::new();
    // The press comes back once its visibility (the replay's backoff, 0 s here) is over.
    for _ in 0..50 {
        replay_until_empty(&app, &queue, 1).await;
        filed = bms.tickets();
        if !filed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(filed.len(), 1, "the parked press is filed");
    assert_eq!(filed[0]["QueueId"], QUEUE_ESCALATIONS);
}

const BUTTON_RULES_BINARY: &str = env!("CARGO_BIN_EXE_button-rules");

/// `button-rules` run with moto as Parameter Store, on the file `rules`.
fn button_rules(args: &[&str], rules: &str) -> Output {
    let moto = moto::moto();
    let file = std::env::temp_dir().join(format!(
        "rules-{}-{}.json",
        std::process::id(),
        args.join("-").replace('/', "_")
    ));
    std::fs::write(&file, rules).expect("a temporary file");
    let out = Command::new(BUTTON_RULES_BINARY)
        .args(args)
        .arg(&file)
        .env_clear()
        .env("AWS_ENDPOINT_URL_SSM", &moto.url)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .expect("button-rules runs");
    let _ = std::fs::remove_file(&file);
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn publish_checks_packs_when_needed_and_puts_a_new_version() {
    let name = moto::parameter_name("publish");
    moto::put_parameter(&name, &to_queue("Escalations")).await;

    let out = button_rules(&["publish", "--parameter", &name], WITH_PROBLEMS);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: ") && stderr.contains("priorty"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was published"), "{stderr}");
    assert_eq!(
        moto::parameter(&name).await.0,
        1,
        "the version is unchanged"
    );

    let small = "{\n  \"defaults\": {\"queue\": \"Service Desk\"}\n}\n";
    let out = button_rules(&["publish", "--parameter", &name], small);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.starts_with(&format!("published version 2 of `{name}` (standard tier)")),
        "{stdout}"
    );
    assert_eq!(
        moto::parameter(&name).await,
        (2, r#"{"defaults":{"queue":"Service Desk"}}"#.to_string())
    );

    // Over a standard parameter's 4096 bytes as it is; a tenth of that packed.
    let rules: Vec<Value> = (0..150)
        .map(|i| json!({"when": format!("name == 'User {i}'"), "set": {"queue": "Escalations"}}))
        .collect();
    let large = serde_json::to_string_pretty(&json!({"rules": rules})).expect("JSON");
    assert!(large.len() > 4096);
    let out = button_rules(&["publish", "--parameter", &name], &large);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("packed"), "{stderr}");
    assert!(
        stdout.contains("version 3") && stdout.contains("(standard tier)"),
        "{stdout}"
    );
    let (version, value) = moto::parameter(&name).await;
    assert_eq!(version, 3);
    assert!(value.starts_with("gz:") && value.len() <= 4096, "{value}");
    let unpacked = kaseya_button::rules::unpack(&value).expect("it unpacks");
    assert_eq!(
        serde_json::from_str::<Value>(&unpacked).expect("JSON"),
        json!({"rules": rules})
    );
}

/// The real binary, started as Lambda starts it for a waiting press, reads the parameter in
/// its init phase beside the secret: the press is routed by it, and the read costs the cold
/// start no round trip (the sandbox relays Parameter Store and counts its call with the rest).
#[tokio::test]
async fn a_cold_start_reads_the_parameter_beside_the_secret() {
    moto::moto();
    let bms = lambda::sandbox(Duration::from_millis(60), false).await;
    let secret = moto::create_secret("rules-parameter", bms_sandbox::CREDENTIALS).await;
    let name = moto::parameter_name("cold-start");
    moto::put_parameter(&name, &to_queue("Escalations")).await;
    let mut env = lambda::env(&bms, secret, "");
    env.retain(|(k, _)| *k != "BUTTON_RULES");
    env.push(("BUTTON_RULES_PARAMETER", name));
    env.push(("AWS_ENDPOINT_URL_SSM", bms.url()));
    let mut runtime = Runtime::start().await;
    runtime.hand_over(lambda::press_event("dan.jump@fabrikam.com"));
    let _function = Function::spawn(env!("CARGO_BIN_EXE_kaseya-button"), &runtime, &env);
    runtime.asked().await;
    let (_, answer) = runtime.answered().await;
    assert_eq!(lambda::status(&answer), 201, "{answer}");
    let tickets = bms.tickets();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0]["QueueId"], QUEUE_ESCALATIONS);
    assert_eq!(bms.count("POST", "/AmazonSSM.GetParameter"), 1);
    // The secret beside the rules; the login; the contact search beside the lists; the create.
    assert_eq!(bms.round_trips(), 4);
}
