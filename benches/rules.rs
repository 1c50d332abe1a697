//! The rules engine on a generated document of 100 rules: loading it (`Rules::parse`, once per
//! Lambda container) and applying it (`Rules::apply`, once per button press).

use std::hint::black_box;

use chrono::{DateTime, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use kaseya_button::button::ButtonRequest;
use kaseya_button::context::Context;
use kaseya_button::rules::Rules;
use serde_json::json;

#[path = "support/rules_doc.rs"]
mod rules_doc;
use rules_doc::{document, document_with};

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
