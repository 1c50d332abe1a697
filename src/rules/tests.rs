use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::*;
use crate::button::ButtonRequest;
use crate::context::{self, Context};

fn request(body: Value) -> ButtonRequest {
    ButtonRequest::parse(Some("application/json"), body.to_string().as_bytes()).unwrap()
}

fn ctx_at(body: Value, at: &str) -> Context {
    let at: DateTime<Utc> = at.parse().unwrap();
    Context::new(&request(body), at)
}

fn ctx(body: Value) -> Context {
    ctx_at(body, "2024-05-06T14:30:00Z")
}

fn dan() -> Context {
    ctx(json!({
        "email": "dan@fabrikam.com",
        "name": "Dan Jump",
        "message": "Printer is down!",
        "title": "Printer",
        "selections": ["This is an emergency", "Impact: High"],
    }))
}

fn rules(doc: Value) -> Rules {
    match Rules::parse(&doc.to_string()) {
        Ok(r) => r,
        Err(e) => panic!("{doc}\n{e}"),
    }
}

fn problems(doc: &str) -> Vec<String> {
    match Rules::parse(doc) {
        Ok(_) => panic!("accepted: {doc}"),
        Err(e) => e.problems,
    }
}

/// Assert that one problem contains every fragment.
#[track_caller]
fn assert_problem(problems: &[String], fragments: &[&str]) {
    assert!(
        problems
            .iter()
            .any(|p| fragments.iter().all(|f| p.contains(f))),
        "no problem contains all of {fragments:?}:\n{}",
        problems.join("\n")
    );
}

#[track_caller]
fn assert_rejected(doc: Value, fragments: &[&str]) {
    assert_problem(&problems(&doc.to_string()), fragments);
}

fn text(ctx: &Context, name: &str) -> String {
    ctx.text(name).to_string()
}

// ---- the document as a whole ----

const EXAMPLE: &str = r#"{
  "defaults": {"priority": "Medium", "ticketStatus": "New", "ticketType": "Service Request",
               "ticketSource": "Other", "queue": "Service Desk"},
  "let": {"impact": 2, "urgency": 2},
  "rules": [
    {"when": "'This is an emergency' in selections", "set": {"priority": "Critical"}},
    {"when": "priority == 'Critical'", "compute": {"title": "'**EMERGENCY** ' + title"}},
    {"when": "email.endsWith('@fabrikam.com')", "reject": "Ticket submission is disabled until payment."},
    {"when": "name == 'Dan Jump'", "set": {"assignee": "Dan Jump"}, "stop": true}
  ]
}"#;

#[test]
fn the_example_document_parses_and_runs() {
    let r = Rules::parse(EXAMPLE).unwrap();
    assert_eq!(r.len(), 4);
    assert_eq!(r.defaults()["priority"], "Medium");
    assert_eq!(r.lets()["impact"], 2);
    let mut c = dan();
    let out = r.apply(&mut c);
    assert_eq!(out.matched, vec![0, 1, 2]);
    assert_eq!(text(&c, "priority"), "Critical");
    assert_eq!(text(&c, "title"), "**EMERGENCY** Printer");
    let rej = out.rejected.unwrap();
    assert_eq!(rej.rule, 2);
    assert_eq!(rej.message, "Ticket submission is disabled until payment.");
    assert_eq!(text(&c, "assignee"), "", "rules after a reject do not run");
}

#[test]
fn the_default_rules_do_nothing() {
    let r = Rules::default();
    let mut c = dan();
    let before = c.clone();
    let out = r.apply(&mut c);
    assert_eq!(c, before);
    assert!(out.matched.is_empty() && out.errors.is_empty() && out.rejected.is_none());
    assert!(Rules::parse("{}").unwrap().is_empty());
}

#[test]
fn json_syntax_errors_give_line_and_column() {
    let p = problems("{\n  \"rules\": [\n    {\"when\": \"true\", \"stop\": true},\n  ]\n}");
    assert_eq!(p.len(), 1);
    assert_problem(&p, &["invalid JSON at line 4, column 3", "trailing comma"]);
    assert_problem(
        &problems("{'rules': []}"),
        &["line 1, column 2", "double quotes"],
    );
    assert_problem(&problems("  "), &["empty", "{}"]);
}

#[test]
fn the_document_must_be_an_object() {
    assert_problem(&problems("[]"), &["must be a JSON object", "an array"]);
    assert_problem(
        &problems("\"rules\""),
        &["must be a JSON object", "a string"],
    );
}

