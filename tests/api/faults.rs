//! BMS and Secrets Manager failing in every way they can, through the handler: what is retried,
//! what is never repeated, and what the button is told.
//!
//! Retry pauses are made short through `KASEYA_RETRY_BASE_MS`/`KASEYA_RETRY_CAP_MS`; nothing here
//! measures time.

use std::time::{Duration, SystemTime};

use bms_sandbox::Failure;
use lambda_http::RequestExt;

use crate::helpers::{
    Answer, Gateway, TestApp, TestAppBuilder, closed_port_url, hanging_url, json_event, press,
};

const TICKETS: &str = "/v2/servicedesk/tickets";
const SEARCH: &str = "/v2/crm/contacts/search";
const LOGIN: &str = "/v2/security/authenticate";

/// The function with short pauses between retries.
fn fast() -> TestAppBuilder {
    TestApp::builder().fast_retries()
}

/// One press of a known user.
async fn press_button(t: &TestApp) -> Answer {
    t.post_ticket(press("dan.jump@fabrikam.com", "Outlook is down"))
        .await
}

fn problem_type(a: &Answer) -> &str {
    a.body["type"]
        .as_str()
        .and_then(|t| t.strip_prefix("urn:kaseya-button:problem:"))
        .unwrap_or_default()
}

/// An HTTP date `secs` from now, as a `Retry-After` header may carry it.
fn http_date_in(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

// --- 429 and 503 -------------------------------------------------------------------------------

#[tokio::test]
async fn a_429_on_a_search_is_retried_after_its_retry_after_and_the_ticket_filed() {
    let t = fast().warm().spawn().await;
    t.bms
        .fail_next("GET", SEARCH, Failure::StatusRetryAfter(429, "0".into()));
    let a = press_button(&t).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(t.bms.count("GET", SEARCH), 2);
    assert_eq!(t.bms.count("POST", TICKETS), 1);
}

#[tokio::test]
async fn a_retry_after_given_as_an_http_date_is_honoured() {
    let t = fast().spawn().await;
    t.bms.fail_next(
        "GET",
        "/v2/system/queues",
        Failure::StatusRetryAfter(503, http_date_in(1)),
    );
    let a = press_button(&t).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(t.bms.count("GET", "/v2/system/queues"), 2);
}

#[tokio::test]
async fn a_503_without_retry_after_is_retried_with_backoff() {
    let t = fast().warm().spawn().await;
    t.bms.fail_next("GET", SEARCH, Failure::Status(503));
    t.bms.fail_next("GET", SEARCH, Failure::Status(503));
    let a = press_button(&t).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(t.bms.count("GET", SEARCH), 3);
}

#[tokio::test]
async fn a_search_that_keeps_failing_is_tried_four_times_then_answered_503() {
    let t = fast().warm().spawn().await;
    for _ in 0..10 {
        t.bms.fail_next("GET", SEARCH, Failure::Status(503));
    }
    let a = press_button(&t).await;
    assert_eq!(a.status, 503, "{a:?}");
    assert_eq!(problem_type(&a), "bms-rate-limited");
    assert!(
        a.retry_after.is_some(),
        "the button is told when to come back"
    );
    assert_eq!(t.bms.count("GET", SEARCH), 4);
    assert_eq!(t.bms.count("POST", TICKETS), 0);
}

#[tokio::test]
async fn a_retry_after_longer_than_the_time_left_is_passed_on_without_waiting() {
    let t = fast().warm().spawn().await;
    t.bms
        .fail_next("GET", SEARCH, Failure::StatusRetryAfter(429, "60".into()));
    let a = press_button(&t).await;
    assert_eq!(a.status, 503, "{a:?}");
    assert_eq!(a.retry_after.as_deref(), Some("60"));
    assert_eq!(t.bms.count("GET", SEARCH), 1, "not retried");
    assert_eq!(t.bms.count("POST", TICKETS), 0);
}

#[tokio::test]
async fn the_lambda_deadline_bounds_the_wait_when_it_is_earlier_than_the_gateways() {
    let t = fast().warm().spawn().await;
    // Ten seconds fit API Gateway's budget, but not an invocation that ends in five.
    t.bms
        .fail_next("GET", SEARCH, Failure::StatusRetryAfter(429, "10".into()));
    let mut ctx = lambda_http::Context::default();
    let ends = SystemTime::now() + Duration::from_secs(5);
    ctx.deadline = ends
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let req = json_event(
        Gateway::RestV1,
        "/tickets",
        &press("dan.jump@fabrikam.com", "x"),
    )
    .with_lambda_context(ctx);
    let a = t.send(req).await;
    assert_eq!(a.status, 503, "{a:?}");
    assert_eq!(a.retry_after.as_deref(), Some("10"));
    assert_eq!(t.bms.count("GET", SEARCH), 1);
}

#[tokio::test]
async fn a_deadline_already_past_is_not_a_real_one_and_is_ignored() {
    let t = fast().spawn().await;
    // What `cargo lambda watch` hands over: a duration (10 minutes) where Lambda puts the epoch
    // milliseconds of the deadline, so it reads as a moment in 1970.
    let mut ctx = lambda_http::Context::default();
    ctx.deadline = 600_000;
    let req = json_event(
        Gateway::RestV1,
        "/tickets",
        &press("dan.jump@fabrikam.com", "x"),
    )
    .with_lambda_context(ctx);
    let a = t.send(req).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(t.bms.tickets().len(), 1);
}

// --- the ticket POST ---------------------------------------------------------------------------

#[tokio::test]
async fn a_429_on_the_ticket_post_is_retried_because_bms_refused_it() {
    let t = fast().spawn().await;
    t.bms
        .fail_next("POST", TICKETS, Failure::StatusRetryAfter(429, "0".into()));
    let a = press_button(&t).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(t.bms.count("POST", TICKETS), 2);
    assert_eq!(t.bms.tickets().len(), 1);
}

/// The answer to a create whose outcome is unknown: not repeated, and the button told so.
fn assert_ticket_may_exist(t: &TestApp, a: &Answer, status: u16) {
    assert_eq!(a.status, status, "{a:?}");
    assert_eq!(a.content_type, "application/problem+json");
    assert_eq!(a.body["ticketMayExist"], true, "{a:?}");
    assert!(
        a.detail().contains("may have created the ticket")
            && a.detail().contains("Idempotency-Key"),
        "{a:?}"
    );
    assert!(a.retry_after.is_some(), "{a:?}");
    assert_eq!(
        t.bms.count("POST", TICKETS),
        1,
        "the create is never repeated"
    );
}

#[tokio::test]
async fn a_503_on_the_ticket_post_is_not_repeated() {
    let t = fast().spawn().await;
    t.bms
        .fail_next("POST", TICKETS, Failure::StatusRetryAfter(503, "7".into()));
    let a = press_button(&t).await;
    assert_ticket_may_exist(&t, &a, 503);
    assert_eq!(a.retry_after.as_deref(), Some("7"), "BMS's own Retry-After");
    assert_eq!(problem_type(&a), "bms-unavailable-ticket-may-exist");
    assert!(t.bms.tickets().is_empty());
}

#[tokio::test]
async fn a_500_on_the_ticket_post_is_a_502_and_not_repeated() {
    let t = fast().spawn().await;
    t.bms.fail_next("POST", TICKETS, Failure::Status(500));
    let a = press_button(&t).await;
    assert_ticket_may_exist(&t, &a, 502);
    assert_eq!(problem_type(&a), "bms-error-ticket-may-exist");
}

#[tokio::test]
async fn a_ticket_created_but_its_answer_dropped_is_not_filed_twice() {
    let t = fast().spawn().await;
    t.bms.fail_next("POST", TICKETS, Failure::DropAnswer);
    let a = press_button(&t).await;
    assert_ticket_may_exist(&t, &a, 503);
    assert_eq!(
        t.bms.tickets().len(),
        1,
        "the one ticket BMS made, no second"
    );
}

#[tokio::test]
async fn a_ticket_created_but_answered_with_an_unreadable_body_is_not_filed_twice() {
    let t = fast().spawn().await;
    t.bms.fail_next("POST", TICKETS, Failure::GarbledAnswer);
    let a = press_button(&t).await;
    assert_ticket_may_exist(&t, &a, 502);
    assert!(a.detail().contains("not JSON"), "{a:?}");
    assert_eq!(t.bms.tickets().len(), 1);
}

#[tokio::test]
async fn a_ticket_created_but_answered_too_late_is_not_filed_twice() {
    let t = fast().env("KASEYA_TIMEOUT_SECONDS", "1").spawn().await;
    t.bms
        .fail_next("POST", TICKETS, Failure::Delay(Duration::from_millis(2500)));
    let a = press_button(&t).await;
    assert_ticket_may_exist(&t, &a, 503);
    assert!(a.detail().contains("timed out"), "{a:?}");
    assert_eq!(t.bms.tickets().len(), 1);
}

#[tokio::test]
async fn a_ticket_post_that_is_never_answered_is_not_repeated() {
    let t = fast().env("KASEYA_TIMEOUT_SECONDS", "1").spawn().await;
    t.bms.fail_next("POST", TICKETS, Failure::Hang);
    let a = press_button(&t).await;
    assert_ticket_may_exist(&t, &a, 503);
    assert!(t.bms.tickets().is_empty());
}

// --- connections -------------------------------------------------------------------------------

#[tokio::test]
async fn a_search_that_hangs_once_is_retried_after_the_timeout() {
    let t = fast()
        .env("KASEYA_TIMEOUT_SECONDS", "1")
        .warm()
        .spawn()
        .await;
    t.bms.fail_next("GET", SEARCH, Failure::Hang);
    let a = press_button(&t).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(t.bms.count("GET", SEARCH), 2);
    assert_eq!(t.bms.count("POST", TICKETS), 1);
}

#[tokio::test]
async fn a_search_that_hangs_twice_is_given_up_after_the_second_timeout() {
    let t = fast()
        .env("KASEYA_TIMEOUT_SECONDS", "1")
        .warm()
        .spawn()
        .await;
    for _ in 0..3 {
        t.bms.fail_next("GET", SEARCH, Failure::Hang);
    }
    let a = press_button(&t).await;
    assert_eq!(a.status, 503, "{a:?}");
    assert!(a.detail().contains("timed out"), "{a:?}");
    assert_eq!(a.retry_after.as_deref(), Some("30"));
    assert_eq!(t.bms.count("GET", SEARCH), 2);
    assert_eq!(t.bms.count("POST", TICKETS), 0);
}

#[tokio::test]
async fn a_search_whose_connection_is_reset_is_retried() {
    let t = fast().warm().spawn().await;
    t.bms.fail_next("GET", SEARCH, Failure::DropAnswer);
    let a = press_button(&t).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(t.bms.count("GET", SEARCH), 2);
}

#[tokio::test]
async fn bms_on_a_closed_port_is_a_503_with_retry_after() {
    let t = fast()
        .env("KASEYA_API_URL", &closed_port_url())
        .spawn()
        .await;
    let a = press_button(&t).await;
    assert_eq!(a.status, 503, "{a:?}");
    assert_eq!(problem_type(&a), "bms-unavailable");
    assert!(a.detail().contains("could not be reached"), "{a:?}");
    assert_eq!(a.retry_after.as_deref(), Some("30"));
    assert!(a.body.get("ticketMayExist").is_none(), "nothing was sent");
}

#[tokio::test]
async fn bms_that_never_answers_is_a_503_within_the_timeouts() {
    let t = fast()
        .env("KASEYA_API_URL", hanging_url())
        .env("KASEYA_TIMEOUT_SECONDS", "1")
        .spawn()
        .await;
    let a = press_button(&t).await;
    assert_eq!(a.status, 503, "{a:?}");
    assert!(a.detail().contains("timed out"), "{a:?}");
    assert!(a.retry_after.is_some());
}

// --- tokens and credentials --------------------------------------------------------------------

#[tokio::test]
async fn a_bms_that_always_answers_401_gets_one_new_login_and_no_loop() {
    let t = fast().warm().spawn().await;
    for _ in 0..10 {
        t.bms.fail_next("GET", SEARCH, Failure::Status(401));
    }
    let a = press_button(&t).await;
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.detail().contains("after a fresh login"), "{a:?}");
    assert_eq!(t.bms.count("GET", SEARCH), 2, "the call and one retry");
    assert_eq!(
        t.bms.count("POST", LOGIN),
        1,
        "one new login after the cached token was refused"
    );
    assert_eq!(t.bms.count("POST", TICKETS), 0);
}

