//! Our own work per button press, without any I/O: the API Gateway event read into a request,
//! the press parsed, a 20-rule document applied, names resolved to ids and the ticket body built
//! and serialised. Everything else a press costs is waiting for BMS (see `end_to_end`).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use kaseya_button::button::ButtonRequest;
use kaseya_button::context::{Context, Lookup};
use kaseya_button::kaseya::{Contact, LookupItem, TicketInput};
use kaseya_button::resolve::{self, Tables};
use kaseya_button::rules::Rules;
use kaseya_button::ticket::{self, Requester};
use serde_json::{Value, json};

#[path = "support/rules_doc.rs"]
mod rules_doc;

const RULES: usize = 20;

/// An HTTP API (payload 2.0) event as Lambda hands it over, with a press that several rules
/// match.
fn event() -> String {
    let mut ev: Value = serde_json::from_str(include_str!("../events/http-v2-ticket.json"))
        .expect("events/ holds valid JSON");
    ev["body"] = json!({
        "email": "Dan.Jump@Customer11.com",
        "name": "User 12",
        "message": "The printer on the second floor is jammed again! Nobody can print.",
        "title": "Printer jammed",
        "hostname": "pc-0016",
        "selections": ["Option 10", "Impact: High", "Urgency: Medium"],
    })
    .to_string()
    .into();
    ev.to_string()
}

fn parse(event: &str) -> ButtonRequest {
    let req = lambda_http::request::from_str(event).expect("a valid API Gateway event");
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    ButtonRequest::parse(content_type, req.body().as_ref()).expect("a valid press")
}

/// Lists the size of a small tenant's, holding every name the generated rules use.
fn tables() -> Tables {
    let named = |names: &[&str], default: usize| {
        let mut items: Vec<LookupItem> = names
            .iter()
            .enumerate()
            .map(|(i, n)| LookupItem::new(i as i64 + 1, n, i == default))
            .collect();
        items.extend((0..20).map(|i| LookupItem::new(100 + i, &format!("Unused {i}"), false)));
        Ok(Arc::new(items))
    };
    Tables::from([
        (Lookup::Status, named(&["New", "In Progress"], 0)),
        (Lookup::Priority, named(&["Low", "Medium", "High"], 1)),
        (
            Lookup::Queue,
            named(&["Service Desk", "Queue 1", "Queue 11"], 0),
        ),
        (Lookup::Assignee, named(&["Jane Tech"], usize::MAX)),
        (
            Lookup::TicketType,
            named(&["Service Request", "Incident"], 0),
        ),
        (Lookup::TicketSource, named(&["Other", "Phone"], 0)),
    ])
}

fn requester() -> Requester {
    Requester {
        account_id: 1,
        contact: Some(Contact {
            id: 101,
            account_id: 1,
            account_name: Some("Fabrikam".into()),
            location_id: Some(12),
            first_name: Some("Dan".into()),
            last_name: Some("Jump".into()),
            email: Some("dan.jump@customer11.com".into()),
        }),
        location_id: 12,
        unregistered: false,
        asset: None,
    }
}

/// Names to ids and the ticket body, as the create path does once BMS has answered.
fn build(
    button: &ButtonRequest,
    ctx: &Context,
    errors: &[String],
    defaults: &BTreeMap<String, Value>,
    tables: &Tables,
    who: &Requester,
    now: DateTime<Utc>,
) -> TicketInput {
    let needed = resolve::needed(ctx, defaults);
    assert!(needed.iter().all(|l| tables.contains_key(l)));
    let resolution = resolve::resolve(ctx, defaults, tables).expect("resolves");
    let mut warnings = errors.to_vec();
    warnings.extend(resolution.warnings.iter().cloned());
    ticket::ticket_input(button, ctx, who, &resolution, &warnings, now, None)
}

/// The whole press: event to the JSON bytes sent to BMS.
fn pipeline(
    event: &str,
    rules: &Rules,
    tables: &Tables,
    who: &Requester,
    now: DateTime<Utc>,
) -> Vec<u8> {
    let button = parse(event);
    let mut ctx = Context::new(&button, now);
    let outcome = rules.apply(&mut ctx);
    let ticket = build(
        &button,
        &ctx,
        &outcome.errors,
        rules.defaults(),
        tables,
        who,
        now,
    );
    serde_json::to_vec(&ticket).expect("serialisable")
}

fn bench(c: &mut Criterion) {
    let event = event();
    let rules = Rules::parse(&rules_doc::document(RULES)).expect("the generated document is valid");
    let tables = tables();
    let who = requester();
    let now: DateTime<Utc> = "2024-05-06T14:30:00Z".parse().expect("a time");

    // The numbers below are for real work: several rules match and nothing fails.
    let button = parse(&event);
    let mut ctx = Context::new(&button, now);
    let outcome = rules.apply(&mut ctx);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert!(outcome.matched.len() >= 5, "{:?}", outcome.matched);
    let ticket = build(
        &button,
        &ctx,
        &outcome.errors,
        rules.defaults(),
        &tables,
        &who,
        now,
    );
    assert_eq!(ticket.assignee_id, Some(1), "rule 12 names Jane Tech");

    c.bench_function("pipeline/parse API Gateway event and press", |b| {
        b.iter(|| parse(black_box(&event)))
    });
    c.bench_function("pipeline/apply 20 rules", |b| {
        b.iter(|| {
            let mut ctx = Context::new(black_box(&button), now);
            let outcome = rules.apply(&mut ctx);
            (ctx, outcome)
        })
    });
    c.bench_function("pipeline/resolve and build the ticket body", |b| {
        b.iter(|| {
            let ticket = build(
                black_box(&button),
                &ctx,
                &[],
                rules.defaults(),
                &tables,
                &who,
                now,
            );
            serde_json::to_vec(&ticket).expect("serialisable")
        })
    });
    c.bench_function("pipeline/whole press without I/O, 20 rules", |b| {
        b.iter(|| pipeline(black_box(&event), &rules, &tables, &who, now))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
