//! A retried press with the same `Idempotency-Key` answers with the first ticket instead of
//! filing a second one, through the handler and against the fake BMS.

mod markers;

use std::time::Duration;

use bms_sandbox::{Failure, Sandbox};
use serde_json::{Value, json};

use crate::helpers::{
    self, Answer, Gateway, OPERATOR_KEY, TestApp, app_for, event, keyed_event, post_ticket, press,
    read,
};

const KEY: &str = "7d1f3c2a-5b8e-4f0a-9c6d-2e4b8a1f0c93";

impl TestApp {
    async fn keyed(&self, gw: Gateway, body: &Value, key: &str) -> Answer {
        self.send(keyed_event(gw, "/tickets", body, Some(key)))
            .await
    }

    /// `POST /tickets` with the operator key instead of the button key.
    async fn keyed_as_operator(&self, body: &Value, key: &str) -> Answer {
        let auth = format!("Bearer {OPERATOR_KEY}");
        let headers = [
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
            ("Idempotency-Key", key),
        ];
        self.send(event(
            Gateway::HttpV2,
            "POST",
            "/tickets",
            &headers,
            &body.to_string(),
        ))
        .await
    }

    async fn preview_with_key(&self, body: &Value) -> Answer {
        self.send(keyed_event(
            Gateway::HttpV2,
            "/tickets/preview",
            body,
            Some(KEY),
        ))
        .await
    }

    async fn press_with_key(&self, email: &str, key: &str) -> Answer {
        self.keyed(Gateway::HttpV2, &press(email, "Printer is jammed"), key)
            .await
    }

    /// The status of `press` and the BMS calls it made, sorted: the concurrent ones come in
    /// any order.
    async fn calls_of(&self, press: impl Future<Output = Answer>) -> (u16, Vec<String>) {
        self.bms.reset_calls();
        let status = press.await.status;
        let mut calls: Vec<String> = self
            .bms
            .calls()
            .iter()
            .map(|c| format!("{} {}", c.method, c.path))
            .collect();
        calls.sort();
        (status, calls)
    }
}

#[tokio::test]
async fn a_repeat_answers_200_with_the_first_ticket_through_both_gateway_formats() {
    for gw in [Gateway::RestV1, Gateway::HttpV2] {
        let t = TestApp::spawn().await;
        let body = press(
            "dan.jump@fabrikam.com",
            "Outlook keeps asking for my password",
        );
        let first = t.keyed(gw, &body, KEY).await;
        assert_eq!(first.status, 201, "{gw:?}: {first:?}");
        assert!(first.body.get("duplicate").is_none(), "{first:?}");
        let again = t.keyed(gw, &body, KEY).await;
        assert_eq!(again.status, 200, "{gw:?}: {again:?}");
        assert_eq!(again.content_type, "application/json");
        assert_eq!(again.body["duplicate"], true);
        assert_eq!(again.body["ticketId"], first.body["ticketId"]);
        assert_eq!(again.body["ticketNumber"], first.body["ticketNumber"]);
        assert_eq!(again.body["warnings"], json!([]));
        let ticket = t.only_ticket();
        assert_eq!(ticket["Id"], first.body["ticketId"]);
    }
}

#[tokio::test]
async fn the_ticket_carries_a_marker_not_the_key() {
    let t = TestApp::spawn().await;
    assert_eq!(
        t.press_with_key("dan.jump@fabrikam.com", KEY).await.status,
        201
    );
    let ticket = t.only_ticket();
    let details = ticket["Details"].as_str().unwrap();
    let marker = details.lines().last().unwrap();
    assert!(
        marker.starts_with("[Button request ") && marker.ends_with(']'),
        "{details}"
    );
    let token = &marker["[Button request ".len()..marker.len() - 1];
    assert_eq!(token.len(), 24, "{marker}");
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()), "{marker}");
    for call in t.bms.calls() {
        assert!(
            !call.query.contains(KEY) && !call.body.unwrap_or_default().to_string().contains(KEY),
            "the raw key reached BMS: {} {}",
            call.method,
            call.path
        );
    }
    // What the search asked for: the marker, and only tickets of the last ten minutes.
    let search = t
        .bms
        .calls()
        .into_iter()
        .find(|c| c.method == "GET" && c.path == "/v2/servicedesk/tickets")
        .expect("a ticket search");
    let query: Vec<(String, String)> = serde_urlencoded::from_str(&search.query).unwrap();
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(get("Filter.Details"), marker);
    let from = chrono::DateTime::parse_from_rfc3339(&get("Filter.OpenDateFrom")).unwrap();
    let opened =
        chrono::DateTime::parse_from_rfc3339(ticket["OpenDate"].as_str().unwrap()).unwrap();
    assert_eq!((opened - from).num_minutes(), 10, "{from} .. {opened}");
}

