//! Where the BMS password may go: only to the BMS URL configured, never along a redirect, and in
//! plain HTTP only on loopback.

use bms_sandbox::Sandbox;

use crate::helpers::{app_for, post_ticket, press};

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
