//! Parking, through the handler: a press BMS cannot take now is put on the queue (moto's SQS)
//! and answered 202; everything else is answered as without a queue and never parked.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bms_sandbox::tenant::{PASSWORD, QUEUE_SERVICE_DESK};
use bms_sandbox::{Failure, Sandbox};
use kaseya_button::queue::ParkedPress;
use serde_json::{Value, json};

use crate::helpers::{self, BUTTON_KEY, Gateway, app_for, event, press, read};
use crate::support::parking::{FAST, app_parking_on, press_on};
use crate::support::sqs::Parking;

const TICKETS: &str = "/v2/servicedesk/tickets";
const DAN: &str = "dan.jump@fabrikam.com";

fn outage() -> Option<Failure> {
    Some(Failure::Status(503))
}

#[tokio::test]
async fn bms_down_parks_the_press_answers_202_and_files_nothing() {
    let queue = Parking::create("down", 5).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    bms.set_outage(outage());
    let before = chrono::Utc::now();
    let body = json!({"email": DAN, "message": "Outlook is down", "name": "Dan Jump",
                      "selections": ["Email"], "hostname": "PC-042"});
    let a = press_on(&app, &body, Some("k-42")).await;
    assert_eq!(a.status, 202, "{a:?}");
    assert_eq!(a.content_type, "application/json");
    assert_eq!(a.body["status"], "queued");
    assert!(
        a.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("no need to send it again")),
        "{a:?}"
    );
    assert_eq!(a.body["warnings"], json!([]));
    assert!(bms.tickets().is_empty());

    let bodies = queue.peek().await;
    assert_eq!(bodies.len(), 1, "one message: {bodies:?}");
    let event = queue.receive_event(10).await;
    assert_eq!(event["Records"][0]["messageId"], a.body["reference"]);
    let message = &bodies[0];
    let mut secrets: Vec<String> = bms.tokens_issued();
    secrets.extend([BUTTON_KEY.to_string(), PASSWORD.to_string()]);
    for secret in &secrets {
        assert!(!message.contains(secret.as_str()), "{secret} in {message}");
    }
    let parked = ParkedPress::read(message).expect("a message the replay reads");
    assert_eq!(parked.parked.v, 1);
    assert_eq!(parked.key.as_str(), "k-42");
    assert!(parked.parked.key_from_client());
    assert!(parked.parked.pressed_at >= before && parked.parked.pressed_at <= chrono::Utc::now());
    assert!(
        parked.parked.parked_because.contains("BMS"),
        "{}",
        parked.parked.parked_because
    );
    assert_eq!(parked.button.email.as_str(), DAN);
    assert_eq!(parked.button.selections, ["Email"]);
    assert_eq!(
        parked.button.hostname.as_ref().map(|h| h.as_str()),
        Some("PC-042")
    );
}

#[tokio::test]
async fn a_press_without_a_key_is_parked_with_one_made_at_intake() {
    let queue = Parking::create("intake-key", 5).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    bms.set_outage(outage());
    let a = press_on(&app, &press(DAN, "VPN drops"), None).await;
    assert_eq!(a.status, 202, "{a:?}");
    let bodies = queue.peek().await;
    let parked = ParkedPress::read(&bodies[0]).expect("readable");
    assert!(
        parked.key.as_str().starts_with("intake-"),
        "{:?}",
        parked.key
    );
    assert!(!parked.parked.key_from_client());
}

