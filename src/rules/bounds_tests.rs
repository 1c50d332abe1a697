//! The work a document may ask for is bounded: what is refused when the document is read, and
//! what stops an expression while it runs. Each case is one a request to `/rules/try` could
//! send to keep a core or the memory busy.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::*;
use crate::button::ButtonRequest;

fn press(body: Value) -> Context {
    let req = ButtonRequest::parse(Some("application/json"), body.to_string().as_bytes()).unwrap();
    Context::new(&req, DateTime::<Utc>::UNIX_EPOCH)
}

fn small_press() -> Context {
    press(json!({"email": "dan@fabrikam.com", "message": "Printer down"}))
}

/// A press whose message is `n` bytes.
fn long_press(n: usize) -> Context {
    press(json!({"email": "dan@fabrikam.com", "message": "m".repeat(n)}))
}

fn problems(doc: &Value) -> Vec<String> {
    match Rules::parse(&doc.to_string()) {
        Ok(_) => panic!("accepted: {}", short_doc(doc)),
        Err(e) => e.problems,
    }
}

fn short_doc(doc: &Value) -> String {
    doc.to_string().chars().take(200).collect()
}

#[track_caller]
fn assert_one_contains(lines: &[String], fragments: &[&str]) {
    assert!(
        lines
            .iter()
            .any(|l| fragments.iter().all(|f| l.contains(f))),
        "no line contains all of {fragments:?}:\n{}",
        lines.join("\n")
    );
}

/// `[0, 1, …, n-1]` as CEL.
fn numbers(n: usize) -> String {
    let items: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    format!("[{}]", items.join(", "))
}

/// The finding: three loops, one inside the other, over a `let` list of 2,000 numbers, would
/// take 8 billion steps (hours of a core). The list is refused when the document is read, in
/// the words the checker prints.
#[test]
fn a_long_let_list_is_refused_when_the_document_is_read() {
    let xs: Vec<usize> = (0..2000).collect();
    let doc = json!({
        "let": {"xs": xs},
        "rules": [{"when": "xs.exists(a, xs.exists(b, xs.exists(c, a + b + c < 0)))",
                   "set": {"queue": "Never"}}]
    });
    let found = problems(&doc);
    assert_one_contains(&found, &["let.xs: holds 2000 items", "at most 256"]);
    let report = check_report("rules.json", &Rules::parse(&doc.to_string()));
    assert_one_contains(&report, &["error: let.xs: holds 2000 items", "at most 256"]);
    // counted through nested lists and maps, and at the limit accepted
    let nested: Vec<Vec<usize>> = (0..20).map(|_| (0..20).collect()).collect();
    assert_one_contains(
        &problems(&json!({"let": {"m": {"k": nested}}})),
        &["let.m: holds 421 items"],
    );
    let fits: Vec<usize> = (0..256).collect();
    assert!(Rules::parse(&json!({"let": {"xs": fits}}).to_string()).is_ok());
}

/// The same loops over lists the document may hold stop once the rules have taken their steps
/// for the press: the rule is skipped with a line that says so, and the next rule still runs.
#[test]
fn nested_loops_stop_when_the_steps_of_a_press_are_spent() {
    let xs = numbers(100);
    let doc = json!({"rules": [
        {"when": format!("{xs}.exists(a, {xs}.exists(b, {xs}.exists(c, a + b + c < 0)))"),
         "set": {"queue": "Never"}},
        {"set": {"priority": "High"}},
    ]});
    let r = Rules::parse(&doc.to_string()).unwrap();
    let mut c = small_press();
    let out = r.apply(&mut c);
    assert_eq!(out.matched, vec![1], "{out:?}");
    assert_one_contains(&out.errors, &["rules[0]", "was skipped", "1000000 steps"]);
    assert_eq!(c.text("queue"), "");
    assert_eq!(c.text("priority"), "High");
}

/// An error a loop absorbs (`error || true` is true in CEL) still stops the expression once
/// the steps are spent: what it gives would be half an answer.
#[test]
fn spent_steps_stop_the_expression_even_where_cel_absorbs_the_error() {
    let xs = numbers(100);
    let doc = json!({"rules": [
        {"when": format!("{xs}.exists(a, {xs}.exists(b, {xs}.exists(c, a + b + c < 0)) || a == 99)"),
         "set": {"queue": "Half"}},
    ]});
    let r = Rules::parse(&doc.to_string()).unwrap();
    let mut c = small_press();
    let out = r.apply(&mut c);
    assert!(out.matched.is_empty(), "{out:?}");
    assert_one_contains(&out.errors, &["rules[0]", "steps"]);
    assert_eq!(c.text("queue"), "");
}

