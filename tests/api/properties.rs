//! Property tests: the request parser and the rules checker take anything without panicking; a
//! rules document the checker accepts runs as it is written, and every problem it finds in one
//! says where in the document it is.
//!
//! 256 cases per property in the normal test run;
//! `PROPTEST_CASES=20000 cargo test --test api properties::` searches much further.

use chrono::Utc;
use kaseya_button::button::{ButtonRequest, RequestError};
use kaseya_button::context::{Context, READ_ONLY, READ_WRITE};
use kaseya_button::rules::{Outcome, Rules};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Map, Value, json};

use crate::support;

const CONTENT_TYPES: [Option<&str>; 6] = [
    None,
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("application/x-www-form-urlencoded"),
    Some("application/problem+json"),
    Some("text/plain"),
];

const FIELDS: [&str; 14] = [
    "email",
    "message",
    "title",
    "name",
    "selections",
    "selections[]",
    "hostname",
    "ip",
    "mac",
    "append",
    "business",
    "phone",
    "attachments",
    "unknown",
];

/// Any JSON value, nested a few levels, with strings that include control characters, markup
/// and non-ASCII.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::from),
        "[a-z.]{1,10}@[a-z]{1,8}\\.[a-z]{2,3}".prop_map(Value::from),
        "[A-Za-z0-9+/=\\s]{0,24}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((".{0,12}", inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Mostly text, as real clients send, with control characters, markup and non-ASCII; now and
/// then any JSON value.
fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => ".{0,60}".prop_map(Value::from),
        2 => "[ -~\t\n\r\x00-\x1f<>&]{0,60}".prop_map(Value::from),
        2 => json_value(),
    ]
}

/// A request-shaped object: the known field names with values as clients send them.
fn request_object() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (prop::sample::select(FIELDS.to_vec()), field_value()),
        0..10,
    )
    .prop_map(|kv| {
        Value::Object(
            kv.into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<Map<_, _>>(),
        )
    })
}

/// A request that passes the required fields, with any values in the others: reaches the
/// checks past `email` and `message`.
fn mostly_valid_request() -> impl Strategy<Value = Value> {
    (
        "[a-z.]{1,10}@[a-z]{1,8}\\.[a-z]{2,3}",
        ".{1,40}",
        request_object(),
    )
        .prop_map(|(email, message, mut rest)| {
            rest["email"] = email.into();
            rest["message"] = message.into();
            rest
        })
}

