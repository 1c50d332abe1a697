//! A button press through the handler against the BMS sandbox with 40 ms injected per call (the
//! distance to a real BMS region): a cold container (login and lookups on the request's path),
//! a cold one whose warm-up ran during Lambda init, and a warm one; a press with a hostname (the
//! computer searched beside the contact), a new hire of a known customer filed on its account,
//! one made a contact, and a cold press on a tenant whose catch-all contact has no location of
//! its own.
//!
//! First a table: per case the wall time (median), the BMS calls, the sequential round trips the
//! sandbox counted from its call records, and wall time / (round trips x latency): how close the
//! press comes to pure waiting for BMS. Then criterion measures the same cases.

#[path = "support/app.rs"]
mod app;

use std::time::{Duration, Instant};

use bms_sandbox::tenant::CONTACT_UNREGISTERED;
use bms_sandbox::{CREDENTIALS, Options, Sandbox, Tenant};
use criterion::{Criterion, criterion_group, criterion_main};
use kaseya_button::App;
use serde_json::json;

const LATENCY: Duration = Duration::from_millis(40);

const KNOWN: &str = "dan.jump@fabrikam.com";
const NO_LOCATION: &str = "ann.beebe@northwind.com";
const UNKNOWN: &str = "stranger@example.com";

/// The key the sample events present.
const EVENT_KEY: &str = "demo-button-key";

fn press(email: &str, hostname: Option<&str>) -> lambda_http::Request {
    let mut ev: serde_json::Value =
        serde_json::from_str(include_str!("../events/http-v2-ticket.json")).expect("event JSON");
    let mut body = json!({"email": email, "message": "Benchmark press", "selections": ["This is an emergency"]});
    if let Some(h) = hostname {
        body["hostname"] = h.into();
    }
    ev["body"] = body.to_string().into();
    lambda_http::request::from_str(&ev.to_string()).expect("event")
}

async fn one(app: &App, email: &str) {
    one_from(app, email, None).await
}

async fn one_from(app: &App, email: &str, hostname: Option<&str>) {
    let resp = app.handle(press(email, hostname)).await;
    assert_eq!(resp.status(), 201, "{:?}", resp.body());
}

/// One measured case: the container state it starts from, then the press.
#[derive(Clone, Copy)]
enum Case {
    Cold,
    ColdWarmedUp,
    Warm,
    WarmFirstOfAccountWithoutLocation,
    WarmUnknownUser,
    WarmHostname,
    WarmNewHireOnAccount,
    WarmNewHireMadeContact,
    ColdCatchAllWithoutLocation,
}

impl Case {
    fn label(self) -> &'static str {
        match self {
            Case::Cold => "cold, no warm-up",
            Case::ColdWarmedUp => "cold, warm-up done in init",
            Case::Warm => "warm",
            Case::WarmFirstOfAccountWithoutLocation => "warm, contact without location (1st)",
            Case::WarmUnknownUser => "warm, unknown user",
            Case::WarmHostname => "warm, with a hostname",
            Case::WarmNewHireOnAccount => "warm, new hire on its account (1st)",
            Case::WarmNewHireMadeContact => "warm, new hire made a contact",
            Case::ColdCatchAllWithoutLocation => "cold, catch-all without own location",
        }
    }

    /// The settings of its container: a key that may create contacts for the new hire made a
    /// contact.
    fn settings(self) -> Vec<(&'static str, String)> {
        match self {
            Case::WarmNewHireMadeContact => vec![
                ("BUTTON_AUTH", "key".into()),
                (
                    "KASEYA_CREDENTIALS",
                    json!({"credentials": CREDENTIALS, "buttonKeys": [{"key": EVENT_KEY,
                        "name": "fabrikam-office", "account": "Fabrikam Inc",
                        "createContacts": true}]})
                    .to_string(),
                ),
            ],
            _ => Vec::new(),
        }
    }

    /// The sandbox it runs against: the seeded tenant, or `no_location`'s.
    fn sandbox<'a>(self, seeded: &'a Sandbox, no_location: &'a Sandbox) -> &'a Sandbox {
        match self {
            Case::ColdCatchAllWithoutLocation => no_location,
            _ => seeded,
        }
    }

    fn hostname(self) -> Option<&'static str> {
        matches!(self, Case::WarmHostname).then_some("FAB-PC-0042")
    }

    /// A container in the state the case starts from, the calls it made getting there forgotten.
    async fn prepare(self, bms: &Sandbox) -> App {
        let app = app::app(bms, &self.settings()).await;
        match self {
            Case::Cold | Case::ColdCatchAllWithoutLocation => {}
            Case::ColdWarmedUp => app.warm_up().await,
            // The first new hire of the container paid for the account's main location and
            // its staff's domains.
            Case::WarmNewHireMadeContact => one(&app, &new_hire()).await,
            _ => one(&app, KNOWN).await,
        }
        bms.reset_calls();
        app
    }

    /// Whom the press is from: each new hire made a contact is a new person.
    fn email(self) -> String {
        match self {
            Case::WarmFirstOfAccountWithoutLocation => NO_LOCATION.into(),
            Case::WarmUnknownUser => UNKNOWN.into(),
            Case::WarmNewHireOnAccount => "new.hire@fabrikam.com".into(),
            Case::WarmNewHireMadeContact => new_hire(),
            _ => KNOWN.into(),
        }
    }
}

