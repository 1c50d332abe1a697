//! Holes found by attacking the function as an outsider with a button key would, each closed and
//! guarded here by a test named after it.

mod helpers;
mod support {
    #[allow(dead_code)] // this binary needs the server, not the client
    pub mod moto;
}

use bms_sandbox::tenant::{
    ACCOUNT_FABRIKAM, ACCOUNT_UNREGISTERED, CONTACT_DAN_JUMP, CONTACT_UNREGISTERED,
    LOCATION_UNREGISTERED, Tenant,
};
use bms_sandbox::{Failure, Options, Sandbox};
use helpers::{
    Answer, BUTTON_KEY, Gateway, OPERATOR_KEY, TestApp, app_for, event, json_event, post_ticket,
    press, read,
};
use support::moto;

fn get(path: &str, key: Option<&str>) -> lambda_http::Request {
    let auth = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    event(Gateway::HttpV2, "GET", path, &headers, "")
}

fn post(path: &str, key: Option<&str>) -> lambda_http::Request {
    let auth = key.map(|k| format!("Bearer {k}"));
    let mut headers = vec![("content-type", "application/json")];
    headers.extend(auth.iter().map(|a| ("authorization", a.as_str())));
    let body = press("dan.jump@fabrikam.com", "Printer jammed").to_string();
    event(Gateway::HttpV2, "POST", path, &headers, &body)
}

#[tokio::test]
async fn routing_by_suffix_files_no_ticket_under_a_foreign_path() {
    let t = TestApp::spawn().await;
    for path in ["/admin/x/tickets", "/anything/health", "/x/tickets/preview"] {
        let a = t.send(post(path, Some(BUTTON_KEY))).await;
        assert_eq!(a.status, 404, "{path}: {a:?}");
        assert!(!a.detail().contains(path), "the path is echoed: {a:?}");
    }
    assert!(t.bms.tickets().is_empty(), "a ticket was filed");
    // The stage of a REST API and a configured base path are the only prefixes taken.
    let a = t.send(post("/tickets", Some(BUTTON_KEY))).await;
    assert_eq!(a.status, 201, "{a:?}");
    let based = TestApp::builder()
        .envs(&[("BUTTON_BASE_PATH", "/helpdesk")])
        .spawn()
        .await;
    let a = based
        .send(post("/helpdesk/tickets", Some(BUTTON_KEY)))
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    let a = based
        .send(json_event(
            Gateway::RestV1,
            "/helpdesk/tickets",
            &press("dan.jump@fabrikam.com", "REST"),
        ))
        .await;
    assert_eq!(a.status, 201, "{a:?}");
}

#[tokio::test]
async fn routing_an_unauthenticated_caller_cannot_tell_whether_preview_is_on() {
    let on = TestApp::builder()
        .envs(&[("BUTTON_PREVIEW", "on")])
        .spawn()
        .await;
    let off = TestApp::builder()
        .envs(&[("BUTTON_PREVIEW", "")])
        .spawn()
        .await;
    let mut answers = Vec::new();
    for t in [&on, &off] {
        for key in [None, Some("wrong-key")] {
            for req in [post("/tickets/preview", key), get("/nowhere", key)] {
                let a: Answer = t.send(req).await;
                answers.push((a.status, a.body.to_string()));
            }
        }
    }
    assert!(
        answers.iter().all(|a| a == &answers[0]),
        "answers differ: {answers:#?}"
    );
    assert_eq!(answers[0].0, 401);
}

/// Dan Jump's contact without a location, and his account without a main one.
fn tenant_without_dans_location() -> Tenant {
    let mut tenant = Tenant::default();
    for c in tenant
        .contacts
        .iter_mut()
        .filter(|c| c.id == CONTACT_DAN_JUMP)
    {
        c.location_id = None;
    }
    for l in tenant
        .locations
        .iter_mut()
        .filter(|l| l.account_id == ACCOUNT_FABRIKAM)
    {
        l.is_main = false;
    }
    tenant
}