/// The parser either gives a request or an error; a request it gives holds valid data.
fn parse_is_total(content_type: Option<&str>, body: &[u8]) {
    match ButtonRequest::parse(content_type, body) {
        Ok(r) => {
            assert!(r.email.as_str().contains('@'));
            assert!(!r.message.as_str().trim().is_empty());
            assert!(r.attachments.len() <= kaseya_button::button::MAX_ATTACHMENTS);
            let texts = [
                Some(&r.message),
                Some(&r.title),
                r.name.as_ref(),
                r.append.as_ref(),
            ];
            for t in texts.into_iter().flatten() {
                assert!(
                    !t.as_str()
                        .chars()
                        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')),
                    "{t:?}"
                );
            }
            // What the rules see is built from it without trouble.
            let _ = Context::new(&r, Utc::now());
        }
        Err(RequestError::Invalid { field, reason }) => {
            assert!(!field.is_empty() && !reason.is_empty());
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

proptest! {
    #![proptest_config(support::cases::config())]

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(
        ct in prop::sample::select(CONTENT_TYPES.to_vec()),
        body in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        parse_is_total(ct, &body);
    }

    #[test]
    fn arbitrary_json_never_panics_the_parser(
        ct in prop::sample::select(CONTENT_TYPES.to_vec()),
        value in prop_oneof![json_value(), request_object(), mostly_valid_request()],
    ) {
        parse_is_total(ct, value.to_string().as_bytes());
    }

    #[test]
    fn arbitrary_forms_never_panic_the_parser(
        ct in prop::sample::select(CONTENT_TYPES.to_vec()),
        required in prop::option::of(("[a-z.]{1,10}@[a-z]{1,8}\\.[a-z]{2,3}", ".{1,40}")),
        pairs in prop::collection::vec(
            (prop_oneof![prop::sample::select(FIELDS.to_vec()).prop_map(str::to_string), ".{0,8}"], ".{0,40}"),
            0..12,
        ),
        raw_tail in "[%&=+a-z0-9]{0,16}",
    ) {
        let mut all: Vec<(String, String)> = required
            .into_iter()
            .flat_map(|(email, message)| [("email".to_string(), email), ("message".to_string(), message)])
            .collect();
        all.extend(pairs);
        let mut body = serde_urlencoded::to_string(&all).unwrap_or_default();
        body.push_str(&raw_tail);
        parse_is_total(ct, body.as_bytes());
    }
}

/// Pieces of CEL and near-CEL: the variables, operators, literals, calls and broken bits a
/// person might type into `when` or `compute`.
fn cel_ish() -> impl Strategy<Value = String> {
    let variables: Vec<&str> = READ_WRITE
        .iter()
        .chain(&READ_ONLY)
        .copied()
        .chain(["impact", "nosuchvar"])
        .collect();
    let token = prop_oneof![
        prop::sample::select(variables).prop_map(str::to_string),
        prop::sample::select(vec![
            "==", "!=", "<", "<=", ">", ">=", "&&", "||", "!", "+", "-", "*", "/", "%", "in", "?",
            ":", "(", ")", "[", "]", "{", "}", ",", ".", "'", "\"",
        ])
        .prop_map(str::to_string),
        prop::sample::select(vec![
            ".startsWith('a')",
            ".endsWith(\"@x.com\")",
            ".contains('')",
            ".matches('(')",
            ".matches('^[a-z]+$')",
            ".size()",
            "size(",
            "int(",
            "string(",
            "double(",
            "timestamp('2026-01-01T00:00:00Z')",
            "duration('1h')",
            ".getHours()",
            "has(",
            "exists(",
            "all(x, ",
            "map(x, ",
            "filter(x, ",
        ])
        .prop_map(str::to_string),
        prop::sample::select(vec![
            "0",
            "1",
            "-1",
            "9223372036854775807",
            "-9223372036854775808",
            "1.5",
            "1e308",
            "true",
            "false",
            "null",
            "''",
            "'x'",
            "\"\\u0000\"",
            "b'\\xff'",
            "[]",
            "{}",
            "[1, 'a']",
            "{'k': 1}",
            "0x10",
            "1u",
        ])
        .prop_map(str::to_string),
        ".{0,6}",
    ];
    prop::collection::vec(token, 0..16).prop_map(|t| t.join(" "))
}

/// Well-formed CEL over the variables, combined at random: gets past the checker more often,
/// so that the rules also run.
fn cel_formed() -> impl Strategy<Value = String> {
    let var = prop::sample::select(
        READ_WRITE
            .iter()
            .chain(&READ_ONLY)
            .copied()
            .collect::<Vec<_>>(),
    );
    let lit = "[a-zA-Z0-9 @.<>'\\\\]{0,10}";
    let atom = (var, lit, 0..4usize, -3i64..100).prop_map(|(v, l, shape, n)| {
        let l = l.replace('\\', "\\\\").replace('\'', "\\'");
        match shape {
            0 => format!("{v} == '{l}'"),
            1 => format!("'{l}' in selections || {v}.startsWith('{l}')"),
            2 => format!("size({v}) > {n}"),
            _ => format!("{v} + ' {l}'"),
        }
    });
    prop::collection::vec(
        (atom, prop::sample::select(vec![" && ", " || ", " + "])),
        1..4,
    )
    .prop_map(|parts| {
        let mut out = String::new();
        for (i, (a, op)) in parts.iter().enumerate() {
            if i > 0 {
                out.push_str(op);
            }
            out.push('(');
            out.push_str(a);
            out.push(')');
        }
        out
    })
}

/// A value for a read/write variable: mostly a name or an id, now and then anything.
fn name_or_id() -> impl Strategy<Value = Value> {
    prop_oneof![
        5 => ".{0,20}".prop_map(Value::from),
        2 => (-5i64..1000).prop_map(Value::from),
        1 => json_value(),
    ]
}

fn expression() -> impl Strategy<Value = String> {
    prop_oneof![cel_ish(), cel_formed()]
}

/// A rules document shaped like the real thing, with CEL-ish strings where expressions go.
fn rules_document() -> impl Strategy<Value = Value> {
    let rule = (
        prop::option::of(expression()),
        prop::collection::vec(
            (prop::sample::select(READ_WRITE.to_vec()), expression()),
            0..3,
        ),
        prop::collection::vec(
            (prop::sample::select(READ_WRITE.to_vec()), name_or_id()),
            0..3,
        ),
        prop::option::of(".{0,20}"),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(when, compute, set, reject, stop)| {
            let mut r = Map::new();
            if let Some(w) = when {
                r.insert("when".into(), w.into());
            }
            if !compute.is_empty() {
                let c: Map<String, Value> = compute
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.into()))
                    .collect();
                r.insert("compute".into(), c.into());
            }
            if !set.is_empty() {
                let s: Map<String, Value> =
                    set.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                r.insert("set".into(), s.into());
            }
            if let Some(m) = reject {
                r.insert("reject".into(), m.into());
            }
            if let Some(s) = stop {
                r.insert("stop".into(), s.into());
            }
            Value::Object(r)
        });
    (
        prop::collection::vec(rule, 0..5),
        prop::collection::vec(("[a-z]{1,6}", json_value()), 0..3),
        prop::collection::vec((prop::sample::select(READ_WRITE.to_vec()), name_or_id()), 0..3),
    )
        .prop_map(|(rules, lets, defaults)| {
            json!({
                "rules": rules,
                "let": lets.into_iter().collect::<Map<_, _>>(),
                "defaults": defaults.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Map<_, _>>(),
            })
        })
}

/// What the checker made of `text`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Verdict {
    Accepted,
    /// Refused, with at least one problem placed at a rule (`rules[i]`).
    RefusedAtARule,
    Refused,
}

