//! osTicket's ticket API (`POST /api/tickets.json`) through the handler, as Lambda delivers it,
//! against the fake BMS: what osTicket clients send and how they read the answers. And property
//! tests of the two readers its bodies need: data URLs and HTML.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bms_sandbox::tenant::{QUEUE_ESCALATIONS, QUEUE_SERVICE_DESK};
use bms_sandbox::{Failure, Options, Sandbox};
use kaseya_button::App;
use kaseya_button::osticket::{data_url, html};
use lambda_http::{Body, Request, Response};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{BUTTON_KEY, Gateway, TestApp, app_for, event};
use crate::support;

const ROUTE: &str = "/api/tickets.json";
const NO_REWRITE: &str = "/api/http.php/tickets.json";
/// A 1×1 PNG.
const PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

/// The example of osTicket's API documentation, made valid JSON (the documentation's has a
/// trailing comma) and with a whole PNG instead of the documentation's `R0lGODdhMAA...`.
fn documented_example() -> Value {
    json!({
        "alert": true,
        "autorespond": true,
        "source": "API",
        "name": "Angry User",
        "email": "api@osticket.com",
        "phone": "3185558634X123",
        "subject": "Testing API",
        "ip": "123.211.233.122",
        "message": "data:text/html,MESSAGE <b>HERE</b>",
        "attachments": [
            {"file.txt": "data:text/plain;charset=utf-8,content"},
            {"image.png": format!("data:image/png;base64,{PNG_BASE64}")},
        ],
    })
}

/// An answer as an osTicket client reads it.
#[derive(Debug)]
struct TextAnswer {
    status: u16,
    content_type: String,
    retry_after: Option<String>,
    body: String,
}

fn read(resp: Response<Body>) -> TextAnswer {
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    TextAnswer {
        status: resp.status().as_u16(),
        content_type: header("content-type").unwrap_or_default(),
        retry_after: header("retry-after"),
        body: match resp.body() {
            Body::Text(t) => t.clone(),
            Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
            _ => String::new(),
        },
    }
}

/// A request as osTicket's clients send it: `X-API-Key`, and JSON labelled as a form (what
/// osTicket's PHP client does).
fn osticket_request(gw: Gateway, path: &str, body: &Value) -> Request {
    event(
        gw,
        "POST",
        path,
        &[
            ("X-API-Key", BUTTON_KEY),
            ("content-type", "application/x-www-form-urlencoded"),
            ("user-agent", "osTicket API Client v1.7"),
        ],
        &body.to_string(),
    )
}

async fn send(app: &App, req: Request) -> TextAnswer {
    read(app.handle(req).await)
}

async fn post(app: &App, body: &Value) -> TextAnswer {
    send(app, osticket_request(Gateway::HttpV2, ROUTE, body)).await
}

fn details(ticket: &Value) -> String {
    ticket["Details"].as_str().unwrap_or_default().to_string()
}

fn assert_created(a: &TextAnswer) -> i64 {
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(a.content_type, "text/plain; charset=utf-8");
    assert!(
        !a.body.is_empty() && a.body.chars().all(|c| c.is_ascii_digit()),
        "digits only: {a:?}"
    );
    a.body.parse().expect("a ticket id")
}

#[tokio::test]
async fn the_documented_example_files_a_ticket_with_both_files_through_both_gateways() {
    for gw in [Gateway::RestV1, Gateway::HttpV2] {
        let t = TestApp::spawn().await;
        let a = send(&t.app, osticket_request(gw, ROUTE, &documented_example())).await;
        let id = assert_created(&a);
        let ticket = t.only_ticket();
        assert_eq!(ticket["Id"], id, "{gw:?}: the BMS ticket id, in digits");
        assert_eq!(ticket["Title"], "Testing API");
        let body = details(&ticket);
        assert!(body.contains("\nMESSAGE HERE\n"), "{body}");
        assert!(!body.contains('<') && !body.contains('>'), "{body}");
        for line in [
            "Name: Angry User",
            "Email: api@osticket.com",
            "Phone: 3185558634X123",
            "IP: 123.211.233.122",
            // Which way it came: the osTicket route, whatever the gateway.
            "Channel: osticket",
        ] {
            assert!(body.contains(line), "{line}: {body}");
        }
        let notes = t.bms.notes();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].0, id);
        let files = notes[0].1["Attachments"].as_array().expect("attachments");
        let file = |i: usize| {
            let bytes = STANDARD
                .decode(files[i]["Base64Data"].as_str().expect("base64"))
                .expect("valid base64");
            (files[i]["Name"].clone(), files[i]["Type"].clone(), bytes)
        };
        assert_eq!(
            file(0),
            (json!("file.txt"), json!("text/plain"), b"content".to_vec())
        );
        assert_eq!(
            file(1),
            (
                json!("image.png"),
                json!("image/png"),
                STANDARD.decode(PNG_BASE64).unwrap()
            )
        );
    }
}

