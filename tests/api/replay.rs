//! The replay (`kaseya-button-replay`), through its handler with real Lambda SQS events read off
//! moto's queue: each parked press becomes exactly one ticket, whatever SQS delivers twice,
//! whatever the button parked twice, and whatever BMS does meanwhile.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use bms_sandbox::tenant::{QUEUE_ESCALATIONS, QUEUE_SERVICE_DESK};
use bms_sandbox::{Failure, Sandbox};
use serde_json::{Value, json};

use crate::helpers::{app_for, press};
use crate::support::parking::{
    app_parking_on, deliver, message_ids, press_on, replay, replay_until_empty,
};
use crate::support::sqs::Parking;

const TICKETS: &str = "/v2/servicedesk/tickets";
const DAN: &str = "dan.jump@fabrikam.com";

fn outage() -> Option<Failure> {
    Some(Failure::Status(503))
}

fn details(ticket: &Value) -> &str {
    ticket["Details"].as_str().unwrap_or_default()
}

/// The marker lines of every ticket, which must all differ: one ticket per press.
fn markers(bms: &Sandbox) -> Vec<String> {
    bms.tickets()
        .iter()
        .filter_map(|t| {
            details(t)
                .lines()
                .find(|l| l.starts_with("[Button request "))
                .map(str::to_string)
        })
        .collect()
}

/// A parked press as the function writes it, pressed at `pressed_at`.
fn parked_body(pressed_at: &str, key: &str, body: Value) -> String {
    json!({"v": 1, "pressedAt": pressed_at, "idempotencyKey": key,
           "parkedBecause": "BMS is unavailable", "press": body})
    .to_string()
}

