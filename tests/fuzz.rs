//! Property tests: the request parser and the rules checker take anything without panicking.
//!
//! 256 cases per property in the normal test run; `PROPTEST_CASES=20000 cargo test --test fuzz`
//! searches much further.

use chrono::Utc;
use kaseya_button::button::{ButtonRequest, RequestError};
use kaseya_button::context::{Context, READ_ONLY, READ_WRITE};
use kaseya_button::rules::Rules;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn config() -> ProptestConfig {
    // An explicit PROPTEST_CASES wins; otherwise a count that keeps the test run short.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

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
    #![proptest_config(config())]

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

/// The checker either accepts the document or lists problems; rules it accepts run on a press.
fn check_and_run(text: &str) {
    match Rules::parse(text) {
        Ok(rules) => {
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
            let _ = rules.apply(&mut ctx);
        }
        Err(e) => assert!(!e.problems.is_empty()),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_json_documents_never_panic_the_rules_checker(doc in json_value()) {
        check_and_run(&doc.to_string());
    }

    #[test]
    fn arbitrary_text_never_panics_the_rules_checker(text in ".{0,200}") {
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