#[tokio::test]
async fn json_labelled_as_anything_is_read_on_both_paths_under_a_base_path() {
    let t = TestApp::builder()
        .envs(&[("BUTTON_BASE_PATH", "/helpdesk")])
        .spawn()
        .await;
    let body = |subject: &str| json!({"email": "dan.jump@fabrikam.com", "subject": subject, "message": "Printer jammed"});
    let cases = [
        (Gateway::RestV1, "/helpdesk/api/tickets.json", "form"),
        (
            Gateway::HttpV2,
            "/helpdesk/api/http.php/tickets.json",
            "form",
        ),
        (
            Gateway::RestV1,
            "/helpdesk/api/http.php/tickets.json/",
            "form",
        ),
    ];
    for (i, (gw, path, _)) in cases.iter().enumerate() {
        let a = send(
            &t.app,
            osticket_request(*gw, path, &body(&format!("form {i}"))),
        )
        .await;
        assert_created(&a);
    }
    // No content type, or text/plain, with `Authorization: Bearer`.
    for (i, content_type) in [None, Some("text/plain")].into_iter().enumerate() {
        let auth = format!("Bearer {BUTTON_KEY}");
        let mut headers = vec![("authorization", auth.as_str())];
        headers.extend(content_type.map(|c| ("content-type", c)));
        let req = event(
            Gateway::HttpV2,
            "POST",
            "/helpdesk/api/tickets.json",
            &headers,
            &body(&format!("typed {i}")).to_string(),
        );
        assert_created(&send(&t.app, req).await);
    }
    let tickets = t.bms.tickets();
    assert_eq!(tickets.len(), 5);
    assert!(tickets.iter().all(|t| t["ContactId"] == 101), "Dan Jump's");
    // Only below the base path.
    let a = send(&t.app, osticket_request(Gateway::HttpV2, ROUTE, &body("x"))).await;
    assert_eq!(
        (a.status, a.content_type.as_str()),
        (404, "text/plain; charset=utf-8")
    );
}

#[tokio::test]
async fn messages_as_plain_text_and_data_urls_in_utf8_and_latin1() {
    let t = TestApp::spawn().await;
    let cases = [
        (
            "Printer <b>jammed</b> & stuck",
            "Printer <b>jammed</b> & stuck",
        ),
        (
            "data:text/plain,%C3%89cran%20noir%2C%20caf%C3%A9",
            "Écran noir, café",
        ),
        (
            "data:text/plain;charset=iso-8859-1,%C9cran%20noir",
            "Écran noir",
        ),
        (
            "data:text/plain,%C9cran%20noir%20(Latin-1%20unlabelled)",
            "Écran noir (Latin-1 unlabelled)",
        ),
        (
            "data:text/plain;base64,w4ljcmFuIG5vaXIgKGJhc2U2NCk=",
            "Écran noir (base64)",
        ),
        (
            "data:text/plain;charset=ISO-8859-1;base64,yWNyYW4gbm9pcg==",
            "Écran noir",
        ),
        (
            "data:text/html;charset=utf-8;base64,PHA+SGVsbG8sPC9wPjxwPmNhZsOpPGJyPjxhIGhyZWY9Imh0dHBzOi8va2IuZXhhbXBsZS5jb20iPktCPC9hPjwvcD4=",
            "Hello,\n\ncafé\nKB (https://kb.example.com)",
        ),
        (
            "data:text/html,%3Cul%3E%3Cli%3Eone%3C/li%3E%3Cli%3Etwo%3C/li%3E%3C/ul%3E",
            "- one\n- two",
        ),
    ];
    for (i, (message, text)) in cases.iter().enumerate() {
        let body = json!({"email": "dan.jump@fabrikam.com", "subject": format!("case {i}"), "message": message});
        let a = post(&t.app, &body).await;
        let id = assert_created(&a);
        let tickets = t.bms.tickets();
        let ticket = tickets.iter().find(|t| t["Id"] == id).expect("filed");
        assert!(
            details(ticket).contains(&format!("\n{text}\n")),
            "case {i}: {}",
            details(ticket)
        );
    }
}

