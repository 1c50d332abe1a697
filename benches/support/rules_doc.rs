//! The generated rules documents the benchmarks load and apply.
#![allow(dead_code)] // each benchmark uses its own part of this

use serde_json::{Value, json};

/// A realistic mix: check boxes, e-mail domains, case-insensitive names, a score matrix,
/// computed titles, comprehensions, host names, lookups, times and a few regular expressions.
pub fn document(n: usize) -> String {
    document_with(n, true)
}

/// The same with each `matches` replaced by string functions: what the regular expressions cost.
pub fn document_with(n: usize, regex: bool) -> String {
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
