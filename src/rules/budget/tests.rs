use std::collections::BTreeSet;
use std::sync::Arc;

use cel::common::ast::{Expr, IdedExpr};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::rewrite::{BUILT, REPLACE, TICK, bounded};
use super::*;
use crate::button::ButtonRequest;
use crate::context::Context;
use crate::rules::{Rules, eval, functions};

fn press(message: &str) -> Context {
    let body = json!({"email": "dan@fabrikam.com", "message": message, "selections": ["a", "b"]});
    let req = ButtonRequest::parse(Some("application/json"), body.to_string().as_bytes()).unwrap();
    Context::new(&req, DateTime::<Utc>::UNIX_EPOCH)
}

/// The steps a press spent on `when`, and its outcome.
fn spent(when: &str, message: &str) -> (u64, crate::rules::Outcome) {
    let doc = json!({"rules": [{"when": when, "set": {"queue": "Q"}}]}).to_string();
    let rules = Rules::parse(&doc).unwrap();
    let budget = Arc::new(Budget::default());
    let outcome = eval::apply_within(&rules, &mut press(message), &budget);
    (budget.steps(), outcome)
}

/// An item of a loop costs its body's parts, and a step for every 64 bytes the body reads;
/// a press stops as soon as its budget is spent.
#[test]
fn loops_pay_for_their_items_and_the_text_they_read() {
    // `s == 'x'` and the loop's own `@result || …`: 5 parts an item, 2 items
    let (steps, out) = spent("selections.exists(s, s == 'x')", "hi");
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let per_item = steps / 2;
    assert_eq!(steps, 2 * per_item);
    // reading a 64 KB message costs 1,024 steps more an item
    let long = "m".repeat(64 * 1024);
    let (steps, out) = spent("selections.exists(s, message == s)", &long);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(steps, 2 * (per_item + 1024));
    // nested loops: every inner item is paid for
    let xs = (0..100)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let (steps, out) = spent(
        &format!("[{xs}].exists(a, [{xs}].exists(b, [{xs}].exists(c, a + b + c < 0)))"),
        "hi",
    );
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert!(steps > MAX_STEPS, "{steps}");
    // each of the three loops open when the budget ran out tried one more item, and no more
    assert!(steps < MAX_STEPS + 3 * 1000, "stopped at once: {steps}");
}

fn calls<'e>(e: &'e IdedExpr, name: &str, found: &mut Vec<&'e IdedExpr>) {
    if let Expr::Call(call) = &e.expr
        && call.func_name == name
    {
        found.push(e);
    }
    match &e.expr {
        Expr::Call(call) => {
            call.target.iter().for_each(|t| calls(t, name, found));
            call.args.iter().for_each(|a| calls(a, name, found));
        }
        Expr::List(l) => l.elements.iter().for_each(|el| calls(el, name, found)),
        Expr::Comprehension(c) => {
            for part in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                calls(part, name, found);
            }
        }
        Expr::Select(s) => calls(&s.operand, name, found),
        _ => {}
    }
}

fn rewritten(src: &str, variables: &[&str]) -> IdedExpr {
    let program = functions::env().compile(src).unwrap();
    let variables: BTreeSet<String> = variables.iter().map(|v| v.to_string()).collect();
    bounded(program.expression(), &variables)
}

/// The names a tick is given to weigh.
fn ticks_read(e: &IdedExpr) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    calls(e, TICK, &mut found);
    found
        .iter()
        .map(|t| match &t.expr {
            Expr::Call(call) => call.args[2..]
                .iter()
                .map(|a| match &a.expr {
                    Expr::Ident(n) => n.clone(),
                    other => panic!("{other:?}"),
                })
                .collect(),
            _ => unreachable!(),
        })
        .collect()
}