#[tokio::test]
async fn a_wrong_or_missing_key_is_refused_in_osticket_words() {
    let t = TestApp::spawn().await;
    let body = documented_example().to_string();
    for headers in [
        vec![],
        vec![("X-API-Key", "wrong-key")],
        vec![("authorization", "Bearer wrong-key")],
        // The caller cannot claim another address: only the key counts here.
        vec![
            ("X-API-Key", "wrong-key"),
            ("x-forwarded-for", "34.202.14.153"),
        ],
    ] {
        let req = event(Gateway::HttpV2, "POST", ROUTE, &headers, &body);
        let a = send(&t.app, req).await;
        assert_eq!(
            (a.status, a.content_type.as_str(), a.body.as_str()),
            (401, "text/plain; charset=utf-8", "Valid API key required"),
            "{headers:?}"
        );
    }
    // Any header case.
    let req = event(
        Gateway::RestV1,
        "POST",
        ROUTE,
        &[("x-Api-KEY", BUTTON_KEY)],
        &body,
    );
    assert_created(&send(&t.app, req).await);
    assert_eq!(t.bms.tickets().len(), 1);
}

#[tokio::test]
async fn bad_bodies_are_400s_that_name_the_field() {
    let t = TestApp::spawn().await;
    let cases = [
        (json!({"subject": "s", "message": "m"}), "email"),
        (
            json!({"email": "not-an-email", "subject": "s", "message": "m"}),
            "email",
        ),
        (json!({"email": "a@b.com", "message": "m"}), "subject"),
        (json!({"email": "a@b.com", "subject": "s"}), "message"),
        (
            json!({"email": "a@b.com", "subject": "s", "message": "data:image/png;base64,AAAA"}),
            "message",
        ),
        (
            json!({"email": "a@b.com", "subject": "s", "message": "m", "attachments": [{"a.png": "data:;base64,@@"}]}),
            "attachments",
        ),
    ];
    for (body, field) in cases {
        let a = post(&t.app, &body).await;
        assert_eq!(a.status, 400, "{body}: {a:?}");
        assert_eq!(a.content_type, "text/plain; charset=utf-8");
        assert!(a.body.starts_with(&format!("field `{field}`: ")), "{a:?}");
        assert!(
            !a.body.contains('\n') && !a.body.contains("{\""),
            "one line of text: {a:?}"
        );
    }
    let req = event(
        Gateway::HttpV2,
        "POST",
        ROUTE,
        &[("X-API-Key", BUTTON_KEY)],
        "email=a%40b.com",
    );
    let a = send(&t.app, req).await;
    assert_eq!(a.status, 400);
    assert!(a.body.contains("not valid JSON"), "{a:?}");
    assert!(t.bms.tickets().is_empty());
}

#[tokio::test]
async fn other_formats_and_methods_are_answered_in_text() {
    let t = TestApp::spawn().await;
    for path in ["/api/tickets.xml", "/api/http.php/tickets.email"] {
        let req = event(
            Gateway::HttpV2,
            "POST",
            path,
            &[("X-API-Key", BUTTON_KEY)],
            "<ticket/>",
        );
        let a = send(&t.app, req).await;
        assert_eq!(a.status, 400, "{a:?}");
        assert_eq!(a.content_type, "text/plain; charset=utf-8");
        assert!(a.body.contains("JSON") && a.body.contains(ROUTE), "{a:?}");
    }
    let req = event(
        Gateway::HttpV2,
        "GET",
        NO_REWRITE,
        &[("X-API-Key", BUTTON_KEY)],
        "",
    );
    let a = send(&t.app, req).await;
    assert_eq!(a.status, 405, "{a:?}");
    assert!(a.body.contains("use POST"), "{a:?}");
    assert!(t.bms.calls().is_empty());
}