/// A person no run has pressed as before: Fabrikam's staff write from `@fabrikam.com`.
fn new_hire() -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("hire.{n}@fabrikam.com")
}

const CASES: [Case; 9] = [
    Case::Cold,
    Case::ColdWarmedUp,
    Case::Warm,
    Case::WarmFirstOfAccountWithoutLocation,
    Case::WarmUnknownUser,
    Case::WarmHostname,
    Case::WarmNewHireOnAccount,
    Case::WarmNewHireMadeContact,
    Case::ColdCatchAllWithoutLocation,
];

/// The seeded tenant with a catch-all contact that has no location of its own (its account's
/// main one serves).
fn catch_all_without_location() -> Tenant {
    let mut tenant = Tenant::default();
    for c in &mut tenant.contacts {
        if c.id == CONTACT_UNREGISTERED {
            c.location_id = None;
        }
    }
    tenant
}

/// `cargo bench` passes `--bench`; `cargo test --benches` does not, and then one run is enough.
fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn table(rt: &tokio::runtime::Runtime, seeded: &Sandbox, no_location: &Sandbox) {
    let runs = if full_run() { 15 } else { 1 };
    eprintln!(
        "\nBMS latency {} ms per call, median of {runs} run(s)",
        LATENCY.as_millis()
    );
    eprintln!(
        "{:<40} {:>9} {:>6} {:>12} {:>22}",
        "case", "wall ms", "calls", "round trips", "wall / (trips x 40ms)"
    );
    for case in CASES {
        let bms = case.sandbox(seeded, no_location);
        let mut walls = Vec::with_capacity(runs);
        let mut counts = None;
        for _ in 0..runs {
            rt.block_on(async {
                let app = case.prepare(bms).await;
                let email = case.email();
                let started = Instant::now();
                one_from(&app, &email, case.hostname()).await;
                walls.push(started.elapsed());
            });
            let seen = (bms.calls().len(), bms.round_trips());
            assert!(
                counts.is_none_or(|c| c == seen),
                "{}: calls and round trips vary between runs",
                case.label()
            );
            counts = Some(seen);
        }
        walls.sort();
        let wall = walls[walls.len() / 2];
        let (calls, trips) = counts.unwrap_or_default();
        let ratio = wall.as_secs_f64() / (trips as f64 * LATENCY.as_secs_f64());
        eprintln!(
            "{:<40} {:>9.1} {:>6} {:>12} {:>22.3}",
            case.label(),
            wall.as_secs_f64() * 1000.0,
            calls,
            trips,
            ratio
        );
    }
    // What the init phase pays for that warm-up.
    let bms = seeded;
    rt.block_on(async {
        let app = app::app(bms, &[]).await;
        bms.reset_calls();
        let started = Instant::now();
        app.warm_up().await;
        eprintln!(
            "{:<40} {:>9.1} {:>6} {:>12}\n",
            "(warm-up itself, in Lambda init)",
            started.elapsed().as_secs_f64() * 1000.0,
            bms.calls().len(),
            bms.round_trips()
        );
    });
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
    let no_location = rt.block_on(Sandbox::start_with(Options {
        latency: LATENCY,
        tenant: catch_all_without_location(),
        ..Options::default()
    }));
    table(&rt, &bms, &no_location);

    let mut group = c.benchmark_group(format!("press, BMS latency {} ms", LATENCY.as_millis()));
    group.sample_size(10);
    for case in [Case::Cold, Case::ColdWarmedUp] {
        group.bench_function(case.label(), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    rt.block_on(async {
                        let app = case.prepare(&bms).await;
                        let started = Instant::now();
                        one(&app, &case.email()).await;
                        total += started.elapsed();
                    });
                }
                total
            })
        });
    }
    let warm = rt.block_on(Case::Warm.prepare(&bms));
    group.bench_function(Case::Warm.label(), |b| {
        b.iter(|| rt.block_on(one(&warm, KNOWN)))
    });
    group.finish();
}

criterion_group!(benches, end_to_end);
criterion_main!(benches);