/// The checker either accepts the document, which then runs on a press as the document says, or
/// lists problems that each say where in the document they are.
fn check_and_run(text: &str) -> Verdict {
    let doc: Option<Value> = serde_json::from_str(text).ok();
    match Rules::parse(text) {
        Ok(rules) => {
            let doc = doc.unwrap_or_else(|| panic!("accepted a document that is not JSON: {text}"));
            assert_accepted_as_written(&rules, &doc);
            let press = json!({
                "email": "dan.jump@fabrikam.com",
                "message": "Outlook <b>keeps</b> asking\nfor my password",
                "name": "Dan Jump",
                "selections": ["Email", "This is an emergency"],
                "append": "exit 1\u{7}",
            });
            let request =
                ButtonRequest::parse(Some("application/json"), press.to_string().as_bytes())
                    .expect("a valid press");
            let mut ctx = Context::new(&request, Utc::now());
            let outcome = rules.apply(&mut ctx);
            assert_ran_as_written(&outcome, &doc, rules.len());
            Verdict::Accepted
        }
        Err(e) => {
            assert!(!e.problems.is_empty(), "refused without a reason: {text}");
            for problem in &e.problems {
                assert_placed(problem, doc.as_ref(), text);
            }
            if e.problems.iter().any(|p| p.starts_with("rules[")) {
                Verdict::RefusedAtARule
            } else {
                Verdict::Refused
            }
        }
    }
}

/// The rules of `doc`, as an array (`null` and a missing `rules` are none).
fn doc_rules(doc: &Value) -> &[Value] {
    doc.get("rules")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The keys of the object `doc[key]`, if it is one.
fn doc_keys<'a>(doc: &'a Value, key: &str) -> Vec<&'a String> {
    doc.get(key)
        .and_then(Value::as_object)
        .map(|m| m.keys().collect())
        .unwrap_or_default()
}

/// An accepted document is a JSON object of `defaults`, `let` and `rules`, all kept.
fn assert_accepted_as_written(rules: &Rules, doc: &Value) {
    let top = doc
        .as_object()
        .unwrap_or_else(|| panic!("accepted a document that is not an object: {doc}"));
    assert!(
        top.keys()
            .all(|k| ["defaults", "let", "rules"].contains(&k.as_str())),
        "accepted unknown keys: {doc}"
    );
    assert_eq!(rules.len(), doc_rules(doc).len(), "{doc}");
    assert_eq!(
        rules.defaults().keys().collect::<Vec<_>>(),
        {
            let mut keys = doc_keys(doc, "defaults");
            keys.sort();
            keys
        },
        "{doc}"
    );
    assert_eq!(
        rules.lets().keys().collect::<Vec<_>>(),
        {
            let mut keys = doc_keys(doc, "let");
            keys.sort();
            keys
        },
        "{doc}"
    );
}

/// The index `i` of a text that starts `rules[i]`.
fn rule_index(text: &str) -> Option<usize> {
    let rest = text.strip_prefix("rules[")?;
    rest[..rest.find(']')?].parse().ok()
}