#[tokio::test]
async fn a_rule_rejecting_is_a_403_with_its_message() {
    let rules = json!({
        "defaults": {"queue": "Service Desk"},
        "rules": [{"when": "email.endsWith('@osticket.com')", "reject": "Support for this account is suspended."}],
    })
    .to_string();
    let t = TestApp::builder()
        .envs(&[("BUTTON_RULES", &rules)])
        .spawn()
        .await;
    let a = post(&t.app, &documented_example()).await;
    assert_eq!(
        (a.status, a.content_type.as_str(), a.body.as_str()),
        (
            403,
            "text/plain; charset=utf-8",
            "Support for this account is suspended."
        )
    );
    assert!(t.bms.calls().is_empty(), "nothing reached BMS");
}

#[tokio::test]
async fn bms_unavailable_is_a_503_with_retry_after() {
    let t = TestApp::spawn().await;
    t.bms.fail_next(
        "GET",
        "/v2/crm/contacts/search",
        Failure::StatusRetryAfter(429, "60".into()),
    );
    let a = post(&t.app, &documented_example()).await;
    assert_eq!(a.status, 503, "{a:?}");
    assert_eq!(a.content_type, "text/plain; charset=utf-8");
    assert_eq!(a.retry_after.as_deref(), Some("60"));
    assert!(t.bms.tickets().is_empty());
    // The client's retry files the ticket, once.
    let id = assert_created(&post(&t.app, &documented_example()).await);
    assert_created(&post(&t.app, &documented_example()).await);
    assert_eq!(t.only_ticket()["Id"], id);
}

#[tokio::test]
async fn the_same_request_three_times_files_one_ticket() {
    let t = TestApp::spawn().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(assert_created(&post(&t.app, &documented_example()).await));
    }
    assert_eq!(ids, [ids[0]; 3]);
    assert_eq!(t.only_ticket()["Id"], ids[0]);
    assert_eq!(t.bms.notes().len(), 1, "the files once");
    // Another subject is another ticket.
    let mut other = documented_example();
    other["subject"] = "Testing API again".into();
    assert_ne!(assert_created(&post(&t.app, &other).await), ids[0]);
}

#[tokio::test]
async fn two_concurrent_callers_file_one_ticket() {
    let bms = Sandbox::start_with(Options {
        latency: Duration::from_millis(30),
        ..Options::default()
    })
    .await;
    let (a, b) = tokio::join!(app_for(&bms, &[]), app_for(&bms, &[]));
    let body = documented_example();
    let (first, second) = tokio::join!(post(&a, &body), post(&b, &body));
    assert_eq!(assert_created(&first), assert_created(&second));
    // Both may have filed at the same moment; then the later is resolved as the earlier's
    // duplicate, and one ticket stays open.
    let open = bms.tickets().len() - bms.resolutions().len();
    assert_eq!(open, 1, "{:#?}", bms.tickets());
}

#[tokio::test]
async fn a_repeat_within_the_window_answers_the_first_ticket_and_after_it_files_again() {
    let t = TestApp::builder()
        .envs(&[("OSTICKET_DEDUPE_MINUTES", "30")])
        .spawn()
        .await;
    let first = assert_created(&post(&t.app, &documented_example()).await);
    // Twenty minutes later: inside a 30-minute window, beyond the default ten.
    t.bms.age_tickets(Duration::from_secs(20 * 60));
    assert_eq!(
        assert_created(&post(&t.app, &documented_example()).await),
        first
    );
    t.bms.age_tickets(Duration::from_secs(11 * 60));
    assert_ne!(
        assert_created(&post(&t.app, &documented_example()).await),
        first
    );
    assert_eq!(t.bms.tickets().len(), 2);
}

#[tokio::test]
async fn dedupe_switched_off_files_every_request() {
    let t = TestApp::builder()
        .envs(&[("OSTICKET_DEDUPE_MINUTES", "0")])
        .spawn()
        .await;
    let first = assert_created(&post(&t.app, &documented_example()).await);
    let second = assert_created(&post(&t.app, &documented_example()).await);
    assert_ne!(first, second);
    assert_eq!(t.bms.tickets().len(), 2);
    assert_eq!(
        t.bms.count("GET", "/v2/servicedesk/tickets"),
        0,
        "no duplicate search"
    );
}