#[tokio::test]
async fn another_key_files_another_ticket() {
    let t = TestApp::spawn().await;
    let a = t.press_with_key("dan.jump@fabrikam.com", "key-one").await;
    let b = t.press_with_key("dan.jump@fabrikam.com", "key-two").await;
    assert_eq!((a.status, b.status), (201, 201), "{a:?} {b:?}");
    assert_ne!(a.body["ticketId"], b.body["ticketId"]);
    assert_eq!(t.bms.tickets().len(), 2);
}

#[tokio::test]
async fn the_same_key_from_another_user_files_another_ticket() {
    let t = TestApp::spawn().await;
    let a = t.press_with_key("dan.jump@fabrikam.com", KEY).await;
    let b = t.press_with_key("ann.beebe@northwind.com", KEY).await;
    assert_eq!((a.status, b.status), (201, 201), "{a:?} {b:?}");
    assert_ne!(a.body["ticketId"], b.body["ticketId"]);
    assert_eq!(t.bms.tickets().len(), 2);
    // E-mails match ignoring case, so the same user in other capitals is a repeat.
    let c = t.press_with_key("DAN.JUMP@fabrikam.com", KEY).await;
    assert_eq!(c.status, 200, "{c:?}");
    assert_eq!(c.body["ticketId"], a.body["ticketId"]);
}

#[tokio::test]
async fn a_repeat_within_ten_minutes_is_a_duplicate_and_after_them_a_new_ticket() {
    let t = TestApp::spawn().await;
    let first = t.press_with_key("dan.jump@fabrikam.com", KEY).await;
    assert_eq!(first.status, 201, "{first:?}");
    t.bms.age_tickets(Duration::from_secs(9 * 60));
    let within = t.press_with_key("dan.jump@fabrikam.com", KEY).await;
    assert_eq!(within.status, 200, "{within:?}");
    assert_eq!(within.body["ticketId"], first.body["ticketId"]);
    t.bms.age_tickets(Duration::from_secs(60 + 5));
    let after = t.press_with_key("dan.jump@fabrikam.com", KEY).await;
    assert_eq!(after.status, 201, "{after:?}");
    assert_ne!(after.body["ticketId"], first.body["ticketId"]);
    assert_eq!(t.bms.tickets().len(), 2);
}

#[tokio::test]
async fn an_unusable_key_is_a_400_naming_the_header_and_files_nothing() {
    let t = TestApp::spawn().await;
    let long = "k".repeat(129);
    for key in [long.as_str(), ""] {
        let a = t.press_with_key("dan.jump@fabrikam.com", key).await;
        assert_eq!(a.status, 400, "{a:?}");
        assert_eq!(a.content_type, "application/problem+json");
        assert!(a.detail().contains("Idempotency-Key"), "{a:?}");
    }
    assert!(t.bms.tickets().is_empty());
    let at_limit = t
        .press_with_key("dan.jump@fabrikam.com", &"k".repeat(128))
        .await;
    assert_eq!(at_limit.status, 201, "{at_limit:?}");
}

#[tokio::test]
async fn a_warm_keyed_press_costs_two_calls_more_and_a_repeat_creates_nothing() {
    let t = TestApp::spawn().await;
    let dan = "dan.jump@fabrikam.com";
    assert_eq!(t.press_with_key(dan, "warm-up").await.status, 201);
    let contacts = "GET /v2/crm/contacts/search";
    let search = "GET /v2/servicedesk/tickets";
    let create = "POST /v2/servicedesk/tickets";
    let unkeyed = t.calls_of(t.post_ticket(press(dan, "no key"))).await;
    assert_eq!(unkeyed.0, 201);
    assert_eq!(unkeyed.1, [contacts, create], "no key, no search");
    let keyed = t.calls_of(t.press_with_key(dan, KEY)).await;
    assert_eq!(keyed.0, 201);
    // (Sorted.) The second search makes sure no racing container filed the same press.
    assert_eq!(keyed.1, [contacts, search, search, create]);
    let repeat = t.calls_of(t.press_with_key(dan, KEY)).await;
    assert_eq!(repeat.0, 200);
    assert_eq!(repeat.1, [contacts, search], "a repeat creates nothing");
}