/// Rules ran in order, each at most once, none after one that stops; skipped ones are named by
/// their index; a rejection comes from the last rule that ran, which has that message.
fn assert_ran_as_written(outcome: &Outcome, doc: &Value, len: usize) {
    let rules = doc_rules(doc);
    let stops = |i: usize| {
        rules[i].get("stop") == Some(&Value::Bool(true)) || rules[i].get("reject").is_some()
    };
    assert!(
        outcome.matched.windows(2).all(|w| w[0] < w[1]),
        "{outcome:?}"
    );
    assert!(outcome.matched.iter().all(|&i| i < len), "{outcome:?}");
    let last = outcome.matched.last().copied();
    for &i in outcome.matched.iter().rev().skip(1) {
        assert!(
            !stops(i),
            "rules[{i}] stops, yet later rules ran: {outcome:?} {doc}"
        );
    }
    let end = last.filter(|&i| stops(i)).map_or(len, |i| i + 1);
    let mut skipped = Vec::new();
    for e in &outcome.errors {
        let i = rule_index(e).unwrap_or_else(|| panic!("a run-time error names no rule: {e}"));
        assert!(
            i < end && !outcome.matched.contains(&i),
            "{e}: {outcome:?} {doc}"
        );
        assert!(e.contains(" was skipped: "), "{e}");
        skipped.push(i);
    }
    assert!(skipped.windows(2).all(|w| w[0] < w[1]), "{outcome:?}");
    if let Some(r) = &outcome.rejected {
        assert_eq!(Some(r.rule), last, "{outcome:?}");
        assert_eq!(
            rules[r.rule]["reject"].as_str().map(str::trim),
            Some(r.message.as_str()),
            "{doc}"
        );
    }
}

/// A problem starts with where it is: the JSON's line and column, or a place in the document
/// that is there (`rules[i]` of an existing rule, `defaults.x` of a key of `defaults`...); then
/// says what is wrong.
fn assert_placed(problem: &str, doc: Option<&Value>, text: &str) {
    assert!(
        problem
            .split_once(": ")
            .is_some_and(|(_, why)| !why.trim().is_empty()),
        "no reason given: {problem}"
    );
    let Some(doc) = doc else {
        assert!(
            problem.starts_with("invalid JSON at line ")
                || (text.trim().is_empty() && problem.starts_with("the rules document is empty")),
            "{problem}\n{text}"
        );
        return;
    };
    let Some(top) = doc.as_object() else {
        assert!(
            problem.starts_with("the rules document must be a JSON object"),
            "{problem}\n{doc}"
        );
        return;
    };
    let has = |key: &str, f: fn(&Value) -> bool| top.get(key).is_some_and(f);
    let not_a =
        |key: &str, f: fn(&Value) -> bool| top.get(key).is_some_and(|v| !v.is_null() && !f(v));
    let placed = if let Some(rest) = problem.strip_prefix("the document: unknown key `") {
        // The key is there, and is not one a document has.
        top.keys().any(|k| {
            rest.starts_with(&format!("{k}`"))
                && !["defaults", "let", "rules"].contains(&k.as_str())
        })
    } else if problem.starts_with("the document: ") {
        true
    } else if problem.contains("appears more than once") {
        // Under any key, even one the document does not have; or in an array that a later
        // value of the same key replaced.
        top.keys().any(|k| problem.starts_with(k.as_str()))
    } else if let Some(i) = rule_index(problem) {
        i < doc_rules(doc).len()
    } else if problem.starts_with("rules: ") {
        not_a("rules", Value::is_array)
    } else if let Some(rest) = problem.strip_prefix("defaults") {
        (has("defaults", Value::is_object) && names_a_key(rest, &doc_keys(doc, "defaults")))
            || (rest.starts_with(": ") && not_a("defaults", Value::is_object))
    } else if let Some(rest) = problem.strip_prefix("let") {
        (has("let", Value::is_object) && names_a_key(rest, &doc_keys(doc, "let")))
            || (rest.starts_with(": ") && not_a("let", Value::is_object))
    } else {
        false
    };
    assert!(
        placed,
        "does not say where in the document it is: {problem}\n{doc}"
    );
}

/// Whether `rest` (what follows `defaults` or `let` in a problem) is `.key` of one of `keys`.
fn names_a_key(rest: &str, keys: &[&String]) -> bool {
    rest.strip_prefix('.')
        .is_some_and(|rest| keys.iter().any(|k| rest.starts_with(k.as_str())))
}

