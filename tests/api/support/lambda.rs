//! The real `kaseya-button` binary started the way Lambda starts it: a Lambda Runtime API on
//! loopback hands it events one at a time and takes its answers, and the test sees each step
//! with the time it happened.
//!
//! An event handed over before the function is spawned is the request that made Lambda start
//! the container (it waits through init and the first invocation); one handed over after the
//! function first asks for an event is a pre-initialised container's first press.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc};

/// What the function did.
#[derive(Debug)]
pub enum Seen {
    /// Asked for the next event: init is over, or the last event is answered.
    Next(Instant),
    /// Answered an event with this API Gateway response.
    Answer(Instant, Value),
}

struct Shared {
    events: Mutex<mpsc::UnboundedReceiver<String>>,
    serial: std::sync::Mutex<u64>,
    seen: mpsc::UnboundedSender<Result<Seen, String>>,
}

/// The Runtime API. Dropping it stops the server.
pub struct Runtime {
    addr: SocketAddr,
    events: mpsc::UnboundedSender<String>,
    seen: mpsc::UnboundedReceiver<Result<Seen, String>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Runtime {
    pub async fn start() -> Runtime {
        let (events, events_rx) = mpsc::unbounded_channel();
        let (seen_tx, seen) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            events: Mutex::new(events_rx),
            serial: std::sync::Mutex::new(0),
            seen: seen_tx,
        });
        let api = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(answer))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(error))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, api).await;
        });
        Runtime {
            addr,
            events,
            seen,
            server,
        }
    }

    /// The next event the function gets.
    pub fn hand_over(&self, event: String) {
        let _ = self.events.send(event);
    }

    /// The function's next step; panics when it reports an error or takes over 30 s.
    pub async fn seen(&mut self) -> Seen {
        match tokio::time::timeout(Duration::from_secs(30), self.seen.recv()).await {
            Ok(Some(Ok(seen))) => seen,
            Ok(Some(Err(e))) => panic!("the function reported an error to the runtime: {e}"),
            Ok(None) => panic!("the runtime API stopped"),
            Err(_) => panic!("the function did not call the runtime API within 30 s"),
        }
    }

    /// When the function asked for an event; panics if it did something else first.
    pub async fn asked(&mut self) -> Instant {
        match self.seen().await {
            Seen::Next(at) => at,
            other => panic!("expected the function to ask for an event, saw {other:?}"),
        }
    }

    /// When the function answered and its answer; panics if it did something else first.
    pub async fn answered(&mut self) -> (Instant, Value) {
        match self.seen().await {
            Seen::Answer(at, answer) => (at, answer),
            other => panic!("expected an answer, saw {other:?}"),
        }
    }
}

async fn next(State(rt): State<Arc<Shared>>) -> Response {
    let _ = rt.seen.send(Ok(Seen::Next(Instant::now())));
    // Without an event the function waits here, idle, as it does between invocations.
    let Some(event) = rt.events.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let id = {
        let mut serial = rt.serial.lock().unwrap_or_else(|p| p.into_inner());
        *serial += 1;
        format!("request-{serial}")
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        + 30_000;
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", id),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:123456789012:function:kaseya-button".into(),
        ),
        (
            "lambda-runtime-trace-id",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".into(),
        ),
        ("content-type", "application/json".into()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    (headers, event).into_response()
}

async fn answer(State(rt): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    let answer = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let _ = rt.seen.send(Ok(Seen::Answer(Instant::now(), answer)));
    StatusCode::ACCEPTED
}

async fn error(State(rt): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    let _ = rt
        .seen
        .send(Err(String::from_utf8_lossy(&body).into_owned()));
    StatusCode::ACCEPTED
}

/// A BMS sandbox for the binary: `latency` a round trip, over TLS when `tls`, relaying Secrets
/// Manager to this process's moto server, so that the secret's fetch is recorded, delayed and
/// counted with the BMS calls.
pub async fn sandbox(latency: Duration, tls: bool) -> bms_sandbox::Sandbox {
    bms_sandbox::Sandbox::start_with(bms_sandbox::Options {
        latency,
        tls,
        secrets_manager: Some(super::moto::moto().url.clone()),
        ..bms_sandbox::Options::default()
    })
    .await
}

/// The function's environment: BMS and Secrets Manager both reached through `bms`, whose test
/// CA it trusts; the secret `secret_id`; the rules document `rules`; no button keys.
pub fn env(
    bms: &bms_sandbox::Sandbox,
    secret_id: String,
    rules: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("KASEYA_API_URL", bms.url()),
        ("KASEYA_SECRET_ID", secret_id),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", bms.url()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("BUTTON_AUTH", "none".into()),
        ("BUTTON_METRICS", "off".into()),
        ("BUTTON_EXTRA_CA_FILE", test_ca().display().to_string()),
        ("BUTTON_RULES", rules.to_string()),
    ]
}

/// The sandbox's test CA in a file, written once per process: a function starting in one test
/// may be reading it while another test asks for it.
fn test_ca() -> &'static Path {
    static CA: OnceLock<PathBuf> = OnceLock::new();
    CA.get_or_init(|| {
        let ca = std::env::temp_dir().join(format!("bms-sandbox-ca-{}.pem", std::process::id()));
        std::fs::write(&ca, bms_sandbox::TEST_CA_PEM).expect("a temporary file");
        ca
    })
}

/// An HTTP API (payload 2.0) event: a press by `email`.
pub fn press_event(email: &str) -> String {
    let mut ev: Value = serde_json::from_str(include_str!("../../../events/http-v2-ticket.json"))
        .expect("events/ holds valid JSON");
    ev["body"] = json!({"email": email, "message": "My printer is jammed",
                        "selections": ["This is an emergency"]})
    .to_string()
    .into();
    ev.to_string()
}

/// The status of an API Gateway answer.
pub fn status(answer: &Value) -> u64 {
    answer["statusCode"].as_u64().unwrap_or_default()
}

/// A running function, killed when dropped.
pub struct Function {
    child: Child,
}

impl Function {
    /// `binary` under `runtime`, with Lambda's environment and `env` and nothing else.
    pub fn spawn(binary: &str, runtime: &Runtime, env: &[(&str, String)]) -> Function {
        Function::spawn_logging_to(binary, runtime, env, Stdio::null())
    }

    /// The same, its log (what it writes to stdout, as a Lambda function logs) written to `log`.
    pub fn spawn_logging_to(
        binary: &str,
        runtime: &Runtime,
        env: &[(&str, String)],
        log: impl Into<Stdio>,
    ) -> Function {
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "kaseya-button")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/kaseya-button")
            .env("AWS_REGION", "us-east-1")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(Stdio::inherit());
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        Function { child }
    }

    /// The process's id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Stops the process (SIGSTOP), as Lambda freezes a container between invocations.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets it run again (SIGCONT).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args([signal, &self.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {signal} failed");
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
