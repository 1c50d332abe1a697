//! A cold start as its caller sees it: the real `kaseya-button` binary started the way Lambda
//! starts it (a Runtime API on loopback, `tests/api/support/lambda.rs`), the BMS sandbox behind it
//! with an injected latency, and its secret in Secrets Manager (moto), relayed through the
//! sandbox so that the secret's fetch is recorded, delayed and counted with the BMS calls.
//!
//! Two kinds of start, each at 0 and 40 ms a round trip:
//! - **request-triggered**: the event is waiting before the process is spawned, as when Lambda
//!   starts a container for a request; measured from spawn to answer.
//! - **pre-initialised**: no event until init is over (Lambda's proactive init, provisioned
//!   concurrency); the first press is measured from hand-over to answer.
//!
//! Also: the first outgoing call after spawn, the round trips each waited for (from the
//! sandbox's records), the same start over TLS (every new connection paying a TCP and a TLS
//! round trip) with the handshakes counted, warm presses, and the peak resident memory.
//!
//!     cargo bench --bench init      # moto_server from .venv (scripts/test installs it)
//!     cargo bench --bench init -- target/release/kaseya-button   # any other build of it

#[allow(dead_code)]
#[path = "../tests/api/support/lambda.rs"]
mod lambda;
#[allow(dead_code)]
#[path = "../tests/api/support/moto.rs"]
mod moto;
#[path = "support/rules_doc.rs"]
mod rules_doc;

use std::time::{Duration, Instant};

use bms_sandbox::{CREDENTIALS, Sandbox};
use lambda::{Function, Runtime};

const KNOWN: &str = "dan.jump@fabrikam.com";

/// One start: what it cost.
#[derive(Default)]
struct Start {
    /// Spawn to the first call the sandbox saw (Secrets Manager's).
    first_call: Duration,
    /// Spawn to asking for the first event: init.
    init: Duration,
    /// What the first press's caller waited: from spawn (request-triggered) or from hand-over
    /// (pre-initialised) to the answer.
    first_answer: Duration,
    round_trips: usize,
    /// With each new connection's TCP and TLS handshakes (TLS mode only).
    round_trips_with_setups: usize,
    /// How long moto took to answer the secret's fetch, beyond the injected latency: Secrets
    /// Manager's time, not ours.
    secrets_manager: Duration,
    warm: Vec<Duration>,
    peak_kib: u64,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    RequestTriggered,
    PreInitialised,
}

struct Setup<'a> {
    binary: &'a str,
    bms: &'a Sandbox,
    env: &'a [(&'static str, String)],
}

async fn one_start(setup: &Setup<'_>, kind: Kind, warm: usize, latency: Duration) -> Start {
    let bms = setup.bms;
    bms.reset_calls();
    let mut runtime = Runtime::start().await;
    if kind == Kind::RequestTriggered {
        runtime.hand_over(lambda::press_event(KNOWN));
    }
    let spawned = Instant::now();
    let function = Function::spawn(setup.binary, &runtime, setup.env);
    let asked = runtime.asked().await;
    let handed = if kind == Kind::PreInitialised {
        // Idle a little, as a container started ahead of traffic does, then the first press.
        tokio::time::sleep(Duration::from_millis(50)).await;
        runtime.hand_over(lambda::press_event(KNOWN));
        Instant::now()
    } else {
        spawned
    };
    let first_call = bms
        .calls()
        .iter()
        .map(|c| bms.epoch() + c.started)
        .min()
        .map(|at| at.saturating_duration_since(spawned))
        .unwrap_or_default();
    if kind == Kind::PreInitialised {
        bms.reset_calls();
    }
    let (answered, answer) = runtime.answered().await;
    assert_eq!(lambda::status(&answer), 201, "the first press: {answer}");
    let mut start = Start {
        first_call,
        init: asked - spawned,
        first_answer: answered - handed,
        round_trips: bms.round_trips(),
        round_trips_with_setups: bms.round_trips_with_setups(),
        secrets_manager: bms
            .calls()
            .iter()
            .filter(|c| c.path == "/secretsmanager.GetSecretValue")
            .map(|c| c.ended.saturating_sub(c.started).saturating_sub(latency))
            .sum(),
        ..Start::default()
    };
    for _ in 0..warm {
        let handed = runtime.asked().await;
        runtime.hand_over(lambda::press_event(KNOWN));
        let (at, answer) = runtime.answered().await;
        assert_eq!(lambda::status(&answer), 201, "a warm press: {answer}");
        start.warm.push(at - handed);
    }
    // Every event answered: the peak is final.
    runtime.asked().await;
    start.peak_kib = peak_rss_kib(function.id());
    start
}

