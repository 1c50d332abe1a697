//! A button press through the handler against the BMS sandbox with injected latency: how long a
//! cold container (login and lookups) and a warm one take, and how many BMS round trips each
//! makes. The latency stands in for the distance to a real BMS region.

use std::time::Duration;

use bms_sandbox::{CREDENTIALS, Options, Sandbox};
use criterion::{Criterion, criterion_group, criterion_main};
use kaseya_button::App;
use kaseya_button::config::Config;
use serde_json::json;

const LATENCY: Duration = Duration::from_millis(20);

async fn app(bms: &Sandbox) -> App {
    let env = [
        ("KASEYA_API_URL", bms.url()),
        ("KASEYA_CREDENTIALS", CREDENTIALS.to_string()),
        ("BUTTON_AUTH", "none".to_string()),
        (
            "BUTTON_RULES",
            include_str!("../docs/rules.example.json").to_string(),
        ),
    ];
    App::new(Config::from_lookup(|k| {
        env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    }))
    .await
}

fn press(email: &str) -> lambda_http::Request {
    let mut ev: serde_json::Value =
        serde_json::from_str(include_str!("../events/http-v2-ticket.json")).expect("event JSON");
    ev["body"] = json!({"email": email, "message": "Benchmark press", "selections": ["This is an emergency"]})
        .to_string()
        .into();
    lambda_http::request::from_str(&ev.to_string()).expect("event")
}

async fn one(app: &App, email: &str) {
    let resp = app.handle(press(email)).await;
    assert_eq!(resp.status(), 201, "{:?}", resp.body());
}

fn end_to_end(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let bms = rt.block_on(Sandbox::start_with(Options {
        latency: LATENCY,
        ..Options::default()
    }));

    // Round trips, counted once: they do not vary between runs.
    rt.block_on(async {
        let warm_app = app(&bms).await;
        for (label, email) in [
            ("cold, known contact", "dan.jump@fabrikam.com"),
            ("warm, known contact", "dan.jump@fabrikam.com"),
            (
                "warm, contact without location (first)",
                "ann.beebe@northwind.com",
            ),
            (
                "warm, contact without location (again)",
                "ann.beebe@northwind.com",
            ),
            ("warm, unknown user (first)", "stranger@example.com"),
            ("warm, unknown user (again)", "stranger@example.com"),
        ] {
            bms.reset_calls();
            one(&warm_app, email).await;
            let calls: Vec<String> = bms
                .calls()
                .iter()
                .map(|c| format!("{} {}", c.method, c.path))
                .collect();
            eprintln!(
                "round trips, {label}: {} ({})",
                calls.len(),
                calls.join(", ")
            );
        }
    });

    let mut group = c.benchmark_group(format!("ticket, BMS latency {} ms", LATENCY.as_millis()));
    group.sample_size(20);
    group.bench_function("cold container", |b| {
        b.iter(|| {
            rt.block_on(async {
                let fresh = app(&bms).await;
                one(&fresh, "dan.jump@fabrikam.com").await;
            })
        })
    });
    let warm_app = rt.block_on(app(&bms));
    rt.block_on(one(&warm_app, "dan.jump@fabrikam.com"));
    group.bench_function("warm container", |b| {
        b.iter(|| rt.block_on(one(&warm_app, "dan.jump@fabrikam.com")))
    });
    group.finish();
}

criterion_group!(benches, end_to_end);
criterion_main!(benches);