#[tokio::test]
async fn a_parked_press_is_filed_once_bms_is_back_with_its_press_time() {
    let queue = Parking::create("back", 5).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    bms.set_outage(outage());
    let a = press_on(&app, &press(DAN, "Outlook is down"), Some("k-1")).await;
    assert_eq!(a.status, 202, "{a:?}");
    bms.set_outage(None);

    let event = queue.receive_event(10).await;
    let parked = kaseya_button::queue::ParkedPress::read(
        event["Records"][0]["body"].as_str().unwrap_or_default(),
    )
    .expect("readable");
    assert_eq!(deliver(&app, &queue, &event).await, Vec::<String>::new());
    let tickets = bms.tickets();
    assert_eq!(tickets.len(), 1, "{tickets:#?}");
    let ticket = &tickets[0];
    assert_eq!(
        ticket["OpenDate"],
        parked
            .parked
            .pressed_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let text = details(ticket);
    assert!(text.starts_with("[Filed late] Pressed at "), "{text}");
    assert!(
        text.contains(&format!(
            "kept on the queue as {}",
            a.body["reference"].as_str().unwrap_or_default()
        )),
        "{text}"
    );
    assert!(
        text.contains("Outlook is down") && text.contains("[Button request "),
        "{text}"
    );
    assert_eq!(ticket["QueueId"], QUEUE_SERVICE_DESK);
}

#[tokio::test]
async fn a_record_delivered_twice_files_one_ticket() {
    let queue = Parking::create("twice", 5).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    bms.set_outage(outage());
    assert_eq!(press_on(&app, &press(DAN, "x"), None).await.status, 202);
    bms.set_outage(None);
    // SQS delivers at least once: the record is filed, its deletion is lost, and SQS delivers
    // it again.
    let event = queue.receive_for(10, 0).await;
    assert!(replay(&app, &event).await.is_empty());
    let again = queue.receive_event(10).await;
    assert_eq!(message_ids(&again), message_ids(&event));
    assert_eq!(
        again["Records"][0]["attributes"]["ApproximateReceiveCount"],
        "2"
    );
    assert!(deliver(&app, &queue, &again).await.is_empty());
    assert_eq!(queue.count().await, 0);
    assert_eq!(bms.tickets().len(), 1);
    assert_eq!(bms.count("POST", TICKETS), 1);
}

#[tokio::test]
async fn bms_still_down_sends_the_record_back_and_after_max_receives_to_the_dead_letters() {
    let queue = Parking::create("still-down", 2).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    bms.set_outage(outage());
    assert_eq!(press_on(&app, &press(DAN, "x"), None).await.status, 202);
    for receive in 1..=2 {
        let event = queue.receive_event(10).await;
        assert_eq!(
            event["Records"][0]["attributes"]["ApproximateReceiveCount"],
            receive.to_string()
        );
        assert_eq!(
            deliver(&app, &queue, &event).await,
            message_ids(&event),
            "receive {receive}"
        );
    }
    // BUTTON_REPLAY_RETRY_SECONDS=0: back at once; a third receive finds it past maxReceiveCount.
    let event = queue.receive_event(10).await;
    assert_eq!(message_ids(&event), Vec::<String>::new());
    assert_eq!(queue.count().await, 0);
    assert_eq!(queue.dead_letters().await, 1);
    assert!(bms.tickets().is_empty());
}

#[tokio::test]
async fn a_failed_record_waits_before_it_comes_back() {
    let queue = Parking::create("backoff", 5).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[("BUTTON_REPLAY_RETRY_SECONDS", "60")]).await;
    bms.set_outage(outage());
    assert_eq!(press_on(&app, &press(DAN, "x"), None).await.status, 202);
    // Received as if visible again at once: only the replay's own wait keeps it away.
    let event = queue.receive_for(10, 0).await;
    assert_eq!(deliver(&app, &queue, &event).await.len(), 1);
    assert_eq!(queue.count().await, 1, "still on the queue");
    let again = queue.receive_event(10).await;
    assert!(
        message_ids(&again).is_empty(),
        "invisible for a minute: {again}"
    );
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_found_not_filed_again() {
    let queue = Parking::create("lost", 5).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    // At intake: BMS created the ticket, but its answer never came.
    bms.fail_next("POST", TICKETS, Failure::DropAnswer);
    assert_eq!(
        press_on(&app, &press(DAN, "lost at intake"), None)
            .await
            .status,
        202
    );
    assert_eq!(bms.tickets().len(), 1);
    let event = queue.receive_event(10).await;
    assert!(deliver(&app, &queue, &event).await.is_empty());
    assert_eq!(bms.tickets().len(), 1, "found by its marker");

    // At replay: the same, then the record's next delivery.
    bms.set_outage(outage());
    assert_eq!(
        press_on(&app, &press(DAN, "lost at replay"), None)
            .await
            .status,
        202
    );
    bms.set_outage(None);
    bms.fail_next("POST", TICKETS, Failure::DropAnswer);
    let event = queue.receive_event(10).await;
    assert_eq!(deliver(&app, &queue, &event).await, message_ids(&event));
    assert_eq!(bms.tickets().len(), 2);
    let event = queue.receive_event(10).await;
    assert!(deliver(&app, &queue, &event).await.is_empty());
    assert_eq!(bms.tickets().len(), 2, "{:#?}", bms.tickets());
    assert_eq!(queue.count().await, 0);
}

#[tokio::test]
async fn a_replay_hours_after_the_press_still_finds_what_an_earlier_try_filed() {
    let queue = Parking::create("hours", 5).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    let pressed_at = (chrono::Utc::now() - chrono::Duration::hours(3)).to_rfc3339();
    queue
        .send_raw(&parked_body(
            &pressed_at,
            "hours-later",
            press(DAN, "three hours ago"),
        ))
        .await;
    // The first try files the ticket, opened at the press time, and its answer is lost.
    bms.fail_next("POST", TICKETS, Failure::DropAnswer);
    let event = queue.receive_event(10).await;
    assert_eq!(deliver(&app, &queue, &event).await, message_ids(&event));
    assert_eq!(bms.tickets().len(), 1);
    // The next searches from the press time, not from now: it finds that ticket.
    let event = queue.receive_event(10).await;
    assert!(deliver(&app, &queue, &event).await.is_empty());
    assert_eq!(bms.tickets().len(), 1, "{:#?}", bms.tickets());
}

#[tokio::test]
async fn once_bms_fails_a_record_the_rest_of_the_batch_is_not_tried() {
    let queue = Parking::create("batch", 5).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    let now = chrono::Utc::now().to_rfc3339();
    for n in 0..3 {
        queue
            .send_raw(&parked_body(
                &now,
                &format!("b-{n}"),
                press(DAN, &format!("b {n}")),
            ))
            .await;
    }
    bms.set_outage(outage());
    let event = queue.receive_event(10).await;
    assert_eq!(message_ids(&event).len(), 3);
    bms.reset_calls();
    let reported = deliver(&app, &queue, &event).await;
    assert_eq!(reported, message_ids(&event), "all three go back");
    let logins = bms.count("POST", "/v2/security/authenticate");
    let searches = bms.count("GET", "/v2/crm/contacts/search");
    // One record's tries (a login retried with backoff), not three records' worth.
    assert!(
        logins <= 4 && searches == 0,
        "logins {logins}, searches {searches}"
    );
    assert_eq!(queue.count().await, 3);
}

#[tokio::test]
async fn the_same_press_parked_twice_files_one_ticket() {
    let queue = Parking::create("retried", 5).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    bms.set_outage(outage());
    let body = press(DAN, "The button was pressed during the outage");
    for _ in 0..2 {
        assert_eq!(press_on(&app, &body, Some("retry-key-7")).await.status, 202);
    }
    bms.set_outage(None);
    let event = queue.receive_event(10).await;
    assert_eq!(message_ids(&event).len(), 2);
    assert!(deliver(&app, &queue, &event).await.is_empty());
    assert_eq!(bms.tickets().len(), 1, "{:#?}", bms.tickets());
    // And a repeat after the replay is answered with that ticket.
    let again = press_on(&app, &body, Some("retry-key-7")).await;
    assert_eq!(
        (again.status, again.body["duplicate"].clone()),
        (200, json!(true))
    );
}

#[tokio::test]
async fn a_poison_record_is_reported_and_the_rest_of_the_batch_filed() {
    let queue = Parking::create("poison", 5).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    let now = chrono::Utc::now().to_rfc3339();
    let good = |n: u32| parked_body(&now, &format!("good-{n}"), press(DAN, &format!("good {n}")));
    queue.send_raw(&good(1)).await;
    let not_json = queue.send_raw("this is not JSON").await;
    let unknown = queue
        .send_raw(&json!({"v": 2, "pressedAt": now, "press": {}}).to_string())
        .await;
    let bad_press = queue
        .send_raw(&parked_body(
            &now,
            "k",
            json!({"email": "no", "message": "x"}),
        ))
        .await;
    queue.send_raw(&good(2)).await;
    let event = queue.receive_event(10).await;
    assert_eq!(message_ids(&event).len(), 5);
    let mut reported = deliver(&app, &queue, &event).await;
    reported.sort();
    let mut poison = vec![not_json, unknown, bad_press];
    poison.sort();
    assert_eq!(reported, poison);
    assert_eq!(bms.tickets().len(), 2);
    // Back at once, so that they reach the dead-letter queue without waiting.
    let again = queue.receive_event(10).await;
    assert_eq!(message_ids(&again).len(), 3);
}

#[tokio::test]
async fn the_rules_run_with_the_press_time_as_the_clock() {
    let bms = Sandbox::start().await;
    let rules = json!({"defaults": {"queue": "Service Desk"}, "rules": [
        {"when": "timestamp(openDate).getHours() >= 20", "set": {"queue": "Escalations"}}]});
    // No queue: the replay needs none to file; it only cannot delay a retry then.
    let app = app_for(&bms, &[("BUTTON_RULES", &rules.to_string())]).await;
    let record = |id: &str, at: &str| {
        json!({"messageId": id, "receiptHandle": "h", "body": parked_body(at, id, press(DAN, id)),
               "attributes": {"ApproximateReceiveCount": "1"}, "eventSource": "aws:sqs"})
    };
    let event = json!({"Records": [record("evening", "2026-11-26T22:15:00Z"),
                                   record("morning", "2026-11-27T09:05:00Z")]});
    assert!(replay(&app, &event).await.is_empty());
    let tickets = bms.tickets();
    let by_title: HashMap<&str, &Value> = tickets
        .iter()
        .map(|t| (t["Title"].as_str().unwrap_or_default(), t))
        .collect();
    assert_eq!(by_title["evening"]["QueueId"], QUEUE_ESCALATIONS);
    assert_eq!(by_title["evening"]["OpenDate"], "2026-11-26T22:15:00Z");
    assert_eq!(by_title["morning"]["QueueId"], QUEUE_SERVICE_DESK);
    assert_eq!(by_title["morning"]["OpenDate"], "2026-11-27T09:05:00Z");
}

#[tokio::test]
async fn a_rule_that_now_rejects_and_a_configuration_error_send_the_record_back() {
    let bms = Sandbox::start().await;
    let rules = json!({"rules": [{"when": "true", "reject": "Closed."}]});
    let rejecting = app_for(&bms, &[("BUTTON_RULES", &rules.to_string())]).await;
    let misconfigured = app_for(&bms, &[("BUTTON_AUTH", "maybe")]).await;
    let now = chrono::Utc::now().to_rfc3339();
    let event = json!({"Records": [{"messageId": "m-1", "receiptHandle": "h",
        "body": parked_body(&now, "k", press(DAN, "x")), "attributes": {}}]});
    assert_eq!(replay(&rejecting, &event).await, ["m-1"]);
    assert_eq!(replay(&misconfigured, &event).await, ["m-1"]);
    assert!(bms.tickets().is_empty());
}

#[tokio::test]
async fn the_sample_event_is_a_lambda_sqs_event_the_replay_files() {
    let sample: Value =
        serde_json::from_str(include_str!("../../events/sqs-replay.json")).expect("valid JSON");
    let typed: SqsEvent = serde_json::from_value(sample.clone()).expect("an SQS event");
    assert_eq!(typed.records.len(), 1);
    let bms = Sandbox::start().await;
    let app = app_for(&bms, &[]).await;
    assert!(replay(&app, &sample).await.is_empty());
    let ticket = &bms.tickets()[0];
    assert_eq!(ticket["OpenDate"], "2026-11-26T22:15:00Z");
    assert!(details(ticket).starts_with("[Filed late] Pressed at 2026-11-26T22:15:00Z"));
}

/// A burst of presses while BMS flaps (down half the time, 429 bursts, answers lost), each
/// answered 201, 200 or 202, then replays until the queue is empty: exactly one ticket per
/// press, none twice, none lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_every_press_becomes_exactly_one_ticket_while_bms_flaps() {
    const PRESSES: usize = 40;
    const WAVE: usize = 8;
    let queue = Parking::create("soak", 100).await;
    let bms = Sandbox::start().await;
    // No metric lines: printed from the runtime's worker threads, the test harness would not
    // hold them back.
    let app = Arc::new(app_parking_on(&bms, &queue, &[("BUTTON_METRICS", "off")]).await);
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    for (wave, first) in (0..PRESSES).step_by(WAVE).enumerate() {
        match wave % 4 {
            0 | 2 => bms.set_outage(outage()),
            1 => {
                bms.set_outage(None);
                for _ in 0..3 {
                    bms.fail_next("GET", "/v2/", Failure::StatusRetryAfter(429, "60".into()));
                }
                bms.fail_next("POST", TICKETS, Failure::DropAnswer);
            }
            _ => {
                bms.set_outage(None);
                bms.fail_next("POST", TICKETS, Failure::StatusRetryAfter(429, "60".into()));
            }
        }
        let mut presses = tokio::task::JoinSet::new();
        for n in first..(first + WAVE).min(PRESSES) {
            let app = app.clone();
            presses.spawn(async move {
                let body = press(DAN, &format!("soak press {n}"));
                // Half the buttons send a key, and press again after their answer.
                let key = (n % 2 == 0).then(|| format!("soak-key-{n}"));
                let mut answers = vec![press_on(&app, &body, key.as_deref()).await.status];
                if key.is_some() {
                    answers.push(press_on(&app, &body, key.as_deref()).await.status);
                }
                answers
            });
        }
        while let Some(answers) = presses.join_next().await {
            for status in answers.expect("a press task") {
                *statuses.entry(status).or_default() += 1;
            }
        }
    }
    let odd: Vec<_> = statuses
        .keys()
        .filter(|s| ![200, 201, 202].contains(*s))
        .collect();
    assert!(odd.is_empty(), "answers: {statuses:?}");
    for status in [200, 201, 202] {
        assert!(
            statuses.contains_key(&status),
            "every answer occurs: {statuses:?}"
        );
    }

    // The replay meets BMS down once more, then BMS is back.
    bms.set_outage(outage());
    let first = replay_until_empty(&app, &queue, 1).await;
    assert!(first.iter().all(|failed| !failed.is_empty()), "{first:?}");
    bms.set_outage(None);
    replay_until_empty(&app, &queue, 50).await;
    assert_eq!(queue.count().await, 0, "the queue is empty");
    assert_eq!(queue.dead_letters().await, 0);

    let tickets = bms.tickets();
    let mut titles: Vec<String> = tickets
        .iter()
        .map(|t| t["Title"].as_str().unwrap_or_default().to_string())
        .collect();
    titles.sort();
    let mut expected: Vec<String> = (0..PRESSES).map(|n| format!("soak press {n}")).collect();
    expected.sort();
    assert_eq!(
        titles, expected,
        "one ticket per press, none twice, none lost"
    );
    let mut all = markers(&bms);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), PRESSES, "every ticket carries its own marker");
}