/// Neither search waits for the other's answer: a failing contact search does not stop the
/// ticket search, and a found duplicate does not stop the contact search (sequenced code would
/// skip the second call in one of the two cases).
#[tokio::test]
async fn the_ticket_search_runs_alongside_the_contact_search() {
    let t = TestApp::spawn().await;
    assert_eq!(
        t.press_with_key("dan.jump@fabrikam.com", "warm-up")
            .await
            .status,
        201
    );
    t.bms.reset_calls();
    t.bms.fail_next(
        "GET",
        "/v2/crm/contacts/search",
        Failure::SuccessFalse("Contact search is down".into()),
    );
    let a = t.press_with_key("dan.jump@fabrikam.com", KEY).await;
    assert_eq!(a.status, 502, "{a:?}");
    assert_eq!(t.bms.count("GET", "/v2/servicedesk/tickets"), 1);
    assert!(t.bms.tickets().len() == 1, "only the warm-up ticket");
    t.bms.reset_calls();
    let repeat = t.press_with_key("dan.jump@fabrikam.com", "warm-up").await;
    assert_eq!(repeat.status, 200, "{repeat:?}");
    assert_eq!(t.bms.count("GET", "/v2/crm/contacts/search"), 1);
}

#[tokio::test]
async fn a_repeat_with_attachments_adds_no_second_note() {
    let t = TestApp::spawn().await;
    let mut body = press("dan.jump@fabrikam.com", "See the screenshot");
    body["attachments"] =
        json!([{"name": "s.png", "contentType": "image/png", "data": "aGVsbG8="}]);
    assert_eq!(t.keyed(Gateway::HttpV2, &body, KEY).await.status, 201);
    assert_eq!(t.keyed(Gateway::HttpV2, &body, KEY).await.status, 200);
    assert_eq!(t.bms.tickets().len(), 1);
    assert_eq!(t.bms.notes().len(), 1);
}

/// More failures are queued than one press meets, so the test holds whether or not the BMS
/// client retries a failed search by itself: every answer until the search works is a 503 that
/// filed nothing, and the key then files exactly one ticket.
#[tokio::test]
async fn a_search_bms_may_recover_from_files_nothing_and_asks_for_a_retry() {
    const QUEUED: usize = 6;
    for failure in [
        Failure::Status(500),
        Failure::Status(503),
        Failure::Status(429),
    ] {
        let t = TestApp::spawn().await;
        for _ in 0..QUEUED {
            t.bms
                .fail_next("GET", "/v2/servicedesk/tickets", failure.clone());
        }
        let mut refused = 0;
        let created = loop {
            let a = t.press_with_key("dan.jump@fabrikam.com", KEY).await;
            if a.status != 503 {
                break a;
            }
            refused += 1;
            assert!(refused <= QUEUED, "{failure:?}: still refused: {a:?}");
            assert!(
                a.detail().contains("Nothing was filed")
                    && a.detail().contains("same Idempotency-Key"),
                "{a:?}"
            );
            assert!(t.bms.tickets().is_empty(), "{failure:?}");
        };
        assert!(refused >= 1, "{failure:?}: no press met the failing search");
        assert_eq!(created.status, 201, "{failure:?}: {created:?}");
        assert_eq!(t.bms.tickets().len(), 1);
    }
}

#[tokio::test]
async fn a_search_that_would_always_fail_files_the_ticket_with_a_warning() {
    for failure in [
        Failure::SuccessFalse("Insufficient permissions".into()),
        Failure::Status(403),
    ] {
        let t = TestApp::spawn().await;
        t.bms
            .fail_next("GET", "/v2/servicedesk/tickets", failure.clone());
        let a = t.press_with_key("dan.jump@fabrikam.com", KEY).await;
        assert_eq!(a.status, 201, "{failure:?}: {a:?}");
        let warning = a.body["warnings"][0].as_str().unwrap_or_default();
        assert!(
            warning.contains("Idempotency-Key could not be checked"),
            "{a:?}"
        );
        // The technician sees it in the ticket too, and the marker still lets a later repeat
        // find this ticket.
        let details = t.only_ticket()["Details"].as_str().unwrap().to_string();
        assert!(details.contains("could not be checked"), "{details}");
        let again = t.press_with_key("dan.jump@fabrikam.com", KEY).await;
        assert_eq!(again.status, 200, "{failure:?}: {again:?}");
    }
}