#[test]
fn unknown_top_level_keys_are_named_with_a_suggestion() {
    assert_problem(
        &problems(r#"{"rulse": []}"#),
        &["unknown key `rulse`", "did you mean `rules`?"],
    );
    assert_problem(
        &problems(r#"{"default": {}}"#),
        &["did you mean `defaults`?"],
    );
    assert_problem(
        &problems(r#"{"zzz": 1}"#),
        &["unknown key `zzz`", "`defaults`, `let` and `rules`"],
    );
}

#[test]
fn unknown_rule_keys_are_named_with_the_rule_and_a_suggestion() {
    let doc = json!({"rules": [
        {"set": {"priority": "High"}},
        {"set": {"priority": "High"}},
        {"whne": "name == 'x'", "set": {"priority": "High"}},
    ]});
    assert_rejected(
        doc,
        &["rules[2]", "unknown key `whne`", "did you mean `when`?"],
    );
    let doc = json!({"rules": [{"when": "name == 'x'", "sett": {"priority": "High"}}]});
    assert_rejected(
        doc,
        &[
            "rules[0] (when `name == 'x'`)",
            "unknown key `sett`",
            "`set`",
        ],
    );
}

#[test]
fn duplicate_keys_are_reported() {
    let p = problems(r#"{"rules": [{"when": "true", "when": "false", "stop": true}]}"#);
    assert_problem(&p, &["rules[0]", "key `when` appears more than once"]);
    let p = problems(r#"{"rules": [], "rules": []}"#);
    assert_problem(&p, &["the document", "key `rules` appears more than once"]);
}

#[test]
fn wrong_json_types_are_reported() {
    assert_rejected(json!({"rules": {}}), &["rules: must be an array"]);
    assert_rejected(json!({"rules": [1]}), &["rules[0]: must be an object"]);
    assert_rejected(json!({"defaults": []}), &["defaults: must be an object"]);
    assert_rejected(json!({"let": 3}), &["let: must be an object"]);
    assert_rejected(
        json!({"rules": [{"when": true, "stop": true}]}),
        &["rules[0].when: must be a string", "a boolean"],
    );
    assert_rejected(
        json!({"rules": [{"when": "true", "stop": "yes"}]}),
        &[
            "rules[0] (when `true`)",
            "`stop` must be true or false",
            "a string",
        ],
    );
    assert_rejected(json!({"rules": [{"stop": "true"}]}), &["without quotes"]);
    assert_rejected(
        json!({"rules": [{"set": ["priority", "High"]}]}),
        &["rules[0]", "`set` must be an object", "an array"],
    );
    assert_rejected(
        json!({"rules": [{"compute": "title"}]}),
        &["`compute` must be an object"],
    );
    assert_rejected(
        json!({"rules": [{"compute": {"title": 3}}]}),
        &["compute.title: must be a string", "use `set`"],
    );
}

#[test]
fn cel_syntax_errors_name_the_expression_and_column() {
    assert_rejected(
        json!({"rules": [{"when": "name ==", "stop": true}]}),
        &[
            "rules[0].when `name ==`",
            "syntax error at column 8",
            "ends too early",
        ],
    );
    assert_rejected(
        json!({"rules": [{"when": "name == 'a' and email == 'b'", "stop": true}]}),
        &["syntax error", "`&&`"],
    );
    assert_rejected(
        json!({"rules": [{"when": "name = 'a'", "stop": true}]}),
        &["syntax error", "`==`"],
    );
    assert_rejected(
        json!({"rules": [{"compute": {"title": "'abc"}}]}),
        &["rules[0].compute.title", "syntax error", "quote"],
    );
}

#[test]
fn unknown_variables_are_reported_with_a_suggestion() {
    let doc = json!({"rules": [
        {"set": {"queue": "A"}},
        {"set": {"queue": "A"}},
        {"set": {"queue": "A"}},
        {"when": "priorty == 'High'", "set": {"queue": "A"}},
    ]});
    assert_rejected(
        doc,
        &[
            "rules[3].when `priorty == 'High'`",
            "unknown variable `priorty`: did you mean `priority`?",
        ],
    );
    assert_rejected(
        json!({"rules": [{"compute": {"title": "'x' + titel"}}]}),
        &[
            "rules[0].compute.title",
            "unknown variable `titel`: did you mean `title`?",
        ],
    );
    assert_rejected(
        json!({"rules": [{"when": "status == 'New'", "stop": true}]}),
        &["did you mean `ticketStatus`?"],
    );
    assert_rejected(
        json!({"let": {"vipNames": []}, "rules": [{"when": "name in vipName", "stop": true}]}),
        &["did you mean `vipNames`?"],
    );
    assert_rejected(
        json!({"rules": [{"when": "zzzzzz", "stop": true}]}),
        &["unknown variable `zzzzzz`", "declared in `let`"],
    );
}

#[test]
fn comprehension_variables_and_type_names_are_not_unknown() {
    rules(json!({"rules": [
        {"when": "selections.exists(s, s.startsWith('Impact'))", "stop": true},
        {"when": "selections.all(x, x != '') && type(name) == string", "stop": true},
        {"compute": {"title": "selections.map(s, s.upperAscii()).join(', ')"}},
        {"compute": {"title": "strings.quote(name) + optional.of(title).orValue('')"}},
        {"when": "dyn(name) == 1 || [1, 2].exists_one(x, x > 1)", "stop": true},
    ]}));
}

#[test]
fn unknown_functions_are_reported_with_a_suggestion() {
    assert_rejected(
        json!({"rules": [{"when": "email.toLowerCase() == 'x'", "stop": true}]}),
        &["unknown method `toLowerCase`: did you mean `lowerAscii`?"],
    );
    assert_rejected(
        json!({"rules": [{"when": "name.startswith('D')", "stop": true}]}),
        &["did you mean `startsWith`?"],
    );
    assert_rejected(
        json!({"rules": [{"when": "lenght(name) > 3", "stop": true}]}),
        &["unknown function `lenght`"],
    );
}

#[test]
fn writes_to_read_only_variables_are_refused() {
    assert_rejected(
        json!({"rules": [{"set": {"email": "x@y.com"}}]}),
        &[
            "rules[0]: set.email",
            "`email` is read-only: rules can read it but not change it",
        ],
    );
    assert_rejected(
        json!({"rules": [{"when": "true", "compute": {"selections": "[]"}}]}),
        &["rules[0] (when `true`): compute.selections", "read-only"],
    );
}

#[test]
fn writes_to_undeclared_variables_are_refused() {
    assert_rejected(
        json!({"rules": [{"set": {"priorty": "High"}}]}),
        &[
            "set.priorty",
            "unknown variable `priorty`: did you mean `priority`?",
        ],
    );
    assert_rejected(
        json!({"rules": [{"set": {"zzzzz": 1}}]}),
        &["unknown variable `zzzzz`", "declare it in `let` first"],
    );
}

#[test]
fn set_values_must_fit_their_variable() {
    for (value, fragment) in [
        (json!(["High"]), "an array"),
        (json!(0), "ids are positive"),
        (json!(-3), "ids are positive"),
        (json!(2.5), "not a whole number"),
        (json!(3.0), "write 3"),
        (json!(null), "to leave it empty use \"\""),
        (json!(true), "a boolean"),
    ] {
        assert_rejected(
            json!({"rules": [{"set": {"priority": value}}]}),
            &[
                "rules[0]: set.priority",
                fragment,
                "name (string",
                "id (positive integer)",
            ],
        );
    }
    assert_rejected(
        json!({"rules": [{"set": {"title": 5}}]}),
        &["set.title", "must be a string"],
    );
    assert_rejected(
        json!({"let": {"impact": 2}, "rules": [{"set": {"impact": "High"}}]}),
        &["set.impact", "declared in `let` as a number", "a string"],
    );
    // integers and doubles are both numbers; an id may be given as one
    rules(
        json!({"let": {"impact": 2, "tags": [], "anything": null}, "rules": [
            {"set": {"impact": 2.5, "priority": 3, "queue": "Escalations", "tags": ["a"], "anything": {"k": 1}}},
            {"when": "impact > 1 && size(tags) > 0 && anything != null", "stop": true}
        ]}),
    );
}

#[test]
fn a_variable_in_both_set_and_compute_is_refused() {
    assert_rejected(
        json!({"rules": [{"set": {"title": "a"}, "compute": {"title": "'b'"}}]}),
        &["rules[0]", "`title` is both in `set` and in `compute`"],
    );
}

#[test]
fn a_rule_must_do_something() {
    assert_rejected(
        json!({"rules": [{"when": "name == 'x'"}]}),
        &[
            "rules[0] (when `name == 'x'`)",
            "does nothing",
            "`set`, `compute`, `reject`",
        ],
    );
    assert_rejected(
        json!({"rules": [{"stop": false}]}),
        &["rules[0]: does nothing"],
    );
    assert_rejected(json!({"rules": [{"set": {}}]}), &["does nothing"]);
}

#[test]
fn reject_must_be_a_message() {
    assert_rejected(
        json!({"rules": [{"reject": ""}]}),
        &["rules[0]", "`reject` is empty"],
    );
    assert_rejected(
        json!({"rules": [{"reject": true}]}),
        &["`reject` must be the message", "a boolean"],
    );
}

#[test]
fn a_when_that_is_visibly_not_a_condition_is_refused() {
    assert_rejected(
        json!({"rules": [{"when": "'abc'", "stop": true}]}),
        &[
            "rules[0].when `'abc'`",
            "must be a condition",
            "a string",
            "name == 'abc'",
        ],
    );
    assert_rejected(
        json!({"rules": [{"when": "1", "stop": true}]}),
        &["must be a condition", "an int"],
    );
    assert_rejected(
        json!({"rules": [{"when": "title", "stop": true}]}),
        &["must be a condition", "title == '…'"],
    );
    assert_rejected(
        json!({"rules": [{"when": "selections", "stop": true}]}),
        &["must be a condition", "in selections"],
    );
    assert_rejected(
        json!({"rules": [{"when": "name.size()", "stop": true}]}),
        &["must be a condition"],
    );
}

#[test]
fn visibly_wrong_types_in_expressions_are_refused() {
    assert_rejected(
        json!({"let": {"impact": 2}, "rules": [{"when": "impact * 'x' > 4", "stop": true}]}),
        &["no such overload for number * string"],
    );
    assert_rejected(
        json!({"rules": [{"compute": {"title": "title + size(selections)"}}]}),
        &[
            "no such overload for string + int",
            "string(size(selections))",
        ],
    );
    assert_rejected(
        json!({"rules": [{"when": "selections == 'Urgent'", "stop": true}]}),
        &["always false", "'Urgent' in selections"],
    );
    assert_rejected(
        json!({"rules": [{"when": "assignee == null", "stop": true}]}),
        &["always false", "never null"],
    );
    assert_rejected(
        json!({"rules": [{"when": "'Urgent' in message", "stop": true}]}),
        &[
            "`in` looks in a list or a map",
            "message.contains('Urgent')",
        ],
    );
    assert_rejected(
        json!({"rules": [{"when": "selections.contains('Urgent')", "stop": true}]}),
        &["`contains` works on a string", "'Urgent' in selections"],
    );
    assert_rejected(
        json!({"rules": [{"when": "openDate.getHours() > 17", "stop": true}]}),
        &["timestamp(openDate).getHours()"],
    );
    assert_rejected(
        json!({"rules": [{"when": "name.contains(3)", "stop": true}]}),
        &["`contains` takes a string", "an int"],
    );
    assert_rejected(
        json!({"rules": [{"when": "email.domain == 'x'", "stop": true}]}),
        &["`email.domain`", "no fields"],
    );
    assert_rejected(
        json!({"rules": [{"when": "name && true", "stop": true}]}),
        &["`&&` needs true or false", "`name` is a string"],
    );
    assert_rejected(
        json!({"rules": [{"compute": {"title": "size(selections)"}}]}),
        &["rules[0].compute.title", "gives an int", "string(…)"],
    );
    assert_rejected(
        json!({"rules": [{"compute": {"priority": "selections"}}]}),
        &[
            "compute.priority",
            "gives a list",
            "name (string) or an id (int)",
        ],
    );
    assert_rejected(
        json!({"let": {"flag": false}, "rules": [{"compute": {"flag": "name"}}]}),
        &[
            "compute.flag",
            "gives a string",
            "declared in `let` as a bool",
        ],
    );
    assert_rejected(
        json!({"rules": [{"when": "email.matches('^(dan')", "stop": true}]}),
        &["`^(dan` is not a valid regular expression: unclosed group"],
    );
    // what could be right at run time is let through
    rules(json!({"let": {"m": {}}, "rules": [
        {"compute": {"title": "priority + ' ' + title"}},
        {"compute": {"priority": "m.p"}},
        {"when": "m.flag", "stop": true},
        {"when": "1 < 1.5 && 2.0 > 1", "stop": true},
    ]}));
}

#[test]
fn every_problem_is_reported_at_once() {
    let p = problems(
        r#"{
          "defaults": {"priorty": "High"},
          "let": {"email": 1},
          "rules": [
            {"whne": "true", "set": {"priority": "High"}},
            {"when": "nmae == 'x'", "set": {"email": "x"}},
            {"when": "'abc'", "reject": ""}
          ]
        }"#,
    );
    for fragments in [
        &["defaults.priorty", "did you mean `priority`?"][..],
        &["let.email", "built-in variable"],
        &["rules[0]", "unknown key `whne`"],
        &[
            "rules[1].when",
            "unknown variable `nmae`: did you mean `name`?",
        ],
        &["set.email", "read-only"],
        &["rules[2].when `'abc'`", "must be a condition"],
        &["rules[2]", "`reject` is empty"],
    ] {
        assert_problem(&p, fragments);
    }
    assert_eq!(p.len(), 7, "{}", p.join("\n"));
    let e = Rules::parse(r#"{"rules": [1, 2]}"#).unwrap_err();
    assert_eq!(e.to_string().lines().count(), 2);
}

#[test]
fn let_names_must_be_new_identifiers() {
    assert_rejected(
        json!({"let": {"priority": 1}}),
        &["let.priority", "built-in variable", "defaults"],
    );
    assert_rejected(
        json!({"let": {"name": ""}}),
        &["let.name", "built-in variable"],
    );
    assert_rejected(
        json!({"let": {"my-var": 1}}),
        &["let.my-var", "not a valid name", "myVar"],
    );
    assert_rejected(json!({"let": {"in": 1}}), &["let.in", "reserved"]);
    assert_rejected(json!({"let": {"int": 1}}), &["let.int", "CEL type"]);
}

#[test]
fn defaults_hold_only_read_write_variables_of_the_right_type() {
    assert_rejected(
        json!({"defaults": {"email": "a@b.c"}}),
        &["defaults.email", "read-only"],
    );
    assert_rejected(
        json!({"defaults": {"priorty": "High"}}),
        &[
            "defaults.priorty",
            "unknown variable `priorty`: did you mean `priority`?",
        ],
    );
    assert_rejected(
        json!({"let": {"x": 1}, "defaults": {"x": 2}}),
        &["defaults.x", "`let` variable"],
    );
    assert_rejected(
        json!({"defaults": {"queue": " "}}),
        &["defaults.queue", "is empty"],
    );
    assert_rejected(
        json!({"defaults": {"queue": 0}}),
        &["defaults.queue", "positive"],
    );
    assert_rejected(
        json!({"defaults": {"queue": 1.5}}),
        &["defaults.queue", "whole number"],
    );
    assert_rejected(
        json!({"defaults": {"title": 1}}),
        &["defaults.title", "must be a string"],
    );
    let r = rules(json!({"defaults": {"queue": 7, "priority": "Low", "title": "Help"}}));
    assert_eq!(r.defaults()["queue"], 7);
}

// ---- evaluation ----

#[test]
fn defaults_fill_only_empty_values() {
    let r = rules(
        json!({"defaults": {"priority": "Medium", "queue": "Service Desk", "title": "Default"}}),
    );
    let mut c = dan();
    c.set("queue", json!("Escalations"));
    r.apply(&mut c);
    assert_eq!(text(&c, "priority"), "Medium");
    assert_eq!(text(&c, "queue"), "Escalations");
    assert_eq!(text(&c, "title"), "Printer");
}

#[test]
fn rules_see_defaults_and_what_earlier_rules_wrote() {
    let r = rules(json!({
        "defaults": {"priority": "Medium"},
        "rules": [
            {"when": "priority == 'Medium'", "set": {"queue": "A"}},
            {"when": "queue == 'A'", "set": {"assignee": "Jane Tech"}},
        ]
    }));
    let mut c = dan();
    let out = r.apply(&mut c);
    assert_eq!(out.matched, vec![0, 1]);
    assert_eq!(text(&c, "assignee"), "Jane Tech");
}

#[test]
fn compute_sees_the_context_as_it_was_before_the_rule() {
    let r = rules(json!({
        "defaults": {"priority": "Low"},
        "rules": [{"compute": {"title": "priority + ' ' + title", "priority": "'High'"}}]
    }));
    let mut c = dan();
    r.apply(&mut c);
    assert_eq!(text(&c, "title"), "Low Printer");
    assert_eq!(text(&c, "priority"), "High");
}

#[test]
fn a_runtime_error_skips_the_whole_rule_and_later_rules_still_run() {
    let r = rules(json!({
        "defaults": {"priority": "Medium"},
        "rules": [
            {"set": {"queue": "First"}},
            {"when": "priority * 2 > 1", "set": {"queue": "Never"}},
            {"set": {"assignee": "Nobody"}, "compute": {"title": "title + string(priority * 2)"}},
            {"set": {"ticketType": "Incident"}},
        ]
    }));
    let mut c = dan();
    let out = r.apply(&mut c);
    assert_eq!(out.matched, vec![0, 3]);
    assert_eq!(out.errors.len(), 2, "{:?}", out.errors);
    assert_eq!(
        out.errors[0],
        "rules[1] (when `priority * 2 > 1`) was skipped: no such overload for string * int"
    );
    assert!(
        out.errors[1].starts_with(
            "rules[2] was skipped: computing `title` failed: no such overload for string * int"
        ),
        "{}",
        out.errors[1]
    );
    assert_eq!(text(&c, "queue"), "First");
    assert_eq!(
        text(&c, "assignee"),
        "",
        "none of a skipped rule's assignments happen"
    );
    assert_eq!(text(&c, "title"), "Printer");
    assert_eq!(text(&c, "ticketType"), "Incident");
}

#[test]
fn a_when_that_is_not_a_bool_at_run_time_skips_the_rule() {
    let r = rules(json!({
        "let": {"m": {"flag": "yes"}},
        "rules": [{"when": "m.flag", "set": {"queue": "A"}}, {"set": {"queue": "B"}}]
    }));
    let mut c = dan();
    let out = r.apply(&mut c);
    assert_eq!(
        out.errors,
        vec![
            "rules[0] (when `m.flag`) was skipped: `when` gave the string \"yes\", not true or false"
        ]
    );
    assert_eq!(text(&c, "queue"), "B");
}

#[test]
fn computed_values_of_the_wrong_type_skip_the_rule() {
    let r = rules(json!({
        "let": {"m": {"list": [1], "d": 2.5, "zero": 0, "n": 3}},
        "rules": [
            {"compute": {"priority": "m.list"}},
            {"compute": {"priority": "m.d"}},
            {"compute": {"priority": "m.zero"}},
            {"compute": {"title": "m.n"}},
            {"compute": {"queue": "m.n"}},
            {"compute": {"ticketType": "5u"}},
        ]
    }));
    let mut c = dan();
    let out = r.apply(&mut c);
    assert_eq!(out.matched, vec![4, 5]);
    assert!(out.errors[0].contains("computing `priority` gave a list [1], but `priority` takes the priority as a name (string) or an id (int)"), "{}", out.errors[0]);
    assert!(
        out.errors[1].contains("the double 2.5, but ids are whole numbers"),
        "{}",
        out.errors[1]
    );
    assert!(
        out.errors[2].contains("ids are positive"),
        "{}",
        out.errors[2]
    );
    assert!(
        out.errors[3].contains("`title` is text"),
        "{}",
        out.errors[3]
    );
    assert_eq!(c.get("queue"), Some(&json!(3)));
    assert_eq!(c.get("ticketType"), Some(&json!(5)), "uints become ints");
    assert_eq!(
        c.lookup(context::Lookup::Queue),
        Some(context::NameOrId::Id(3))
    );
}

#[test]
fn let_variables_are_read_and_written_but_not_built_in() {
    let r = rules(json!({
        "let": {"impact": 1, "urgency": 1, "notes": []},
        "rules": [
            {"when": "'Impact: High' in selections", "set": {"impact": 3}},
            {"when": "message.contains('!')", "compute": {"urgency": "urgency + 2", "notes": "notes + ['bang']"}},
            {"when": "impact * urgency >= 9", "set": {"priority": "Critical"}},
        ]
    }));
    let mut c = dan();
    let out = r.apply(&mut c);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(c.get("impact"), Some(&json!(3)));
    assert_eq!(c.get("urgency"), Some(&json!(3)));
    assert_eq!(c.get("notes"), Some(&json!(["bang"])));
    assert_eq!(text(&c, "priority"), "Critical");
    for name in ["impact", "urgency", "notes"] {
        assert_eq!(context::access(name), None, "{name} is not sent to BMS");
    }
    // a fresh request starts from the initial values again
    let mut c = ctx(json!({"email": "a@b.com", "message": "hi"}));
    r.apply(&mut c);
    assert_eq!(c.get("impact"), Some(&json!(1)));
}

#[test]
fn let_variables_keep_their_type_at_run_time() {
    let r = rules(json!({
        "let": {"count": 0, "m": {"s": "text"}},
        "rules": [{"compute": {"count": "m.s"}}, {"compute": {"count": "count + 1"}}]
    }));
    let mut c = dan();
    let out = r.apply(&mut c);
    assert_eq!(out.matched, vec![1]);
    assert!(
        out.errors[0].contains("declared in `let` as a number"),
        "{:?}",
        out.errors
    );
    assert_eq!(c.get("count"), Some(&json!(1)));
}

#[test]
fn stop_ends_processing_when_the_rule_matches() {
    let r = rules(json!({"rules": [
        {"when": "name == 'Nobody'", "set": {"queue": "X"}, "stop": true},
        {"when": "name == 'Dan Jump'", "set": {"assignee": "Dan Jump"}, "stop": true},
        {"set": {"assignee": "Someone Else"}},
    ]}));
    let mut c = dan();
    let out = r.apply(&mut c);
    assert_eq!(out.matched, vec![1]);
    assert_eq!(text(&c, "assignee"), "Dan Jump");
    assert_eq!(text(&c, "queue"), "");
}

#[test]
fn reject_returns_the_message_and_stops() {
    let r = rules(json!({"rules": [
        {"when": "email.lowerAscii().endsWith('@fabrikam.com')", "reject": "  Payment overdue.  "},
        {"set": {"queue": "X"}},
    ]}));
    let mut c = dan();
    let out = r.apply(&mut c);
    let rej = out.rejected.as_ref().unwrap();
    assert_eq!((rej.rule, rej.message.as_str()), (0, "Payment overdue."));
    assert_eq!(text(&c, "queue"), "");
    let json = serde_json::to_value(&out).unwrap();
    assert_eq!(json["rejected"]["rule"], 0);
    assert_eq!(json["matched"], json!([0]));

    let mut other = ctx(json!({"email": "a@contoso.com", "message": "hi"}));
    let out = r.apply(&mut other);
    assert!(out.rejected.is_none());
    assert_eq!(text(&other, "queue"), "X");
}

#[test]
fn the_extra_string_functions_work() {
    let r = rules(json!({"let": {"out": []}, "rules": [{"compute": {"out": "[
        '  MiXed  '.trim(),
        'MiXed'.lowerAscii(),
        'MiXed'.upperAscii(),
        email.lowerAscii(),
        name.trim().upperAscii()
    ]"}}]}));
    let mut c = ctx(json!({"email": "DAN@Fabrikam.COM", "message": "x", "name": "  Dan Jump "}));
    let out = r.apply(&mut c);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(
        c.get("out"),
        Some(&json!([
            "MiXed",
            "mixed",
            "MIXED",
            "dan@fabrikam.com",
            "DAN JUMP"
        ]))
    );
}

#[test]
fn the_standard_functions_work() {
    let r = rules(json!({"let": {"out": []}, "rules": [{"compute": {"out": "[
        message.contains('down'),
        message.startsWith('Printer'),
        email.endsWith('@fabrikam.com'),
        email.matches('^[a-z]+@'),
        size(selections) == 2,
        'This is an emergency' in selections,
        selections.exists(s, s.startsWith('Impact: ')),
        timestamp(openDate).getHours() == 14,
        message.replace('down', 'up'),
        email.split('@')[1]
    ]"}}]}));
    let mut c = dan();
    let out = r.apply(&mut c);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(
        c.get("out"),
        Some(&json!([
            true,
            true,
            true,
            true,
            true,
            true,
            true,
            true,
            "Printer is up!",
            "fabrikam.com"
        ]))
    );
}

#[test]
fn literal_patterns_are_compiled_once_when_loaded() {
    let r = rules(json!({"let": {"found": []}, "rules": [
        {"when": "email.matches('^dan@')", "set": {"queue": "Dan"}},
        {"when": "name.matches('^Dan') || email.matches('^dan@')", "set": {"assignee": "Jane Tech"}},
        {"compute": {"found": "[matches(email, 'fabrikam[.]com$'), selections.exists(s, s.matches(r'^Impact: \\w+$'))]"}},
    ]}));
    assert_eq!(
        r.regexes.patterns(),
        ["^Dan", "^Impact: \\w+$", "^dan@", "fabrikam[.]com$"],
        "each literal pattern once, the repeated one too"
    );
    for _ in 0..2 {
        let mut c = dan();
        let out = r.apply(&mut c);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(out.matched, vec![0, 1, 2]);
        assert_eq!(c.get("found"), Some(&json!([true, true])));
    }
    assert_eq!(
        r.regexes.patterns().len(),
        4,
        "running compiles nothing more"
    );
}

#[test]
fn matches_searches_with_re2_syntax_as_cel_does() {
    let cases = [
        ("email.matches('fabrikam')", true),
        ("email.matches('^fabrikam')", false),
        ("email.matches('^dan@fabrikam[.]com$')", true),
        ("email.matches('^dan@fabrikam[.]co$')", false),
        ("email.matches('^DAN')", false),
        ("email.matches('(?i)^DAN')", true),
        ("email.matches('')", true),
        ("title.matches('^$')", false),
        ("message.matches(r'\\bdown\\b')", true),
        ("matches(name, '^Dan Jump$')", true),
        ("matches(name, '^Jump')", false),
        ("!email.matches('x')", true),
    ];
    for (when, want) in cases {
        let r = rules(json!({"rules": [{"when": when, "set": {"queue": "Hit"}}]}));
        let mut c = dan();
        let out = r.apply(&mut c);
        assert!(out.errors.is_empty(), "{when}: {:?}", out.errors);
        assert_eq!(text(&c, "queue") == "Hit", want, "{when}");
    }
}

#[test]
fn matches_on_a_value_that_is_not_text_is_the_same_runtime_error() {
    let r = rules(json!({"rules": [
        {"set": {"priority": 3}},
        {"when": "priority.matches('3')", "set": {"queue": "A"}},
        {"when": "matches(priority, '3')", "set": {"queue": "B"}},
    ]}));
    let mut c = dan();
    let out = r.apply(&mut c);
    assert_eq!(
        out.errors,
        [
            "rules[1] (when `priority.matches('3')`) was skipped: no such overload for int.matches(string)",
            "rules[2] (when `matches(priority, '3')`) was skipped: no such overload for matches(int, string)",
        ]
    );
}

#[test]
fn an_invalid_literal_pattern_is_refused_when_loaded_in_either_form() {
    for when in ["email.matches('^(dan')", "matches(email, '^(dan')"] {
        assert_rejected(
            json!({"rules": [{"when": when, "stop": true}]}),
            &[
                "rules[0].when",
                "`^(dan` is not a valid regular expression: unclosed group",
            ],
        );
    }
    assert_rejected(
        json!({"rules": [{"compute": {"title": "title.matches('[a-') ? 'x' : 'y'"}}]}),
        &[
            "compute.title",
            "`[a-` is not a valid regular expression: unclosed character class",
        ],
    );
}

#[test]
fn a_pattern_in_a_variable_still_works() {
    let r = rules(json!({"let": {"pattern": "^dan@"}, "rules": [
        {"when": "email.matches(pattern)", "set": {"queue": "Dan"}},
        {"when": "matches(name, pattern)", "set": {"assignee": "Nobody"}},
        {"compute": {"pattern": "'('"}},
        {"when": "email.matches(pattern)", "set": {"queue": "Never"}},
    ]}));
    assert!(
        r.regexes.patterns().is_empty(),
        "nothing to compile in advance"
    );
    let mut c = dan();
    let out = r.apply(&mut c);
    assert_eq!(out.matched, vec![0, 2]);
    assert_eq!(text(&c, "queue"), "Dan");
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert!(
        out.errors[0].starts_with(
            "rules[3] (when `email.matches(pattern)`) was skipped: matches() failed: '(' not a valid regex:"
        ),
        "{}",
        out.errors[0]
    );
}

#[test]
fn ids_and_names_both_work_for_lookup_variables() {
    let r = rules(json!({
        "defaults": {"queue": 12},
        "rules": [
            {"when": "queue == 12", "set": {"priority": 3}},
            {"when": "priority == 3", "compute": {"assignee": "'Jane Tech'"}},
        ]
    }));
    let mut c = dan();
    let out = r.apply(&mut c);
    assert_eq!(out.matched, vec![0, 1]);
    assert_eq!(c.get("priority"), Some(&json!(3)));
    assert_eq!(text(&c, "assignee"), "Jane Tech");
}

#[test]
fn values_cross_between_json_and_cel() {
    let r = rules(json!({
        "let": {"v": null},
        "rules": [{"compute": {"v": "{'a': [1, 2.5, true, null, 'x', 18446744073709551615u], 'b': {'c': 1}, 't': timestamp(openDate), 'd': duration('90s')}"}}]
    }));
    let mut c = dan();
    let out = r.apply(&mut c);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(
        c.get("v"),
        Some(&json!({
            "a": [1, 2.5, true, null, "x", 18446744073709551615u64],
            "b": {"c": 1},
            "t": "2024-05-06T14:30:00+00:00",
            "d": "90s"
        }))
    );
    // and a let value goes the other way intact
    let r = rules(json!({
        "let": {"m": {"big": 18446744073709551615u64, "list": [1, "a"], "f": 1.5}, "ok": false},
        "rules": [{"compute": {"ok": "m.big == 18446744073709551615u && m.list[1] == 'a' && m.f == 1.5"}}]
    }));
    let mut c = dan();
    let out = r.apply(&mut c);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(c.get("ok"), Some(&json!(true)));
}

#[test]
fn warnings_point_out_rules_that_cannot_apply() {
    let r = rules(json!({"let": {"unused": 1}, "rules": [
        {"when": "false", "stop": true},
        {"reject": "Closed for maintenance"},
        {"set": {"queue": "A"}},
    ]}));
    let w = r.warnings();
    assert!(
        w.iter()
            .any(|w| w.contains("rules[0]") && w.contains("never applies")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|w| w.contains("rules[2] and later can never apply")
                && w.contains("rules[1] rejects every ticket")),
        "{w:?}"
    );
    assert!(w.iter().any(|w| w.contains("let.unused")), "{w:?}");
}

#[test]
fn minify_keeps_key_order_and_strings() {
    let text = "{\n  \"rules\": [ {\"when\": \"name == 'Dan  Jump'\",\n \"stop\": true} ],\n \"a\": \"x\\\" y\"\n}";
    assert_eq!(
        minify(text).unwrap(),
        r#"{"rules":[{"when":"name == 'Dan  Jump'","stop":true}],"a":"x\" y"}"#
    );
    assert_eq!(minify("{"), None);
}

#[test]
fn rules_are_cheap_to_share_and_clone() {
    let r = Rules::parse(EXAMPLE).unwrap();
    let r2 = r.clone();
    let handle = std::thread::spawn(move || {
        let mut c = dan();
        r2.apply(&mut c).matched
    });
    assert_eq!(handle.join().unwrap(), vec![0, 1, 2]);
    assert!(format!("{r:?}").contains("Expression(\"priority == 'Critical'\")"));
}

#[test]
fn selections_list_the_help_pages_check_boxes() {
    let r = rules(json!({"selections": ["Network", " Printer ", "This is an emergency"]}));
    assert_eq!(
        r.selections(),
        ["Network", "Printer", "This is an emergency"]
    );
    assert!(rules(json!({})).selections().is_empty());
    assert_rejected(
        json!({"selections": "Network, Printer"}),
        &["selections: must be a list", "not a string"],
    );
    let p = problems(&json!({"selections": ["Network", "", 3, "Network", "a\nb"]}).to_string());
    assert_problem(&p, &["selections[1]: is empty"]);
    assert_problem(
        &p,
        &["selections[2]: must be the text of a check box", "a number"],
    );
    assert_problem(&p, &["selections[3]: `Network` is in the list twice"]);
    assert_problem(&p, &["selections[4]: holds a control character"]);
    assert_problem(
        &problems(r#"{"selection": []}"#),
        &["unknown key `selection`", "did you mean `selections`?"],
    );
}

#[test]
fn a_packed_document_is_read_and_its_problems_name_unpacked_places() {
    let doc = json!({"selections": ["Network"], "rules": [{"when": "'Network' in selections", "set": {"queue": "Network"}}]});
    let packed = super::pack(&doc.to_string());
    let r = Rules::parse(&packed).unwrap();
    assert_eq!(r.selections(), ["Network"]);
    assert_eq!(r.len(), 1);
    let bad = super::pack(r#"{"rules": [{"when": "prority == 'High'", "stop": true}]}"#);
    assert_problem(
        &problems(&bad),
        &["rules[0].when", "did you mean `priority`?"],
    );
    assert_problem(&problems("gz:!!"), &["not valid base64"]);
}

#[test]
fn a_set_value_that_reads_like_an_expression_is_warned_about() {
    let r = rules(json!({"defaults": {"queue": "Service Desk"}, "rules": [
        {"set": {"title": "'[VIP] ' + title"}},
        {"set": {"message": "message + ' (from the kiosk)'"}},
        {"set": {"assignee": "name"}},
        {"set": {"queue": "\"Escalations\""}},
        {"set": {"queue": "Service Desk", "title": "C++ compiler", "message": "O'Brien's laptop"}},
    ]}));
    let w = r.warnings();
    assert_eq!(w.len(), 4, "{w:?}");
    assert!(
        w[0].starts_with("rules[0]: set.title: `'[VIP] ' + title` is set as this very text")
            && w[0].contains(
                "did you mean `compute`? (\"compute\": {\"title\": \"'[VIP] ' + title\"})"
            ),
        "{w:?}"
    );
    assert!(w[1].starts_with("rules[1]: set.message: "), "{w:?}");
    assert!(
        w[2].starts_with("rules[2]: set.assignee: `name` is set as this very text"),
        "{w:?}"
    );
    assert!(
        w[3].contains("(\"compute\": {\"queue\": \"\\\"Escalations\\\"\"})"),
        "{w:?}"
    );
}

#[test]
fn a_literal_time_zone_must_be_one_cel_can_read() {
    assert_rejected(
        json!({"rules": [{"when": "timestamp(openDate).getHours('Central') >= 17", "stop": true}]}),
        &[
            "rules[0].when",
            "`timestamp(openDate).getHours('Central')`: `Central` is not a time zone",
            "did you mean `America/Chicago`, `Canada/Central` or `US/Central`?",
        ],
    );
    assert_rejected(
        json!({"rules": [{"when": "timestamp(openDate).getDayOfWeek('Europe/Londn') == 0", "stop": true}]}),
        &["did you mean `Europe/London`?"],
    );
    assert_rejected(
        json!({"rules": [{"when": "timestamp(openDate).getHours('25:00') > 1", "stop": true}]}),
        &["`25:00` is not a time zone offset"],
    );
    let r = rules(json!({"rules": [{"when":
        "timestamp(openDate).getHours('America/Chicago') >= 17 || timestamp(openDate).getHours('-06:00') < 8",
        "stop": true}]}));
    assert!(r.warnings().is_empty(), "{:?}", r.warnings());
}

#[test]
fn the_hour_without_a_time_zone_is_utc_and_warned_about() {
    let r = rules(json!({"rules": [
        {"when": "timestamp(openDate).getHours() >= 17", "set": {"queue": "After Hours"}},
        {"when": "timestamp(openDate).getDayOfWeek() == 0", "set": {"queue": "Weekend"}},
        {"when": "timestamp(openDate).getMinutes() == 0", "set": {"queue": "On the hour"}},
        {"when": "duration('3h').getHours() == 3", "set": {"queue": "Durations"}},
    ]}));
    let w = r.warnings();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].starts_with("rules[0].when `timestamp(openDate).getHours() >= 17`: ")
            && w[0].contains("`timestamp(openDate).getHours()` counts in UTC")
            && w[0].contains("`timestamp(openDate).getHours('America/Chicago')`"),
        "{w:?}"
    );
    assert!(w[1].contains("getDayOfWeek()` counts in UTC"), "{w:?}");
    // The rules run all the same, in UTC: 18:30 on a Monday.
    let mut c = ctx_at(
        json!({"email": "a@b.com", "message": "m"}),
        "2024-05-06T18:30:00Z",
    );
    assert_eq!(r.apply(&mut c).matched, [0, 3]);
}

#[test]
fn the_hour_as_a_field_points_to_get_hours_in_a_time_zone() {
    assert_rejected(
        json!({"rules": [{"when": "openDate.hour >= 17", "stop": true}]}),
        &[
            "`openDate.hour`: `openDate` is a string, which has no fields",
            "to read the hour, write `timestamp(openDate).getHours('America/Chicago')`",
        ],
    );
    assert_rejected(
        json!({"rules": [{"when": "timestamp(openDate).weekday == 0", "stop": true}]}),
        &["`timestamp(openDate).getDayOfWeek('America/Chicago')`"],
    );
    assert_rejected(
        json!({"rules": [{"when": "openDate.getHours() > 17", "stop": true}]}),
        &["`timestamp(openDate).getHours('America/Chicago')`"],
    );
}