#[tokio::test]
async fn an_idempotency_key_when_sent_is_used_instead_of_the_content() {
    let t = TestApp::spawn().await;
    let with_key = |key: &str| {
        event(
            Gateway::HttpV2,
            "POST",
            ROUTE,
            &[("X-API-Key", BUTTON_KEY), ("Idempotency-Key", key)],
            &documented_example().to_string(),
        )
    };
    let first = assert_created(&send(&t.app, with_key("k-1")).await);
    assert_eq!(assert_created(&send(&t.app, with_key("k-1")).await), first);
    assert_ne!(assert_created(&send(&t.app, with_key("k-2")).await), first);
}

#[tokio::test]
async fn the_duplicate_search_costs_no_round_trip() {
    let bms = Sandbox::start_with(Options {
        latency: Duration::from_millis(60),
        ..Options::default()
    })
    .await;
    let app = app_for(&bms, &[]).await;
    app.warm_up().await;
    bms.reset_calls();
    assert_created(&post(&app, &documented_example()).await);
    let calls: Vec<String> = bms
        .calls()
        .iter()
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    assert_eq!(bms.count("GET", "/v2/servicedesk/tickets"), 2, "{calls:#?}");
    // Contact search and duplicate search together, then the ticket, then its note beside the
    // search that makes sure no racing container filed the same request.
    assert_eq!(bms.round_trips(), 3, "{calls:#?}");
}

#[tokio::test]
async fn the_answer_may_be_the_ticket_number() {
    let t = TestApp::builder()
        .envs(&[("OSTICKET_ANSWER", "number")])
        .spawn()
        .await;
    let a = post(&t.app, &documented_example()).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(json!(a.body), t.only_ticket()["TicketNumber"]);
}

#[tokio::test]
async fn without_a_name_the_ticket_names_the_contact_or_the_email() {
    let t = TestApp::spawn().await;
    for (email, name) in [
        ("dan.jump@fabrikam.com", "Dan Jump"),
        ("sam.new@contoso.com", "sam.new@contoso.com"),
    ] {
        let body = json!({"email": email, "subject": "No name", "message": "m"});
        let id = assert_created(&post(&t.app, &body).await);
        let tickets = t.bms.tickets();
        let ticket = tickets.iter().find(|t| t["Id"] == id).expect("filed");
        assert!(
            details(ticket).contains(&format!("Name: {name}\n")),
            "{}",
            details(ticket)
        );
    }
}

#[tokio::test]
async fn hostname_and_selections_are_used_for_the_rules() {
    let rules = json!({
        "defaults": {"queue": "Service Desk"},
        "rules": [{"when": "'Urgent' in selections && hostname == 'FAB-LT-042'", "set": {"queue": "Escalations"}}],
    })
    .to_string();
    let t = TestApp::builder()
        .envs(&[("BUTTON_RULES", &rules)])
        .spawn()
        .await;
    let mut body = documented_example();
    body["selections"] = json!(["Urgent"]);
    body["hostname"] = "FAB-LT-042".into();
    assert_created(&post(&t.app, &body).await);
    body["subject"] = "Not urgent".into();
    body["selections"] = json!([]);
    assert_created(&post(&t.app, &body).await);
    let queues: Vec<Value> = t
        .bms
        .tickets()
        .iter()
        .map(|t| t["QueueId"].clone())
        .collect();
    assert_eq!(
        queues,
        [json!(QUEUE_ESCALATIONS), json!(QUEUE_SERVICE_DESK)]
    );
}

// ---- property tests of the readers ----

const TAGS: [&str; 24] = [
    "p", "br", "div", "span", "b", "i", "em", "strong", "a", "ul", "ol", "li", "h1", "h3", "table",
    "tr", "td", "pre", "code", "img", "hr", "font", "section", "x-custom",
];

/// Text with no markup of its own: whatever `<` or `>` the output holds came from a tag.
fn plain_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .,;:!?éü€\n-]{0,20}"
}

