//! Shared by the black-box tests: the function built as Lambda builds it, a fake BMS on loopback,
//! and real API Gateway events (the files in `events/`) carrying the request.
#![allow(dead_code)] // each test binary uses its own part of this

use std::collections::HashMap;

use bms_sandbox::{CREDENTIALS, Sandbox};
use kaseya_button::App;
use kaseya_button::config::Config;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

pub const BUTTON_KEY: &str = "test-button-key-0123456789";

/// The secret as the tests give it through `KASEYA_CREDENTIALS`: the sandbox's API user and one
/// button key.
pub fn secret_json() -> String {
    json!({"credentials": CREDENTIALS, "buttonKeys": [BUTTON_KEY]}).to_string()
}

pub struct TestApp {
    pub app: App,
    pub bms: Sandbox,
}

/// The answer, read back.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
}

impl Answer {
    pub fn detail(&self) -> &str {
        self.body["detail"].as_str().unwrap_or_default()
    }
}

/// Build the App from `vars` on top of a configuration that points at `bms`, with
/// `/tickets/preview` switched on. A var set to `""` is removed.
pub async fn app_for(bms: &Sandbox, vars: &[(&str, &str)]) -> App {
    let mut env: HashMap<String, String> = HashMap::from([
        ("KASEYA_API_URL".to_string(), bms.url()),
        ("KASEYA_CREDENTIALS".to_string(), secret_json()),
        (
            "BUTTON_RULES".to_string(),
            json!({"defaults": {"queue": "Service Desk"}}).to_string(),
        ),
        ("BUTTON_PREVIEW".to_string(), "on".to_string()),
    ]);
    for (k, v) in vars {
        if v.is_empty() {
            env.remove(*k);
        } else {
            env.insert(k.to_string(), v.to_string());
        }
    }
    App::new(Config::from_lookup(|k| env.get(k).cloned())).await
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(&[]).await
    }

    pub async fn spawn_with(vars: &[(&str, &str)]) -> TestApp {
        let bms = Sandbox::start().await;
        let app = app_for(&bms, vars).await;
        TestApp { app, bms }
    }

    pub async fn send(&self, req: Request) -> Answer {
        read(self.app.handle(req).await)
    }

    /// `POST /tickets` with a JSON body and the button key, through an HTTP API (v2) event.
    pub async fn post_ticket(&self, body: Value) -> Answer {
        self.send(json_event(Gateway::HttpV2, "/tickets", &body))
            .await
    }

    pub async fn preview(&self, body: Value) -> Answer {
        self.send(json_event(Gateway::HttpV2, "/tickets/preview", &body))
            .await
    }

    /// The one ticket BMS received.
    pub fn only_ticket(&self) -> Value {
        let tickets = self.bms.tickets();
        assert_eq!(
            tickets.len(),
            1,
            "expected one ticket in BMS, got {tickets:#?}"
        );
        tickets[0].clone()
    }
}

/// `POST /tickets` with the button key, to an App built outside a [`TestApp`].
pub async fn post_ticket(app: &App, body: &Value) -> Answer {
    read(
        app.handle(json_event(Gateway::HttpV2, "/tickets", body))
            .await,
    )
}

/// `POST /tickets` without any key, as under `BUTTON_AUTH=none`.
pub fn unkeyed_event(body: &Value) -> Request {
    event(
        Gateway::HttpV2,
        "POST",
        "/tickets",
        &[("content-type", "application/json")],
        &body.to_string(),
    )
}

pub fn read(resp: Response<Body>) -> Answer {
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = match resp.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::String(t.clone())),
        Body::Binary(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    Answer {
        status,
        content_type,
        body,
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Gateway {
    /// API Gateway REST API, payload format 1.0 (stage `Prod` in the path).
    RestV1,
    /// API Gateway HTTP API, payload format 2.0.
    HttpV2,
}

pub fn json_event(gw: Gateway, path: &str, body: &Value) -> Request {
    keyed_event(gw, path, body, None)
}

/// Like [`json_event`], with an `Idempotency-Key` header when `idempotency_key` is given.
pub fn keyed_event(
    gw: Gateway,
    path: &str,
    body: &Value,
    idempotency_key: Option<&str>,
) -> Request {
    let auth = format!("Bearer {BUTTON_KEY}");
    let mut headers = vec![
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    if let Some(key) = idempotency_key {
        headers.push(("Idempotency-Key", key));
    }
    event(gw, "POST", path, &headers, &body.to_string())
}

/// A real API Gateway event (from `events/`) with the method, path, headers and body replaced,
/// turned into a request the way the Lambda runtime does it.
pub fn event(
    gw: Gateway,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Request {
    let mut ev: Value = match gw {
        Gateway::RestV1 => serde_json::from_str(include_str!("../events/rest-v1-ticket.json")),
        Gateway::HttpV2 => serde_json::from_str(include_str!("../events/http-v2-ticket.json")),
    }
    .expect("events/ holds valid JSON");
    let map: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    match gw {
        Gateway::RestV1 => {
            ev["httpMethod"] = method.into();
            ev["requestContext"]["httpMethod"] = method.into();
            ev["path"] = path.into();
            ev["resource"] = path.into();
            ev["requestContext"]["path"] = format!("/Prod{path}").into();
            ev["multiValueHeaders"] = map
                .iter()
                .map(|(k, v)| (k.clone(), json!([v])))
                .collect::<serde_json::Map<_, _>>()
                .into();
            ev["headers"] = map.into();
        }
        Gateway::HttpV2 => {
            ev["routeKey"] = format!("{method} {path}").into();
            ev["requestContext"]["routeKey"] = format!("{method} {path}").into();
            ev["rawPath"] = path.into();
            ev["requestContext"]["http"]["method"] = method.into();
            ev["requestContext"]["http"]["path"] = path.into();
            ev["headers"] = map.into();
        }
    }
    ev["body"] = body.into();
    ev["isBase64Encoded"] = false.into();
    lambda_http::request::from_str(&ev.to_string()).expect("a valid API Gateway event")
}

/// A JSON body with the fields every request needs.
pub fn press(email: &str, message: &str) -> Value {
    json!({"email": email, "message": message})
}
