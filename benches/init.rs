//! The real `kaseya-button` binary started as Lambda starts it: a tiny Lambda Runtime API on
//! loopback hands it API Gateway events, the BMS sandbox stands behind it.
//!
//! Measured per start: init (process spawned to its first `GET .../invocation/next`, so
//! configuration, clients and the warm-up with its BMS round trips included), the median time
//! from handing over an event to receiving the answer, and the peak resident memory (`VmHWM`)
//! after every event was answered.
//!
//!     cargo bench --bench init                               # the bench-profile binary
//!     cargo bench --bench init -- target/release/kaseya-button   # any other build of it

use std::collections::VecDeque;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bms_sandbox::{CREDENTIALS, Options, Sandbox};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// What the function did, in the order it did it.
#[derive(Debug)]
enum Seen {
    /// Asked for the next event.
    Next(Instant),
    /// Answered an event with this HTTP status.
    Answer(Instant, u16),
    /// Reported an error to the runtime (init or invocation).
    Error(String),
}

struct FakeRuntime {
    events: Mutex<VecDeque<String>>,
    serial: Mutex<u64>,
    seen: mpsc::UnboundedSender<Seen>,
}

impl FakeRuntime {
    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

async fn next(State(rt): State<Arc<FakeRuntime>>) -> Response {
    let _ = rt.seen.send(Seen::Next(Instant::now()));
    let event = FakeRuntime::lock(&rt.events).pop_front();
    let Some(event) = event else {
        // Out of events: the function waits here, idle, as it would between invocations.
        std::future::pending::<()>().await;
        return StatusCode::NO_CONTENT.into_response();
    };
    let id = {
        let mut serial = FakeRuntime::lock(&rt.serial);
        *serial += 1;
        format!("bench-request-{serial}")
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        + 30_000;
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", id);
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:kaseya-button".into(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".into(),
    );
    set("content-type", "application/json".into());
    (headers, event).into_response()
}

async fn answer(State(rt): State<Arc<FakeRuntime>>, body: Bytes) -> StatusCode {
    let status = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["statusCode"].as_u64())
        .unwrap_or_default();
    let _ = rt
        .seen
        .send(Seen::Answer(Instant::now(), status.try_into().unwrap_or(0)));
    StatusCode::ACCEPTED
}

async fn error(State(rt): State<Arc<FakeRuntime>>, body: Bytes) -> StatusCode {
    let _ = rt
        .seen
        .send(Seen::Error(String::from_utf8_lossy(&body).into_owned()));
    StatusCode::ACCEPTED
}

/// An HTTP API (payload 2.0) event: a press by a known contact.
fn event() -> String {
    let mut ev: Value = serde_json::from_str(include_str!("../events/http-v2-ticket.json"))
        .expect("events/ holds valid JSON");
    ev["body"] = json!({"email": "dan.jump@fabrikam.com", "message": "Benchmark press",
                        "selections": ["This is an emergency"]})
    .to_string()
    .into();
    ev.to_string()
}

struct Run {
    init: Duration,
    invocations: Vec<Duration>,
    peak_kib: u64,
}

/// Kills the function when the run ends, however it ends.
struct Function(Child);

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn one_start(binary: &str, bms: &Sandbox, events: usize) -> Run {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let rt = Arc::new(FakeRuntime {
        events: Mutex::new((0..events).map(|_| event()).collect()),
        serial: Mutex::new(0),
        seen: tx,
    });
    let api = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(answer))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(error))
        .with_state(rt);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, api).await;
    });

    let started = Instant::now();
    let child = Command::new(binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "kaseya-button")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/kaseya-button")
        .env("AWS_REGION", "us-east-1")
        .env("KASEYA_API_URL", bms.url())
        .env("KASEYA_CREDENTIALS", CREDENTIALS)
        .env("BUTTON_AUTH", "none")
        .env("BUTTON_RULES", include_str!("../docs/rules.example.json"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
    let function = Function(child);
    let pid = function.0.id();

    let mut wait = async || match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
        Ok(Some(Seen::Error(e))) => panic!("the function reported an error: {e}"),
        Ok(Some(seen)) => seen,
        Ok(None) => panic!("the fake runtime stopped"),
        Err(_) => panic!("the function did not call the runtime within 30 s"),
    };
    let Seen::Next(ready) = wait().await else {
        panic!("the function answered before asking for an event")
    };
    let init = ready - started;
    let mut invocations = Vec::with_capacity(events);
    let mut handed = ready;
    for _ in 0..events {
        let Seen::Answer(at, status) = wait().await else {
            panic!("expected an answer")
        };
        assert_eq!(status, 201, "the press did not create a ticket");
        invocations.push(at - handed);
        let Seen::Next(at) = wait().await else {
            panic!("expected the next request for an event")
        };
        handed = at;
    }
    // Every event answered and the function idle in `next`: its peak is final.
    let peak_kib = peak_rss_kib(pid);
    drop(function);
    server.abort();
    Run {
        init,
        invocations,
        peak_kib,
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: one short run then.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--bench");
    let binary = args
        .iter()
        .find(|a| !a.starts_with('-'))
        .cloned()
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_kaseya-button").to_string());
    let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
    let (starts, events) = if full { (10, 100) } else { (1, 3) };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "{binary} ({:.1} MB), {starts} start(s) x {events} events each",
        size as f64 / 1e6
    );
    println!(
        "{:>16} {:>16} {:>16} {:>16} {:>14}",
        "BMS latency", "init median ms", "init max ms", "press median ms", "peak RSS MB"
    );
    for latency in [Duration::ZERO, Duration::from_millis(40)] {
        let runs: Vec<Run> = rt.block_on(async {
            let bms = Sandbox::start_with(Options {
                latency,
                ..Options::default()
            })
            .await;
            let mut runs = Vec::new();
            for _ in 0..starts {
                runs.push(one_start(&binary, &bms, events).await);
            }
            runs
        });
        let inits: Vec<Duration> = runs.iter().map(|r| r.init).collect();
        let max_init = inits.iter().max().copied().unwrap_or_default();
        let presses: Vec<Duration> = runs.iter().flat_map(|r| r.invocations.clone()).collect();
        let peak = runs.iter().map(|r| r.peak_kib).max().unwrap_or(0);
        println!(
            "{:>13} ms {:>16.1} {:>16.1} {:>16.2} {:>14.1}",
            latency.as_millis(),
            ms(median(inits)),
            ms(max_init),
            ms(median(presses)),
            peak as f64 / 1024.0
        );
    }
}