/// A parked press as the function writes it for a press made with the helpers' button key.
fn parked_by_button(pressed_at: &str, key: &str, body: Value) -> String {
    let mut parked: Value = serde_json::from_str(&parked_body(pressed_at, key, body)).unwrap();
    let scope = kaseya_button::idempotency::CallerScope::of_key(crate::helpers::BUTTON_KEY);
    parked["caller"] = scope.as_str().into();
    parked.to_string()
}

/// The button repeated its press during the outage, a quarter of an hour after the first try:
/// both were parked, and the two replays file one ticket (the second finds the first's ticket,
/// opened at the first press time, more than ten minutes before its own).
#[tokio::test]
async fn the_same_key_parked_twice_a_quarter_of_an_hour_apart_files_one_ticket() {
    let queue = Parking::create("quarter", 5).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    let at = |minutes: i64| (chrono::Utc::now() - chrono::Duration::minutes(minutes)).to_rfc3339();
    let body = press(DAN, "Pressed twice during a long outage");
    queue
        .send_raw(&parked_by_button(&at(16), "quarter-key", body.clone()))
        .await;
    queue
        .send_raw(&parked_by_button(&at(1), "quarter-key", body))
        .await;
    let rounds = replay_until_empty(&app, &queue, 4).await;
    assert!(rounds.iter().all(Vec::is_empty), "{rounds:?}");
    assert_eq!(bms.tickets().len(), 1, "{:#?}", bms.tickets());
}