/// Random, often broken, HTML: tags with attributes, nested, closed or not, and scripts and
/// styles whose content must never show.
fn html_doc() -> impl Strategy<Value = String> {
    let attr = prop_oneof![
        Just(String::new()),
        Just(" href=\"https://example.com/a?b=1&amp;c=2\"".to_string()),
        Just(" class='x' id=y".to_string()),
        Just(" alt=\"screen shot\" src=s.png".to_string()),
        Just(" style=\"color: red\"".to_string()),
    ];
    let open = (prop::sample::select(TAGS.to_vec()), attr).prop_map(|(t, a)| format!("<{t}{a}>"));
    let close = prop::sample::select(TAGS.to_vec()).prop_map(|t| format!("</{t}>"));
    let piece = prop_oneof![
        4 => plain_text(),
        3 => open,
        2 => close,
        1 => Just("<script>var SECRETSCRIPT = '<b>';</script>".to_string()),
        1 => Just("<style>p { SECRETSTYLE: 1 }</style>".to_string()),
        // Decoded; `&lt;` and `&gt;` are left out, as they decode to what a tag is made of.
        1 => Just("&amp;&quot;&#233;&nbsp;&bogus;".to_string()),
        1 => Just("<!-- a comment -->".to_string()),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(support::cases::config())]

    #[test]
    fn data_urls_never_panic(s in "(data:|DATA:)?[ -~]{0,60}", bytes in prop::collection::vec(any::<u8>(), 0..60)) {
        let _ = data_url::parse(&s);
        let _ = data_url::parse(&format!("data:text/plain;base64,{s}"));
        for charset in [None, Some("utf-8"), Some("iso-8859-1"), Some("us-ascii"), Some(s.as_str())] {
            let _ = data_url::text(&bytes, charset);
        }
    }

    #[test]
    fn data_urls_give_back_what_was_encoded(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let b64 = format!("data:application/octet-stream;base64,{}", STANDARD.encode(&bytes));
        prop_assert_eq!(data_url::parse(&b64).unwrap().data, bytes.clone());
        let escaped: String = bytes.iter().map(|b| format!("%{b:02X}")).collect();
        let url = data_url::parse(&format!("data:,{escaped}")).unwrap();
        prop_assert_eq!(url.data, bytes.clone());
        // Undeclared text is UTF-8 or else Latin-1, never an error.
        let text = data_url::text(&bytes, None).unwrap();
        match std::str::from_utf8(&bytes) {
            Ok(s) => prop_assert_eq!(text, s),
            Err(_) => prop_assert_eq!(text.chars().count(), bytes.len()),
        }
    }

    #[test]
    fn html_never_panics_and_no_tag_survives(doc in html_doc()) {
        let text = html::to_text(&doc).unwrap();
        prop_assert!(!text.contains('<') && !text.contains('>'), "{doc:?} -> {text:?}");
        prop_assert!(!text.contains("SECRETSCRIPT") && !text.contains("SECRETSTYLE"), "{text:?}");
        prop_assert!(!text.contains("&amp;") && !text.contains("&quot;"), "{text:?}");
    }

    #[test]
    fn html_of_any_text_never_panics(s in ".{0,200}") {
        let _ = html::to_text(&s);
    }

    #[test]
    fn osticket_bodies_never_panic(
        message in prop_oneof![".{0,40}", "data:[a-z/]{0,12}(;charset=[a-z0-9-]{0,10})?(;base64)?,[ -~]{0,40}"],
        attachment in prop_oneof![
            Just(Value::Null),
            "[ -~]{0,30}".prop_map(|d| json!([{"f.txt": d}])),
            "[ -~]{0,30}".prop_map(|d| json!([{"name": "f", "data": d, "encoding": "base64"}])),
        ],
    ) {
        let body = json!({"email": "a@b.com", "subject": "s", "message": message, "attachments": attachment});
        let _ = kaseya_button::osticket::parse(body.to_string().as_bytes());
    }
}