#[tokio::test]
async fn preview_tells_whether_a_press_would_be_a_duplicate() {
    let t = TestApp::spawn().await;
    let body = press("dan.jump@fabrikam.com", "Printer is jammed");
    let before = t.preview_with_key(&body).await;
    assert_eq!(before.status, 200, "{before:?}");
    assert_eq!(before.body["duplicateOf"], Value::Null);
    let marker = before.body["ticket"]["Details"]
        .as_str()
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string();
    assert!(marker.starts_with("[Button request "), "{marker}");
    // A button's press is that key's alone: the operator's preview does not see it.
    let buttons = t.keyed(Gateway::HttpV2, &body, KEY).await;
    assert_eq!(buttons.status, 201);
    let after = t.preview_with_key(&body).await;
    assert_eq!(after.body["duplicateOf"], Value::Null, "{after:?}");
    // The same press from the operator's own key is.
    let first = t.keyed_as_operator(&body, KEY).await;
    assert_eq!(first.status, 201);
    let after = t.preview_with_key(&body).await;
    assert_eq!(after.status, 200, "{after:?}");
    assert_eq!(
        after.body["duplicateOf"]["ticketId"],
        first.body["ticketId"]
    );
    assert_eq!(
        after.body["duplicateOf"]["ticketNumber"],
        first.body["ticketNumber"]
    );
    assert_eq!(t.bms.tickets().len(), 2, "preview files nothing");
}

#[tokio::test]
async fn concurrent_repeats_file_one_ticket_and_every_answer_names_it() {
    const INSTANCES: usize = 4;
    let bms = Sandbox::start().await;
    let mut apps = Vec::new();
    for _ in 0..INSTANCES {
        let app = app_for(&bms, &[]).await;
        // Warm: token, lookups and catch-all cached, so the presses below meet at the searches.
        let a = post_ticket(&app, &press("ann.beebe@northwind.com", "warm")).await;
        assert_eq!(a.status, 201, "{a:?}");
        apps.push(app);
    }
    let warm_tickets = bms.tickets().len();
    // Every search answers only after all of them have been asked: each container finds nothing
    // and files, as two containers taking one press at one moment do.
    bms.set_latency(std::time::Duration::from_millis(150));
    let body = press("dan.jump@fabrikam.com", "Printer on fire");
    let presses = apps.iter().map(|app| {
        let req = helpers::keyed_event(Gateway::HttpV2, "/tickets", &body, Some("double-submit-1"));
        async move { read(app.handle(req).await) }
    });
    let answers = futures_join_all(presses).await;
    let ids: Vec<_> = answers.iter().map(|a| a.body["ticketId"].clone()).collect();
    for a in &answers {
        assert!(matches!(a.status, 200 | 201), "{a:?}");
    }
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "answers differ: {answers:#?}"
    );
    assert_eq!(
        answers.iter().filter(|a| a.status == 201).count(),
        1,
        "one answer files, the others name its ticket: {answers:#?}"
    );
    let filed = bms.tickets().len() - warm_tickets;
    let resolved = bms.resolutions();
    assert_eq!(
        filed - resolved.len(),
        1,
        "one ticket stays open; filed {filed}, resolved {resolved:#?}"
    );
    for (id, body) in &resolved {
        assert_ne!(
            serde_json::Value::from(*id),
            ids[0],
            "the winner was resolved"
        );
        let comment = body["Comment"].as_str().unwrap_or_default();
        assert!(comment.contains("Duplicate of ticket"), "{comment}");
    }
}

/// Run every future at once on this task and collect the outputs in order.
async fn futures_join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut out = Vec::with_capacity(set.len());
    let mut pending: Vec<Option<_>> = set.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.extend(results.into_iter().flatten());
    out
}

/// An `Idempotency-Key` answers its own key's presses only: a press with another key, the same
/// e-mail and the same `Idempotency-Key` (a guess at osTicket's `content-<sha256 …>` key, say)
/// files its own ticket and learns nothing of the first.
#[tokio::test]
async fn another_keys_press_with_the_same_idempotency_key_files_its_own_ticket() {
    let t = TestApp::spawn().await;
    let body = press("dan.jump@fabrikam.com", "Printer is jammed");
    let guessed = "content-0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let mine = t.keyed(Gateway::HttpV2, &body, guessed).await;
    assert_eq!(mine.status, 201, "{mine:?}");
    let theirs = t.keyed_as_operator(&body, guessed).await;
    assert_eq!(theirs.status, 201, "not a duplicate: {theirs:?}");
    assert_ne!(theirs.body["ticketId"], mine.body["ticketId"]);
    assert_eq!(theirs.body.get("duplicate"), None, "{theirs:?}");
    assert_eq!(t.bms.tickets().len(), 2);
    let again = t.keyed(Gateway::HttpV2, &body, guessed).await;
    assert_eq!(
        again.status, 200,
        "the first key's repeat still finds its ticket"
    );
    assert_eq!(again.body["ticketId"], mine.body["ticketId"]);
}