/// Names as a person might write them where a variable goes: the built-in ones, `let`
/// variables, typos, reserved words, CEL's type names, and anything.
fn variable_name() -> impl Strategy<Value = String> {
    let known: Vec<&str> = READ_WRITE.iter().chain(&READ_ONLY).copied().collect();
    prop_oneof![
        6 => prop::sample::select(known).prop_map(str::to_string),
        2 => prop::sample::select(vec![
            "impact", "vip", "priorty", "Queue", "nosuchvar", "in", "null", "strings", "int",
            "bad name", "",
        ])
        .prop_map(str::to_string),
        1 => ".{0,8}",
    ]
}

/// Mostly a value of `good`, now and then any JSON value.
fn mostly(good: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    prop_oneof![6 => good, 1 => json_value()]
}

/// A rule with every key, each present or not, holding what it should or not, and now and then
/// a key rules do not have.
fn rule_shaped() -> impl Strategy<Value = Value> {
    let named = |value: BoxedStrategy<Value>| {
        prop::collection::vec((variable_name(), value), 0..3)
            .prop_map(|kv| Value::Object(kv.into_iter().collect()))
    };
    (
        prop::option::of(mostly(expression().prop_map(Value::from))),
        prop::option::of(mostly(named(expression().prop_map(Value::from).boxed()))),
        prop::option::of(mostly(named(name_or_id().boxed()))),
        prop::option::weighted(0.3, mostly(".{0,20}".prop_map(Value::from))),
        prop::option::of(mostly(any::<bool>().prop_map(Value::from))),
        prop::option::weighted(0.1, ("[a-z]{1,6}", json_value())),
    )
        .prop_map(|(when, compute, set, reject, stop, stray)| {
            let mut r = Map::new();
            let keys = ["when", "compute", "set", "reject", "stop"];
            for (k, v) in keys.into_iter().zip([when, compute, set, reject, stop]) {
                if let Some(v) = v {
                    r.insert(k.into(), v);
                }
            }
            if let Some((k, v)) = stray {
                r.insert(k, v);
            }
            Value::Object(r)
        })
}

/// A rule the checker mostly accepts, whose condition holds, does not, or fails as it runs: for
/// documents whose rules run, stop, reject and are skipped in every order.
fn plausible_rule() -> impl Strategy<Value = Value> {
    let when = prop::sample::select(vec![
        None,
        Some("true"),
        Some("false"),
        Some("name == 'Dan Jump'"),
        Some("'Email' in selections"),
        Some("priority == 'High'"),
        // fails as it runs: the name is not a number
        Some("int(name) > 1"),
    ]);
    let set = prop::option::of((
        prop::sample::select(vec!["priority", "queue", "assignee", "title"]),
        "[A-Za-z ]{1,12}",
    ));
    let compute = prop::option::weighted(0.2, Just("title + '!'"));
    let reject = prop::option::weighted(0.2, "[A-Za-z .]{0,20}");
    (when, set, compute, reject, any::<bool>()).prop_map(|(when, set, compute, reject, stop)| {
        let mut r = Map::new();
        if let Some(w) = when {
            r.insert("when".into(), w.into());
        }
        if let Some((k, v)) = set {
            r.insert("set".into(), json!({ k: v }));
        }
        if let Some(c) = compute {
            r.insert("compute".into(), json!({ "message": c }));
        }
        if let Some(m) = reject {
            r.insert("reject".into(), m.into());
        }
        r.insert("stop".into(), stop.into());
        Value::Object(r)
    })
}

/// A document with `defaults`, `let` and `rules`, each present or not and holding what it
/// should or not, and now and then a key documents do not have.
fn document_shaped() -> impl Strategy<Value = Value> {
    let pairs = |value: BoxedStrategy<Value>| {
        prop::collection::vec((variable_name(), value), 0..4)
            .prop_map(|kv| Value::Object(kv.into_iter().collect()))
    };
    (
        prop::option::of(mostly(pairs(name_or_id().boxed()))),
        prop::option::of(mostly(pairs(json_value().boxed()))),
        prop::option::of(prop_oneof![
            2 => mostly(prop::collection::vec(mostly(rule_shaped()), 0..5).prop_map(Value::Array)),
            1 => prop::collection::vec(plausible_rule(), 1..6).prop_map(Value::Array),
        ]),
        prop::option::weighted(0.1, ("[a-z]{1,8}", json_value())),
    )
        .prop_map(|(defaults, lets, rules, stray)| {
            let mut d = Map::new();
            for (k, v) in ["defaults", "let", "rules"]
                .into_iter()
                .zip([defaults, lets, rules])
            {
                if let Some(v) = v {
                    d.insert(k.into(), v);
                }
            }
            if let Some((k, v)) = stray {
                d.insert(k, v);
            }
            Value::Object(d)
        })
}