/// The secret with named button keys: one limited to the events' source address
/// (`203.0.113.10`), one to an address the request does not come from.
async fn app_with_named_keys(rules: &str) -> TestApp {
    let secret = json!({
        "credentials": bms_sandbox::CREDENTIALS,
        "buttonKeys": [
            {"key": "contoso-office-key-0123", "name": "contoso-office", "allowFrom": ["203.0.113.0/24"]},
            {"key": "elsewhere-key-0123456789", "name": "elsewhere", "allowFrom": ["198.51.100.7"]},
        ],
    });
    TestApp::builder()
        .env("KASEYA_CREDENTIALS", &secret.to_string())
        .env("BUTTON_RULES", rules)
        .spawn()
        .await
}

fn keyed_osticket(key: &str, extra: &[(&str, &str)]) -> Request {
    let mut headers = vec![("X-API-Key", key), ("content-type", "application/json")];
    headers.extend_from_slice(extra);
    event(
        Gateway::HttpV2,
        "POST",
        ROUTE,
        &headers,
        &documented_example().to_string(),
    )
}

#[tokio::test]
async fn a_key_from_a_wrong_address_is_refused_and_forwarded_for_is_ignored() {
    let t = app_with_named_keys(r#"{"defaults": {"queue": "Service Desk"}}"#).await;
    let wrong = send(&t.app, keyed_osticket("no-such-key-0123456789", &[])).await;
    assert_eq!(
        (wrong.status, wrong.body.as_str()),
        (401, "Valid API key required")
    );
    // The right key from an address it may not be used from, claiming in a header to come from
    // one it may: refused like a wrong key.
    let elsewhere = send(
        &t.app,
        keyed_osticket(
            "elsewhere-key-0123456789",
            &[("X-Forwarded-For", "198.51.100.7")],
        ),
    )
    .await;
    assert_eq!(
        (elsewhere.status, elsewhere.body.as_str()),
        (401, "Valid API key required")
    );
    assert!(t.bms.tickets().is_empty());
    assert_created(&send(&t.app, keyed_osticket("contoso-office-key-0123", &[])).await);
}

#[tokio::test]
async fn the_button_variable_routes_by_the_keys_name() {
    let rules = json!({
        "defaults": {"queue": "Service Desk"},
        "rules": [{"when": "button == 'contoso-office'", "set": {"queue": "Escalations"}}],
    })
    .to_string();
    let t = app_with_named_keys(&rules).await;
    assert_created(&send(&t.app, keyed_osticket("contoso-office-key-0123", &[])).await);
    assert_eq!(t.bms.tickets()[0]["QueueId"], QUEUE_ESCALATIONS);
    // An unnamed key (the helpers' BUTTON_KEY) leaves `button` empty.
    let plain = TestApp::builder().env("BUTTON_RULES", &rules).spawn().await;
    assert_created(&post(&plain.app, &documented_example()).await);
    assert_eq!(plain.bms.tickets()[0]["QueueId"], QUEUE_SERVICE_DESK);
}

/// Two button keys, each usable from the events' address.
async fn app_with_two_keys() -> TestApp {
    let secret = json!({
        "credentials": bms_sandbox::CREDENTIALS,
        "buttonKeys": ["victim-key-0123456789", "other-key-0123456789"],
    });
    TestApp::builder()
        .env("KASEYA_CREDENTIALS", &secret.to_string())
        .spawn()
        .await
}

/// Content dedupe answers a key's own request only: another key sending the same e-mail,
/// subject, message and attachment names first neither captures the victim's request nor
/// learns, from the answer, that the victim's ticket exists.
#[tokio::test]
async fn another_keys_identical_request_is_its_own_ticket() {
    let t = app_with_two_keys().await;
    let first = send(&t.app, keyed_osticket("other-key-0123456789", &[])).await;
    assert_created(&first);
    let victims = send(&t.app, keyed_osticket("victim-key-0123456789", &[])).await;
    assert_created(&victims);
    assert_ne!(
        victims.body, first.body,
        "the victim's request filed its own ticket"
    );
    assert_eq!(t.bms.tickets().len(), 2);
    // Each key's own repeat still answers its own ticket and files nothing.
    let again = send(&t.app, keyed_osticket("victim-key-0123456789", &[])).await;
    assert_eq!(again.body, victims.body);
    let again = send(&t.app, keyed_osticket("other-key-0123456789", &[])).await;
    assert_eq!(again.body, first.body);
    assert_eq!(t.bms.tickets().len(), 2);
}