/// An hour into an outage the press was parked; once BMS is back and the replay has filed it,
/// the client's repeat with the same key is answered with that ticket, not filed again.
#[tokio::test]
async fn a_repeat_an_hour_after_a_parked_press_answers_its_ticket() {
    let queue = Parking::create("hour", 5).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    let an_hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let body = press(DAN, "Parked an hour ago");
    queue
        .send_raw(&parked_by_button(&an_hour_ago, "hour-key", body.clone()))
        .await;
    let rounds = replay_until_empty(&app, &queue, 2).await;
    assert!(rounds.iter().all(Vec::is_empty), "{rounds:?}");
    assert_eq!(bms.tickets().len(), 1);
    let again = press_on(&app, &body, Some("hour-key")).await;
    assert_eq!(
        (again.status, again.body["duplicate"].clone()),
        (200, json!(true)),
        "{again:?}"
    );
    assert_eq!(bms.tickets().len(), 1, "{:#?}", bms.tickets());
}

/// A record whose press time no press can have (the calendar's edge, where the replay's
/// arithmetic would overflow) is poison; the good records of its batch are filed all the same.
#[tokio::test]
async fn an_impossible_press_time_is_poison_and_fails_no_other_record() {
    let queue = Parking::create("edge", 5).await;
    let bms = Sandbox::start().await;
    let app = app_parking_on(&bms, &queue, &[]).await;
    let now = chrono::Utc::now().to_rfc3339();
    queue
        .send_raw(&parked_body(&now, "edge-1", press(DAN, "good 1")))
        .await;
    let edge = queue
        .send_raw(&parked_body(
            "-262143-01-01T00:00:00Z",
            "edge-2",
            press(DAN, "edge"),
        ))
        .await;
    queue
        .send_raw(&parked_body(&now, "edge-3", press(DAN, "good 2")))
        .await;
    let event = queue.receive_event(10).await;
    assert_eq!(message_ids(&event).len(), 3);
    assert_eq!(deliver(&app, &queue, &event).await, [edge]);
    assert_eq!(bms.tickets().len(), 2);
}