#[tokio::test]
async fn refused_credentials_are_tried_twice_then_named() {
    let t = fast().spawn().await;
    t.bms.set_password("rotated-in-bms-only");
    let a = press_button(&t).await;
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.detail().contains("credentials"), "{a:?}");
    assert_eq!(
        t.bms.count("POST", LOGIN),
        2,
        "the cached secret, then the secret fetched again"
    );
    assert!(t.bms.tickets().is_empty());
}

#[tokio::test]
async fn a_429_on_login_is_retried() {
    let t = fast().spawn().await;
    t.bms
        .fail_next("POST", LOGIN, Failure::StatusRetryAfter(429, "0".into()));
    let a = press_button(&t).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(t.bms.count("POST", LOGIN), 2);
}

// --- Secrets Manager ---------------------------------------------------------------------------

#[tokio::test]
async fn a_secrets_manager_that_never_answers_is_a_503_not_a_500() {
    let t = TestApp::builder()
        .secret_id("kaseya-button/outage")
        .secrets_manager_at(hanging_url())
        .env("KASEYA_TIMEOUT_SECONDS", "1")
        .spawn()
        .await;
    let a = press_button(&t).await;
    assert_eq!(a.status, 503, "{a:?}");
    assert_eq!(problem_type(&a), "secret-unavailable");
    // The secret's id is for the log, not for a caller whose key could not be checked.
    assert!(
        !a.detail().contains("kaseya-button/outage") && a.detail().contains("could not be reached"),
        "{a:?}"
    );
    assert!(a.retry_after.is_some());
    assert!(t.bms.calls().is_empty());
    let text = a.body.to_string();
    assert!(!text.contains("testing"), "{text}");
}
