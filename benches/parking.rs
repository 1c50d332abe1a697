//! What parking costs: a press with a queue configured (nothing, when BMS takes it), a press
//! parked while BMS is down or rate limiting, and the replay of parked presses. Through the
//! handlers, against the BMS sandbox with 40 ms injected per call and moto's SQS on loopback.
//!
//! A table, per case: the wall time (median), the BMS calls and the sequential BMS round trips
//! the sandbox counted, and the SQS messages the case left on the queue or filed from it.
//! moto answers on loopback in a few milliseconds; a real SQS call takes 10-30 ms more.

#[path = "support/app.rs"]
mod app;
#[allow(dead_code)] // its Secrets Manager client is not used here
#[path = "../tests/api/support/moto.rs"]
mod moto;
#[allow(dead_code)] // the tests' inspections of the queue are not used here
#[path = "../tests/api/support/sqs.rs"]
mod sqs;

use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsEvent;
use bms_sandbox::{Failure, Options, Sandbox};
use kaseya_button::App;
use serde_json::{Value, json};
use sqs::Parking;

const LATENCY: Duration = Duration::from_millis(40);
const KNOWN: &str = "dan.jump@fabrikam.com";

async fn app(bms: &Sandbox, queue: &str) -> App {
    app::app(bms, &[("BUTTON_QUEUE_URL", queue.to_string())]).await
}

fn press(n: usize) -> lambda_http::Request {
    let mut ev: Value =
        serde_json::from_str(include_str!("../events/http-v2-ticket.json")).expect("event JSON");
    ev["body"] = json!({"email": KNOWN, "message": format!("Benchmark press {n}")})
        .to_string()
        .into();
    lambda_http::request::from_str(&ev.to_string()).expect("event")
}

async fn answer(app: &App, n: usize) -> u16 {
    app.handle(press(n)).await.status().as_u16()
}

/// One row: wall time, BMS calls and round trips of what `run` did, and the queue's messages.
struct Row {
    wall: Duration,
    calls: usize,
    trips: usize,
    queued: u64,
}

fn print(label: &str, rows: &mut [Row], unit: &str) {
    rows.sort_by_key(|r| r.wall);
    let r = &rows[rows.len() / 2];
    eprintln!(
        "{label:<52} {:>9.1} {:>6} {:>12} {:>14}",
        r.wall.as_secs_f64() * 1000.0,
        r.calls,
        r.trips,
        format!("{} {unit}", r.queued)
    );
}

/// `cargo bench` passes `--bench`; `cargo test --benches` does not, and then one run is enough.
fn runs() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        9
    } else {
        1
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(table());
}

async fn table() {
    let bms = Sandbox::start_with(Options {
        latency: LATENCY,
        ..Options::default()
    })
    .await;
    eprintln!(
        "\nBMS latency {} ms per call, median of {} run(s)",
        LATENCY.as_millis(),
        runs()
    );
    eprintln!(
        "{:<52} {:>9} {:>6} {:>12} {:>14}",
        "case", "wall ms", "calls", "round trips", "SQS messages"
    );

    // A warm press with a queue configured: answered 201, nothing sent to SQS.
    let mut rows = Vec::new();
    for _ in 0..runs() {
        let queue = Parking::create("bench-happy", 100).await;
        let app = app(&bms, &queue.url).await;
        assert_eq!(answer(&app, 0).await, 201);
        bms.reset_calls();
        let started = Instant::now();
        assert_eq!(answer(&app, 1).await, 201);
        rows.push(measure(&bms, &queue, started).await);
    }
    print("warm press, queue configured (201)", &mut rows, "sent");

    for (label, queue_name, failure) in [
        // BMS answers 503 to everything: the retries run out, then the press is parked.
        (
            "warm press, BMS down: 503 on every call (202)",
            "bench-down",
            Failure::Status(503),
        ),
        // BMS rate limits for an hour: no wait fits, the press is parked at once.
        (
            "warm press, BMS 429 Retry-After 3600 (202)",
            "bench-429",
            Failure::StatusRetryAfter(429, "3600".into()),
        ),
    ] {
        let mut rows = Vec::new();
        for _ in 0..runs() {
            let queue = Parking::create(queue_name, 100).await;
            let app = app(&bms, &queue.url).await;
            assert_eq!(answer(&app, 0).await, 201);
            bms.set_outage(Some(failure.clone()));
            bms.reset_calls();
            let started = Instant::now();
            assert_eq!(answer(&app, 1).await, 202);
            rows.push(measure(&bms, &queue, started).await);
            bms.set_outage(None);
        }
        print(label, &mut rows, "sent");
    }

    for (label, presses, warm) in [
        ("replay of 1 parked press, cold container", 1, false),
        ("replay of 1 parked press, warm container", 1, true),
        ("replay of a batch of 10, warm container", 10, true),
    ] {
        let mut rows = Vec::new();
        for _ in 0..runs() {
            let queue = Parking::create("bench-replay", 100).await;
            let intake = app(&bms, &queue.url).await;
            bms.set_outage(Some(Failure::StatusRetryAfter(429, "3600".into())));
            for n in 0..presses {
                assert_eq!(answer(&intake, n).await, 202);
            }
            bms.set_outage(None);
            let replay = app(&bms, &queue.url).await;
            if warm {
                assert_eq!(answer(&replay, 99).await, 201);
            }
            let event: SqsEvent =
                serde_json::from_value(queue.receive_event(10).await).expect("an SQS event");
            let records = event.records.len();
            assert_eq!(records, presses);
            bms.reset_calls();
            let started = Instant::now();
            let failed = replay.replay(event, None).await.batch_item_failures;
            let wall = started.elapsed();
            assert!(failed.is_empty());
            rows.push(Row {
                wall,
                calls: bms.calls().len(),
                trips: bms.round_trips(),
                queued: records as u64,
            });
        }
        print(label, &mut rows, "filed");
    }
    eprintln!();
}

async fn measure(bms: &Sandbox, queue: &Parking, started: Instant) -> Row {
    let wall = started.elapsed();
    Row {
        wall,
        calls: bms.calls().len(),
        trips: bms.round_trips(),
        queued: queue.count().await,
    }
}