/// `text` with one slip of the keyboard at `at`: a character dropped or added, or the rest lost.
fn mistype(text: &str, at: prop::sample::Index, slip: u8, c: char) -> String {
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let i = bounds[at.index(bounds.len())];
    let mut out = text.to_string();
    match slip {
        0 if i < text.len() => {
            out.remove(i);
        }
        1 => out.insert(i, c),
        _ => out.truncate(i),
    }
    out
}

/// Rules documents as text: written compactly or pretty, with a typo, and now and then anything.
fn rules_text() -> impl Strategy<Value = String> {
    prop_oneof![
        5 => document_shaped().prop_map(|d| d.to_string()),
        1 => document_shaped().prop_map(|d| serde_json::to_string_pretty(&d).unwrap_or_default()),
        2 => (
            document_shaped(),
            any::<prop::sample::Index>(),
            0..3u8,
            prop::sample::select(vec![',', ':', '"', '\'', '{', '}', '[', ']', '\\', ' ', 'x', '1']),
        )
            .prop_map(|(d, at, slip, c)| mistype(&d.to_string(), at, slip, c)),
        1 => ".{0,200}",
    ]
}

proptest! {
    #![proptest_config(support::cases::config())]

    #[test]
    fn arbitrary_json_documents_never_panic_the_rules_checker(doc in json_value()) {
        check_and_run(&doc.to_string());
    }

    #[test]
    fn rules_shaped_text_never_panics_the_rules_checker(text in rules_text()) {
        check_and_run(&text);
    }

    #[test]
    fn cel_ish_when_and_compute_never_panic_the_checker_or_the_rules(doc in rules_document()) {
        check_and_run(&doc.to_string());
    }
}

/// A rules document whose one rule has this `when`.
fn with_when(when: &str) -> String {
    json!({"defaults": {"queue": "Service Desk"}, "rules": [{"when": when, "compute": {"title": "title + '!'"}}]})
        .to_string()
}

#[test]
fn deep_nesting_is_a_problem_for_the_checker_not_a_crash() {
    let refused = [
        (
            format!("size({}1{}) > 0", "[".repeat(5000), "]".repeat(5000)),
            "brackets nest 5001 deep",
        ),
        (
            format!("{}true{}", "(".repeat(9), ")".repeat(9)),
            "brackets nest 9 deep",
        ),
        (
            format!("1{} > 0", " + 1".repeat(800)),
            "nests 802 operations deep",
        ),
    ];
    for (when, needle) in refused {
        match Rules::parse(&with_when(&when)) {
            Err(e) => assert!(
                e.problems.iter().any(|p| p.contains(needle)),
                "{:?}",
                e.problems
            ),
            Ok(_) => panic!("accepted: {}", &when[..40]),
        }
    }
    // At the limits the rules are accepted and run, on a test thread's small stack.
    for when in [
        format!("size({}1{}) > 0", "[".repeat(7), "]".repeat(7)),
        format!("{}true{}", "(".repeat(8), ")".repeat(8)),
        format!("1{} > 0", " + 1".repeat(29)),
        vec!["priority == 'x'"; 250].join(" || "),
    ] {
        let doc = with_when(&when);
        assert!(Rules::parse(&doc).is_ok(), "{when}");
        check_and_run(&doc);
    }
}

/// The rules-shaped text gets past the JSON reader and reaches the checks of rules, and both
/// through and past them, often enough to search them: counted on a fixed sample.
#[test]
fn rules_shaped_text_reaches_every_part_of_the_checker() {
    let mut runner = TestRunner::deterministic();
    let strategy = rules_text();
    let mut counts = std::collections::HashMap::new();
    for _ in 0..400 {
        let text = strategy.new_tree(&mut runner).expect("a sample").current();
        *counts.entry(check_and_run(&text)).or_insert(0) += 1;
    }
    let count = |v: Verdict| counts.get(&v).copied().unwrap_or(0);
    // About 65, 90 and 245 of the 400 when this was written.
    assert!(count(Verdict::Accepted) >= 20, "{counts:?}");
    assert!(count(Verdict::RefusedAtARule) >= 40, "{counts:?}");
    assert!(count(Verdict::Refused) >= 80, "{counts:?}");
}