/// A loop's tick weighs what its body reads from outside it: the rules' variables and the
/// items of the loops around it, never its own item (not yet bound when `exists` ticks), nor
/// type names.
#[test]
fn a_tick_weighs_what_the_body_reads_from_outside() {
    let e = rewritten(
        "xs.exists(x, ys.exists(y, x == y && message != '' && type(y) == string))",
        &["xs", "ys", "message"],
    );
    let mut read = ticks_read(&e);
    read.sort();
    assert_eq!(
        read,
        vec![
            vec!["x".to_string(), "message".into()],
            vec!["ys".to_string(), "message".into()],
        ]
    );
}

/// `map` and `filter` keep the shape cel builds their lists in place for (a literal loop
/// condition, and `cond ? @result + [x] : @result`); other loops tick in their condition.
#[test]
fn map_and_filter_keep_the_shape_cel_appends_in_place() {
    for src in [
        "xs.map(x, x + 1)",
        "xs.filter(x, x > 1)",
        "xs.map(x, x > 1, x)",
    ] {
        let e = rewritten(src, &["xs"]);
        let Expr::Comprehension(c) = &e.expr else {
            panic!("{src}")
        };
        assert!(matches!(c.loop_cond.expr, Expr::Literal(_)), "{src}");
        let Expr::Call(step) = &c.loop_step.expr else {
            panic!("{src}")
        };
        assert_eq!(step.func_name, "_?_:_", "{src}");
        assert!(
            matches!(&step.args[0].expr, Expr::Call(t) if t.func_name == TICK),
            "{src}"
        );
        assert!(matches!(&step.args[2].expr, Expr::Ident(n) if n == "@result"));
        let Expr::Call(append) = &step.args[1].expr else {
            panic!("{src}")
        };
        assert_eq!(append.func_name, "_+_");
        assert!(matches!(append.args[1].expr, Expr::List(_)), "{src}");
    }
    let e = rewritten("xs.all(x, x > 1)", &["xs"]);
    let Expr::Comprehension(c) = &e.expr else {
        panic!()
    };
    assert!(matches!(&c.loop_cond.expr, Expr::Call(t) if t.func_name == TICK));
    let mut built = Vec::new();
    let list = rewritten("[name, 'x', [1]]", &["name"]);
    calls(&list, BUILT, &mut built);
    assert_eq!(built.len(), 2, "what is written out is not weighed");
}

/// Run `src` with `text`, `old` and `new` given, as CEL runs it and as the rules run it.
fn both(src: &str, vars: &[(&str, cel::Value)]) -> (cel::ResolveResult, cel::ResolveResult) {
    let program = functions::env().compile(src).unwrap();
    let mut ctx = cel::Context::with_env(Arc::clone(functions::env()));
    add_functions(&mut ctx, &Arc::new(Budget::default()));
    for (name, value) in vars {
        ctx.add_variable_from_value(*name, value.clone());
    }
    let measured = bounded(program.expression(), &BTreeSet::new());
    let mut found = Vec::new();
    calls(&measured, REPLACE, &mut found);
    assert_eq!(found.len(), 1, "{src}");
    (program.execute(&ctx), cel::Value::resolve(&measured, &ctx))
}

/// `replace` measured first gives what CEL's own gives: the same text, or the same error.
#[test]
fn measured_replace_agrees_with_cels_own() {
    let values = [
        cel::Value::from("a-b-c"),
        cel::Value::from(""),
        cel::Value::from("é-é"),
        cel::Value::from("-"),
        cel::Value::Int(3),
        cel::Value::Null,
    ];
    let mut same = 0;
    for text in &values {
        for old in &values {
            for new in &values[..4] {
                let vars = [("t", text.clone()), ("o", old.clone()), ("n", new.clone())];
                for src in [
                    "t.replace(o, n)",
                    "t.replace(o, n, 1)",
                    "t.replace(o, n, -1)",
                    "t.replace(o, n, 0)",
                    "t.replace(o, 1)",
                ] {
                    let (cels_own, measured) = both(src, &vars);
                    assert_eq!(measured, cels_own, "{src} with {vars:?}");
                    same += usize::from(cels_own.is_ok());
                }
            }
        }
    }
    assert!(same > 50, "the cases should not all fail: {same}");
}