#[tokio::test]
async fn location_a_known_contact_without_any_is_filed_and_answered_like_an_unknown_one() {
    let bms = Sandbox::start_with(Options {
        tenant: tenant_without_dans_location(),
        ..Options::default()
    })
    .await;
    let app = app_for(&bms, &[]).await;
    let known = post_ticket(&app, &press("dan.jump@fabrikam.com", "No location")).await;
    let unknown = post_ticket(&app, &press("who@nowhere.example", "No contact")).await;
    assert_eq!(known.status, 201, "{known:?}");
    assert_eq!(unknown.status, 201, "{unknown:?}");
    let keys = |a: &Answer| {
        let mut k: Vec<String> = a
            .body
            .as_object()
            .map_or(Vec::new(), |o| o.keys().cloned().collect());
        k.sort();
        k
    };
    assert_eq!(keys(&known), keys(&unknown));
    assert_eq!(known.body["warnings"], unknown.body["warnings"]);
    let tickets = bms.tickets();
    let ticket = &tickets[0];
    // Filed where a ticket always has a place: the catch-all's account and location, with the
    // reason for the technicians.
    assert_eq!(ticket["AccountId"], ACCOUNT_UNREGISTERED);
    assert_eq!(ticket["LocationId"], LOCATION_UNREGISTERED);
    assert_eq!(ticket["ContactId"], CONTACT_UNREGISTERED);
    let details = ticket["Details"].as_str().unwrap_or_default();
    assert!(details.contains("[Submission Errors]"), "{details}");
    assert!(
        details.contains(&format!("contact {CONTACT_DAN_JUMP}")),
        "{details}"
    );
    assert!(details.contains("dan.jump@fabrikam.com"), "{details}");
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

#[tokio::test]
async fn bms_error_text_does_not_reach_the_caller() {
    let t = TestApp::spawn().await;
    let secret_text = "contact jane.secret@fabrikam.com is locked";
    t.bms.fail_next(
        "POST",
        "/v2/servicedesk/tickets",
        Failure::SuccessFalse(secret_text.into()),
    );
    let a = t.post_ticket(press("dan.jump@fabrikam.com", "x")).await;
    assert_eq!(a.status, 502, "{a:?}");
    assert!(!a.body.to_string().contains("jane.secret"), "{a:?}");
    assert!(
        a.detail().contains("log"),
        "the detail says where to look: {a:?}"
    );
}

#[tokio::test]
async fn health_is_no_amplifier_a_report_is_reused_for_a_minute() {
    let t = TestApp::spawn().await;
    let first = t.send(get("/health", Some(OPERATOR_KEY))).await;
    assert_eq!(first.status, 200, "{first:?}");
    let calls = t.bms.calls().len();
    assert!(calls > 0);
    for _ in 0..5 {
        let again = t.send(get("/health", Some(OPERATOR_KEY))).await;
        assert_eq!(again.status, first.status);
        assert_eq!(again.body, first.body);
    }
    assert_eq!(
        t.bms.calls().len(),
        calls,
        "a repeated report called BMS again"
    );
}

/// A server on loopback that answers every request with `answer` and counts what it received.
async fn fake_server(
    answer: impl Fn() -> axum::response::Response + Clone + Send + Sync + 'static,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let answer = answer.clone();
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            answer()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, hits)
}

#[tokio::test]
async fn redirects_never_carry_the_password_elsewhere() {
    use axum::response::IntoResponse;
    use std::sync::atomic::Ordering;
    let (elsewhere, elsewhere_hits) =
        fake_server(|| (axum::http::StatusCode::OK, "{}").into_response()).await;
    let location = format!("{elsewhere}/v2/security/authenticate");
    let (bms, bms_hits) = fake_server(move || {
        (
            axum::http::StatusCode::TEMPORARY_REDIRECT,
            [(axum::http::header::LOCATION, location.clone())],
        )
            .into_response()
    })
    .await;
    let sandbox = Sandbox::start().await;
    let app = app_for(&sandbox, &[("KASEYA_API_URL", &bms)]).await;
    let a = post_ticket(&app, &press("dan.jump@fabrikam.com", "x")).await;
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.detail().contains("redirect"), "{a:?}");
    assert!(bms_hits.load(Ordering::SeqCst) > 0, "the login went to BMS");
    assert_eq!(
        elsewhere_hits.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
}

#[test]
fn redirects_plain_http_is_refused_but_for_loopback() {
    use kaseya_button::config::Config;
    let config = |url: &str| {
        let vars = [
            ("KASEYA_CREDENTIALS", "Co+user:pw"),
            ("KASEYA_API_URL", url),
        ];
        Config::from_lookup(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    };
    let e = config("http://api.bms.kaseya.com")
        .err()
        .map(|e| e.to_string());
    assert!(
        e.as_deref()
            .is_some_and(|e| e.contains("KASEYA_API_URL") && e.contains("https://")),
        "{e:?}"
    );
    for ok in [
        "https://api.bms.kaseya.com",
        "http://127.0.0.1:9100",
        "http://localhost:9100",
        "http://[::1]:9100",
    ] {
        assert!(config(ok).is_ok(), "{ok}");
    }
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
