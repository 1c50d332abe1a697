//! Shared by the black-box tests: the function built as Lambda builds it, a fake BMS on loopback,
//! and real API Gateway events (the files in `events/`) carrying the request.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::OnceLock;

use bms_sandbox::{CREDENTIALS, Options, Sandbox};
use kaseya_button::App;
use kaseya_button::config::Config;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use crate::support::moto;

pub const BUTTON_KEY: &str = "test-button-key-0123456789";
pub const OPERATOR_KEY: &str = "test-operator-key-9876543210";

/// The secret as the tests give it through `KASEYA_CREDENTIALS`: the sandbox's API user, one
/// button key and one operator key.
pub fn secret_json() -> String {
    json!({"credentials": CREDENTIALS, "buttonKeys": [BUTTON_KEY], "operatorKeys": [OPERATOR_KEY]})
        .to_string()
}

/// The key a test presents on `path`: the operator key where only an operator may go.
pub fn key_for(path: &str) -> &'static str {
    if path.ends_with("/health")
        || path.contains("/tickets/preview")
        || path.ends_with("/rules/try")
    {
        OPERATOR_KEY
    } else {
        BUTTON_KEY
    }
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
    /// The `Retry-After` header, when there is one.
    pub retry_after: Option<String>,
    pub body: Value,
}

impl Answer {
    pub fn detail(&self) -> &str {
        self.body["detail"].as_str().unwrap_or_default()
    }
}

/// Build the App from `vars` on top of a configuration that points at `bms`, with
/// `/tickets/preview` switched on. A var set to `""` is removed. For a second App on the BMS of a
/// [`TestApp`]; a first one comes from [`TestApp::builder`].
pub async fn app_for(bms: &Sandbox, vars: &[(&str, &str)]) -> App {
    app_with_secrets_manager(bms, vars, None).await
}

/// [`app_for`], reading its secret (when `KASEYA_SECRET_ID` is set) from Secrets Manager at
/// `secrets_manager`, or from moto when `None`.
async fn app_with_secrets_manager(
    bms: &Sandbox,
    vars: &[(&str, &str)],
    secrets_manager: Option<&str>,
) -> App {
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
    let config = Config::from_lookup(|k| env.get(k).cloned());
    if env.contains_key("KASEYA_SECRET_ID") {
        moto::with_secrets_manager_at(secrets_manager, App::new(config)).await
    } else {
        App::new(config).await
    }
}

/// Retry pauses short enough that tests of throttling and outages take milliseconds; nothing
/// measures them.
pub const FAST_RETRIES: [(&str, &str); 2] =
    [("KASEYA_RETRY_BASE_MS", "5"), ("KASEYA_RETRY_CAP_MS", "20")];

/// How a [`TestApp`] is made: its settings on top of [`app_for`]'s, the sandbox it talks to,
/// and whether it has served a press already.
#[derive(Default)]
pub struct TestAppBuilder {
    vars: Vec<(String, String)>,
    secrets_manager: Option<String>,
    sandbox: Options,
    warm: bool,
}

impl TestAppBuilder {
    /// One setting; `""` removes it.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.vars.push((name.to_string(), value.to_string()));
        self
    }

    /// Several settings, later ones winning.
    pub fn envs(self, vars: &[(&str, &str)]) -> Self {
        vars.iter().fold(self, |b, (k, v)| b.env(k, v))
    }

    /// Short pauses between retries: [`FAST_RETRIES`].
    pub fn fast_retries(self) -> Self {
        self.envs(&FAST_RETRIES)
    }

    /// BMS credentials and button keys read from Secrets Manager under `id`, not from
    /// `KASEYA_CREDENTIALS`.
    pub fn secret_id(self, id: &str) -> Self {
        self.env("KASEYA_CREDENTIALS", "")
            .env("KASEYA_SECRET_ID", id)
    }

    /// Secrets Manager at `url` for this function's secret rather than moto: one that refuses
    /// connections or never answers.
    pub fn secrets_manager_at(mut self, url: &str) -> Self {
        self.secrets_manager = Some(url.to_string());
        self
    }

    /// A sandbox started with these options rather than the defaults.
    pub fn sandbox(mut self, options: Options) -> Self {
        self.sandbox = options;
        self
    }

    /// Let the function file one ticket for a known contact first, then forget the calls: the
    /// token, the catch-all contact and the lookups are cached, so the only contact search of
    /// the next press is the user's own.
    pub fn warm(mut self) -> Self {
        self.warm = true;
        self
    }

    /// Start the sandbox and build the function against it.
    pub async fn spawn(self) -> TestApp {
        let bms = Sandbox::start_with(self.sandbox).await;
        let vars: Vec<(&str, &str)> = self
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let app = app_with_secrets_manager(&bms, &vars, self.secrets_manager.as_deref()).await;
        let t = TestApp { app, bms };
        if self.warm {
            let a = t
                .post_ticket(press("dan.jump@fabrikam.com", "Warming up"))
                .await;
            assert_eq!(a.status, 201, "the warm-up press: {a:?}");
            t.bms.reset_calls();
        }
        t
    }
}

impl TestApp {
    /// The function with the helpers' settings, against a fresh sandbox.
    pub async fn spawn() -> TestApp {
        TestApp::builder().spawn().await
    }

    /// The function with other settings, another sandbox, or warm.
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
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

    /// `POST /tickets` as [`TestApp::post_ticket`], answered 201: the one ticket BMS received.
    pub async fn file_ticket(&self, body: Value) -> Value {
        let a = self.post_ticket(body).await;
        assert_eq!(a.status, 201, "{a:?}");
        self.only_ticket()
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
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = match resp.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::String(t.clone())),
        Body::Binary(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    Answer {
        status,
        content_type,
        retry_after,
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
    let auth = format!("Bearer {}", key_for(path));
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
        Gateway::RestV1 => serde_json::from_str(include_str!("../../events/rest-v1-ticket.json")),
        Gateway::HttpV2 => serde_json::from_str(include_str!("../../events/http-v2-ticket.json")),
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

/// `GET path`, with `key` as a bearer token when given.
pub fn get(path: &str, key: Option<&str>) -> Request {
    let auth = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    event(Gateway::HttpV2, "GET", path, &headers, "")
}

/// A press of Dan Jump's posted as JSON to `path`, with `key` as a bearer token when given.
pub fn post(path: &str, key: Option<&str>) -> Request {
    let auth = key.map(|k| format!("Bearer {k}"));
    let mut headers = vec![("content-type", "application/json")];
    headers.extend(auth.iter().map(|a| ("authorization", a.as_str())));
    let body = press("dan.jump@fabrikam.com", "Printer jammed").to_string();
    event(Gateway::HttpV2, "POST", path, &headers, &body)
}

/// A JSON body with the fields every request needs.
pub fn press(email: &str, message: &str) -> Value {
    json!({"email": email, "message": message})
}

/// The URL of a loopback port nothing listens on.
pub fn closed_port_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port");
    format!("http://127.0.0.1:{port}")
}

/// The URL of a loopback port that takes connections and never answers; the listener lives as
/// long as the test process.
pub fn hanging_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                held.push(stream);
            }
        });
        url
    })
}
