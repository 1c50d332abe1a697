//! Which path reaches which endpoint: only the exact path below a REST API's stage and the
//! configured base path, and nothing said of an endpoint to a caller without a key.

use crate::helpers::{Answer, BUTTON_KEY, Gateway, TestApp, get, json_event, post, press};

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