#[tokio::test]
async fn unreachable_bms_and_rate_limits_past_the_budget_are_parked_at_once() {
    let queue = Parking::create("causes", 5).await;
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port")
        .port();
    let dead = Sandbox::start().await;
    let app = app_parking_on(
        &dead,
        &queue,
        &[("KASEYA_API_URL", &format!("http://127.0.0.1:{closed}"))],
    )
    .await;
    let a = press_on(&app, &press(DAN, "unreachable"), None).await;
    assert_eq!(a.status, 202, "connection refused: {a:?}");

    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    for _ in 0..4 {
        bms.fail_next("GET", "/v2/", Failure::StatusRetryAfter(429, "3600".into()));
    }
    let started = Instant::now();
    let a = press_on(&app, &press(DAN, "rate limited"), None).await;
    assert_eq!(a.status, 202, "429 for an hour: {a:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "not waited for: {:?}",
        started.elapsed()
    );

    let login_fails = Sandbox::start().await;
    login_fails.fail_next("POST", "/v2/security/authenticate", Failure::Status(500));
    let app = app_parking_on(&login_fails, &queue, &[]).await;
    let a = press_on(&app, &press(DAN, "login 500"), None).await;
    assert_eq!(a.status, 202, "a login answered 500: {a:?}");
    assert_eq!(queue.count().await, 3);
    for sandbox in [&dead, &bms, &login_fails] {
        assert!(sandbox.tickets().is_empty());
    }
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_parked_with_its_marker() {
    let queue = Parking::create("lost", 5).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    bms.fail_next("POST", TICKETS, Failure::DropAnswer);
    let a = press_on(&app, &press(DAN, "Lost answer"), None).await;
    assert_eq!(a.status, 202, "{a:?}");
    let ticket = &bms.tickets()[0];
    let parked = ParkedPress::read(&queue.peek().await[0]).expect("readable");
    let details = ticket["Details"].as_str().unwrap_or_default();
    assert!(
        details.contains("[Button request "),
        "the ticket that was created carries the marker the replay looks for: {details}"
    );
    assert_eq!(
        ticket["OpenDate"],
        parked
            .parked
            .pressed_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "the same press time, so the replay's search window holds it"
    );
}

#[tokio::test]
async fn with_a_queue_a_normal_press_is_filed_as_before_for_the_same_two_bms_calls() {
    let queue = Parking::create("happy", 5).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    assert_eq!(
        press_on(&app, &press(DAN, "warm up"), None).await.status,
        201
    );
    bms.reset_calls();
    let a = press_on(&app, &press(DAN, "Printer jammed"), None).await;
    assert_eq!(a.status, 201, "{a:?}");
    let calls: Vec<String> = bms
        .calls()
        .iter()
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(bms.round_trips(), 2);
    assert_eq!(queue.count().await, 0);
    let details = bms.tickets()[1]["Details"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(details.contains("[Button request "), "{details}");
    assert_eq!(bms.tickets()[1]["QueueId"], QUEUE_SERVICE_DESK);
}

#[tokio::test]
async fn a_press_too_large_for_the_queue_is_answered_503_saying_so() {
    let queue = Parking::create_with("small", 5, Some(4096)).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    bms.set_outage(outage());
    let a = press_on(&app, &press(DAN, &"x".repeat(8000)), None).await;
    assert_eq!(a.status, 503, "{a:?}");
    assert!(a.detail().contains("could not be kept"), "{a:?}");
    assert!(a.detail().contains("4096"), "the queue's limit: {a:?}");

    // Larger than SQS takes at all: not even sent.
    let big = STANDARD.encode(vec![7u8; 1_200_000]);
    let body = json!({"email": DAN, "message": "screenshot",
                      "attachments": [{"name": "s.png", "contentType": "image/png", "data": big}]});
    let a = press_on(&app, &body, None).await;
    assert_eq!(a.status, 503, "{a:?}");
    assert!(a.detail().contains("SQS's own limit"), "{a:?}");
    assert_eq!(queue.count().await, 0);
}

#[tokio::test]
async fn an_unreachable_queue_answers_as_without_one() {
    let queue = Parking::create("gone", 5).await;
    let bms = Sandbox::start().await;
    let missing = format!("{}-missing", queue.url);
    let with = app_for(&bms, &[FAST[0], FAST[1], ("BUTTON_QUEUE_URL", &missing)]).await;
    let without = app_for(&bms, &[FAST[0], FAST[1]]).await;
    bms.set_outage(outage());
    let parked = press_on(&with, &press(DAN, "nowhere"), None).await;
    let refused = press_on(&without, &press(DAN, "nowhere"), None).await;
    assert_eq!(parked.status, 503, "{parked:?}");
    assert_eq!(
        (parked.body["type"].clone(), parked.content_type.clone()),
        (refused.body["type"].clone(), refused.content_type.clone())
    );
    assert_eq!(queue.count().await, 0);
}

#[tokio::test]
async fn bad_input_rejects_and_configuration_errors_are_never_parked() {
    let queue = Parking::create("never", 5).await;
    let bms = Sandbox::start().await;
    let rules = json!({"defaults": {"queue": "Service Desk"},
        "rules": [{"when": "email.endsWith('@northwind.com')", "reject": "Submissions are closed."}]});
    let app = app_parking_on(&bms, &queue, &[("BUTTON_RULES", &rules.to_string())]).await;
    bms.set_outage(outage());
    let bad = press_on(&app, &json!({"email": "nobody", "message": "x"}), None).await;
    assert_eq!(bad.status, 400, "{bad:?}");
    let empty = read(
        app.handle(event(
            Gateway::HttpV2,
            "POST",
            "/tickets",
            &[("content-type", "text/plain"), ("x-api-key", BUTTON_KEY)],
            "hello",
        ))
        .await,
    );
    assert_eq!(empty.status, 415, "{empty:?}");
    let rejected = press_on(&app, &press("ann@northwind.com", "x"), None).await;
    assert_eq!(rejected.status, 422, "{rejected:?}");
    let no_key = read(
        app.handle(event(
            Gateway::HttpV2,
            "POST",
            "/tickets",
            &[("content-type", "application/json")],
            &press(DAN, "x").to_string(),
        ))
        .await,
    );
    assert_eq!(no_key.status, 401);
    bms.set_outage(None);

    let missing_catch_all = app_parking_on(
        &bms,
        &queue,
        &[("KASEYA_UNREGISTERED_EMAIL", "nobody@nowhere.example")],
    )
    .await;
    let a = press_on(&missing_catch_all, &press(DAN, "x"), None).await;
    assert_eq!(a.status, 500, "{a:?}");
    let wrong_password = app_parking_on(
        &bms,
        &queue,
        &[(
            "KASEYA_CREDENTIALS",
            &json!({"credentials": "Contoso MSP+api.button:wrong", "buttonKeys": [BUTTON_KEY]})
                .to_string(),
        )],
    )
    .await;
    let a = press_on(&wrong_password, &press(DAN, "x"), None).await;
    assert_eq!(a.status, 502, "{a:?}");
    bms.fail_next("POST", TICKETS, Failure::Status(400));
    let a = press_on(&app, &press(DAN, "x"), None).await;
    assert_eq!(a.status, 502, "BMS refused the ticket itself: {a:?}");
    assert_eq!(queue.count().await, 0, "nothing was parked");
}

#[tokio::test]
async fn health_reports_the_queue_and_what_is_parked_on_it() {
    let queue = Parking::create("health", 5).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[("BUTTON_HEALTH_REUSE_SECONDS", "0")]).await;
    bms.set_outage(outage());
    assert_eq!(press_on(&app, &press(DAN, "x"), None).await.status, 202);
    bms.set_outage(None);
    let health = |app| async move {
        let a = read(
            kaseya_button::App::handle(
                app,
                event(
                    Gateway::HttpV2,
                    "GET",
                    "/health",
                    &[("x-api-key", helpers::OPERATOR_KEY)],
                    "",
                ),
            )
            .await,
        );
        (a.status, a.body.as_str().unwrap_or_default().to_string())
    };
    let (status, text) = health(&app).await;
    assert_eq!(status, 200, "{text}");
    let line = text.lines().last().unwrap_or_default();
    assert_eq!(
        line,
        "ok   parking queue: reachable, 1 press parked (0 being replayed or waiting to be \
         retried); the oldest's age: no CloudWatch data point in the last 5 minutes yet",
        "{text}"
    );
    // SQS reports the age to CloudWatch every minute; the health line reads it from there.
    queue.report_oldest_age(754).await;
    let (status, text) = health(&app).await;
    assert_eq!(status, 200, "{text}");
    let line = text.lines().last().unwrap_or_default();
    assert!(line.ends_with("; the oldest has waited 12 min"), "{text}");

    let missing = format!("{}-missing", queue.url);
    let broken = app_for(&bms, &[("BUTTON_QUEUE_URL", &missing)]).await;
    let (status, text) = health(&broken).await;
    assert_eq!(status, 503, "{text}");
    let line = text.lines().last().unwrap_or_default();
    assert!(line.starts_with("FAIL parking queue: "), "{text}");
    assert!(line.contains("BUTTON_QUEUE_URL"), "{text}");
}

/// The answer a no-queue function gives keeps its shape: the tests of `faults.rs` hold for it.
#[tokio::test]
async fn without_a_queue_nothing_changes() {
    let bms = Sandbox::start().await;
    let app = app_for(&bms, &[FAST[0], FAST[1]]).await;
    bms.set_outage(outage());
    let a = press_on(&app, &press(DAN, "x"), Some("k")).await;
    assert_eq!(a.status, 503, "{a:?}");
    let body: &Value = &a.body;
    assert!(body.get("reference").is_none(), "{body}");
}

/// An urgent press (the rules made it Critical) that must wait for BMS tells the person whom to
/// call meanwhile; any other press is answered as before.
#[tokio::test]
async fn a_parked_urgent_press_says_whom_to_call() {
    let queue = Parking::create("urgent", 5).await;
    let bms = Sandbox::start().await;
    let rules = json!({
        "defaults": {"queue": "Service Desk", "priority": "Medium"},
        "rules": [{"when": "'This is an emergency' in selections",
                   "set": {"priority": "Critical"}}]
    })
    .to_string();
    let phone = "+1 (555) 0100";
    let app = app_parking_on(
        &bms,
        &queue,
        &[("BUTTON_RULES", &rules), ("BUTTON_WEB_PHONE", phone)],
    )
    .await;
    bms.set_outage(outage());
    let urgent = json!({"email": DAN, "message": "The server room is flooding",
                        "selections": ["This is an emergency"]});
    let a = press_on(&app, &urgent, Some("urgent-1")).await;
    assert_eq!(a.status, 202, "{a:?}");
    let message = a.body["message"].as_str().unwrap_or_default();
    assert!(message.contains("no need to send it again"), "{message}");
    assert!(
        message.contains("call the help desk now: +1 (555) 0100"),
        "{message}"
    );
    assert_eq!(a.body["phone"], phone);

    let calm = press_on(&app, &press(DAN, "The printer is slow"), Some("calm-1")).await;
    assert_eq!(calm.status, 202, "{calm:?}");
    assert!(calm.body.get("phone").is_none(), "{calm:?}");
    assert!(
        !calm.body["message"]
            .as_str()
            .unwrap_or_default()
            .contains(phone),
        "{calm:?}"
    );

    // Without a number to give, an urgent press is answered as any other.
    let app = app_parking_on(&bms, &queue, &[("BUTTON_RULES", &rules)]).await;
    let a = press_on(&app, &urgent, Some("urgent-2")).await;
    assert_eq!(a.status, 202, "{a:?}");
    assert!(a.body.get("phone").is_none(), "{a:?}");
}