/// The most memory the process `pid` has held (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn sandbox(
    latency: Duration,
    tls: bool,
    rules: &str,
) -> (Sandbox, Vec<(&'static str, String)>) {
    let bms = lambda::sandbox(latency, tls).await;
    static SERIAL: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let serial = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = moto::create_secret(&format!("bench-{serial}"), CREDENTIALS).await;
    let env = lambda::env(&bms, id, rules);
    (bms, env)
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
    let (starts, warm) = if full { (7, 20) } else { (1, 2) };
    moto::moto();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!("{binary} ({size} bytes), {starts} start(s) per row, medians; warm: {warm} presses");
    println!(
        "{:<18} {:>5} {:>4} {:>5} {:>11} {:>8} {:>12} {:>5} {:>7} {:>6} {:>7} {:>9} {:>8}",
        "start",
        "rules",
        "tls",
        "RT ms",
        "1st call ms",
        "init ms",
        "1st press ms",
        "RTs",
        "RTs+hs",
        "SM ms",
        "own ms",
        "warm ms",
        "peak MB"
    );
    // The example document (4 rules), and a generated 100-rule one: parsed and checked after
    // the first call has left, so it should not move it.
    let example = include_str!("../docs/rules.example.json").to_string();
    let hundred = rules_doc::document(100);
    let both = [Kind::RequestTriggered, Kind::PreInitialised];
    let rows = [
        (0, false, &example, &both[..]),
        (40, false, &example, &both[..]),
        (40, true, &example, &both[..]),
        (0, false, &hundred, &both[..1]),
        (40, false, &hundred, &both[..1]),
    ];
    for (latency, tls, rules, kinds) in rows {
        let latency = Duration::from_millis(latency);
        let rule_count = serde_json::from_str::<serde_json::Value>(rules)
            .ok()
            .and_then(|d| d["rules"].as_array().map(Vec::len))
            .unwrap_or(0);
        for &kind in kinds {
            let runs: Vec<Start> = rt.block_on(async {
                let (bms, env) = sandbox(latency, tls, rules).await;
                let setup = Setup {
                    binary: &binary,
                    bms: &bms,
                    env: &env,
                };
                let mut runs = Vec::new();
                for _ in 0..starts {
                    runs.push(one_start(&setup, kind, warm, latency).await);
                }
                runs
            });
            let pick = |f: fn(&Start) -> Duration| median(runs.iter().map(f).collect());
            let first_answer = pick(|s| s.first_answer);
            let round_trips = runs.iter().map(|s| s.round_trips).max().unwrap_or(0);
            let with_setups = runs
                .iter()
                .map(|s| s.round_trips_with_setups)
                .max()
                .unwrap_or(0);
            // The network's share: every round trip waited for, handshakes included, and
            // Secrets Manager's own time (moto's). Without latency calls do not overlap in
            // time, so round trips are not counted.
            let floor = latency * with_setups as u32 + pick(|s| s.secrets_manager);
            let count = |n: usize| {
                if latency.is_zero() {
                    "-".to_string()
                } else {
                    n.to_string()
                }
            };
            println!(
                "{:<18} {:>5} {:>4} {:>5} {:>11.1} {:>8.1} {:>12.1} {:>5} {:>7} {:>6.1} {:>7.1} {:>9.2} {:>8.1}",
                match kind {
                    Kind::RequestTriggered => "request-triggered",
                    Kind::PreInitialised => "pre-initialised",
                },
                rule_count,
                if tls { "yes" } else { "no" },
                latency.as_millis(),
                ms(pick(|s| s.first_call)),
                ms(pick(|s| s.init)),
                ms(first_answer),
                count(round_trips),
                count(with_setups),
                ms(pick(|s| s.secrets_manager)),
                ms(first_answer.saturating_sub(floor)),
                ms(median(runs.iter().flat_map(|s| s.warm.clone()).collect())),
                runs.iter().map(|s| s.peak_kib).max().unwrap_or(0) as f64 / 1024.0
            );
        }
    }
}