/// The finding: an 80×80 `map` over a 64 KB message built 400 MB of copies, and the answer
/// another 400 MB. Lists stop growing at the bytes a press may build.
#[test]
fn a_map_of_maps_over_a_long_message_stops_at_the_bytes_a_press_may_build() {
    let xs = numbers(80);
    let doc = json!({
        "let": {"v": null},
        "rules": [{"compute": {"v": format!("{xs}.map(i, {xs}.map(j, message))")}}]
    });
    let r = Rules::parse(&doc.to_string()).unwrap();
    let mut c = long_press(crate::button::MAX_FIELD_BYTES);
    let out = r.apply(&mut c);
    assert!(out.matched.is_empty(), "{:?}", out.errors);
    assert_one_contains(&out.errors, &["computing `v` failed", "1048576 bytes"]);
    assert_eq!(c.get("v"), Some(&Value::Null));
}

/// A list written out in an expression is built too: it may not hold more than a press may
/// build, however the copies are made.
#[test]
fn a_list_of_copies_stops_at_the_bytes_a_press_may_build() {
    let copies = vec!["message"; 40].join(", ");
    let doc = json!({
        "let": {"n": 0},
        "rules": [{"compute": {"n": format!("size([{copies}].join(''))")}}]
    });
    let r = Rules::parse(&doc.to_string()).unwrap();
    let mut c = long_press(crate::button::MAX_FIELD_BYTES);
    let out = r.apply(&mut c);
    assert_one_contains(&out.errors, &["computing `n` failed", "1048576 bytes"]);
    assert_eq!(c.get("n"), Some(&json!(0)));
}

/// A value a rule computes may be no longer than a field of the request: text doubled rule
/// after rule would otherwise grow without end.
#[test]
fn a_computed_value_may_be_no_longer_than_a_field_of_the_request() {
    let doc = json!({"rules": [
        {"compute": {"message": "message + message"}},
        {"compute": {"title": "message"}},
    ]});
    let r = Rules::parse(&doc.to_string()).unwrap();
    let mut c = long_press(40_000);
    let out = r.apply(&mut c);
    assert_eq!(out.matched, vec![1], "{:?}", out.errors);
    assert_one_contains(
        &out.errors,
        &[
            "rules[0]",
            "computing `message` gave",
            "more than 65536 bytes",
        ],
    );
    assert_eq!(c.text("message").len(), 40_000);
}

/// `replace` with an empty pattern puts the new text between every two characters: on a long
/// message, gigabytes from one call. The result is measured before it is made.
#[test]
fn replace_is_refused_a_result_longer_than_a_value_may_be() {
    let doc = json!({
        "let": {"n": 0},
        "rules": [{"compute": {"n": "size(message.replace('', message))"}}]
    });
    let r = Rules::parse(&doc.to_string()).unwrap();
    let mut c = long_press(8_000);
    let out = r.apply(&mut c);
    assert_one_contains(
        &out.errors,
        &["computing `n` failed", "replace() failed", "65536 bytes"],
    );
    // what fits is replaced as CEL replaces
    let doc = json!({
        "let": {"n": ""},
        "rules": [{"compute": {"n": "'a-b-c'.replace('-', '+') + 'a-b-c'.replace('-', '', 1) + 'ab'.replace('', '.')"}}]
    });
    let mut c = small_press();
    let out = Rules::parse(&doc.to_string()).unwrap().apply(&mut c);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(c.text("n"), "a+b+cab-c.a.b.");
}

/// A document is at most 64 KB, packed or not, in the checker's words and the function's.
#[test]
fn a_document_over_64_kb_is_refused() {
    let doc = json!({"selections": ["x".repeat(70_000)]}).to_string();
    let found = match Rules::parse(&doc) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.problems,
    };
    assert_eq!(found.len(), 1, "{found:?}");
    let words = format!(
        "the document: is {} bytes; at most 65536 are accepted",
        doc.len()
    );
    assert!(found[0].starts_with(&words), "{found:?}");
    let packed = pack(&doc);
    assert_eq!(Rules::parse(&packed).unwrap_err().problems, found);
}

/// An expression has at most 1,000 parts: one without loops can otherwise copy a long text
/// once per part.
#[test]
fn an_expression_of_more_than_a_thousand_parts_is_refused() {
    let copies = vec!["message"; 1000].join(", ");
    let doc = json!({"rules": [{"when": format!("size([{copies}]) > 0"), "stop": true}]});
    assert_one_contains(
        &problems(&doc),
        &["rules[0].when", "has 1004 parts", "at most 1000"],
    );
    // a long condition of the kind people write is well within it
    let long = vec!["priority == 'x'"; 250].join(" || ");
    assert!(Rules::parse(&json!({"rules": [{"when": long, "stop": true}]}).to_string()).is_ok());
}
