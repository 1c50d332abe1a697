//! The rules engine on a generated document of 100 rules: loading it (`Rules::parse`, once per
//! Lambda container) and applying it (`Rules::apply`, once per button press).

use std::hint::black_box;

use chrono::{DateTime, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use kaseya_button::button::ButtonRequest;
use kaseya_button::context::Context;
use kaseya_button::rules::Rules;
use serde_json::{Value, json};

/// A realistic mix: check boxes, e-mail domains, case-insensitive names, a score matrix,
/// computed titles, comprehensions, host names, lookups, times and a few regular expressions.
fn document(n: usize) -> String {
    document_with(n, true)
}

/// The same with each `matches` replaced by string functions: what the regular expressions cost.
fn document_with(n: usize, regex: bool) -> String {
    let rules: Vec<Value> = (0..n)
        .map(|i| match i % 10 {
            0 => json!({"when": format!("'Option {i}' in selections"), "set": {"priority": "High"}}),
            1 => json!({
                "when": format!("email.lowerAscii().endsWith('@customer{i}.com')"),
                "set": {"queue": format!("Queue {i}")}
            }),
            2 => json!({
                "when": format!("name.trim().lowerAscii() == 'user {i}'"),
                "set": {"assignee": "Jane Tech"}
            }),
            3 => json!({
                "when": format!("impact * urgency >= {}", i % 9 + 1),
                "compute": {"priority": "impact * urgency >= 6 ? 'High' : 'Medium'"}
            }),
            4 => json!({
                "when": format!("message.contains('!') && !title.startsWith('[{i}]')"),
                "compute": {"title": format!("'[{i}] ' + title")}
            }),
            5 => json!({
                "when": format!("selections.exists(s, s.startsWith('Impact: ')) && size(message) > {i}"),
                "compute": {"impact": "impact + 1"}
            }),
            6 => json!({
                "when": format!("hostname.upperAscii().startsWith('PC-{i:04}')"),
                "set": {"ticketType": "Incident"}
            }),
            7 => json!({
                "when": format!("priority == 'Critical' && queue != 'Queue {i}'"),
                "set": {"ticketStatus": "In Progress"}
            }),
            8 => json!({
                "when": format!("timestamp(openDate).getHours() >= {}", i % 24),
                "set": {"ticketSource": "Phone"}
            }),
            _ if !regex => json!({
                "when": format!("email.lowerAscii().startsWith('dan.') && size(email) > {i}"),
                "compute": {"message": format!("message + ' (customer {i})'")}
            }),
            _ => json!({
                "when": format!("email.matches('^[a-z.]+@customer{i}[.]com$')"),
                "compute": {"message": format!("message + ' (customer {i})'")}
            }),
        })
        .collect();
    json!({
        "defaults": {"priority": "Medium", "ticketStatus": "New", "ticketType": "Service Request",
                     "ticketSource": "Other", "queue": "Service Desk"},
        "let": {"impact": 2, "urgency": 2},
        "rules": rules,
    })
    .to_string()
}

fn request() -> ButtonRequest {
    let body = json!({
        "email": "Dan.Jump@Customer41.com",
        "name": "User 12",
        "message": "The printer on the second floor is jammed again! Nobody can print.",
        "title": "Printer jammed",
        "hostname": "pc-0016",
        "selections": ["Option 20", "Impact: High", "Urgency: Medium"],
    });
    ButtonRequest::parse(Some("application/json"), body.to_string().as_bytes()).unwrap()
}

fn bench(c: &mut Criterion) {
    let text = document(100);
    let rules = Rules::parse(&text).expect("the generated document is valid");
    let req = request();
    let at: DateTime<Utc> = "2024-05-06T14:30:00Z".parse().unwrap();

    // What the rules do to this request, so the numbers below are for real work.
    let mut ctx = Context::new(&req, at);
    let outcome = rules.apply(&mut ctx);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert!(outcome.matched.len() > 20, "{:?}", outcome.matched);

    c.bench_function("rules/parse 100 rules", |b| {
        b.iter(|| Rules::parse(black_box(&text)).unwrap())
    });
    c.bench_function("rules/apply 100 rules", |b| {
        b.iter_batched(
            || Context::new(&req, at),
            |mut ctx| {
                let outcome = rules.apply(&mut ctx);
                (ctx, outcome)
            },
            BatchSize::SmallInput,
        )
    });
    c.bench_function("rules/context + apply 100 rules", |b| {
        b.iter(|| {
            let mut ctx = Context::new(black_box(&req), at);
            let outcome = rules.apply(&mut ctx);
            (ctx, outcome)
        })
    });

    let plain = Rules::parse(&document_with(100, false)).unwrap();
    c.bench_function("rules/apply 100 rules without matches()", |b| {
        b.iter_batched(
            || Context::new(&req, at),
            |mut ctx| {
                let outcome = plain.apply(&mut ctx);
                (ctx, outcome)
            },
            BatchSize::SmallInput,
        )
    });

    let small = Rules::parse(&document(10)).unwrap();
    c.bench_function("rules/apply 10 rules", |b| {
        b.iter_batched(
            || Context::new(&req, at),
            |mut ctx| {
                let outcome = small.apply(&mut ctx);
                (ctx, outcome)
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
