//! Running the rules on a button press, and moving values between JSON and CEL.

use std::collections::HashMap;
use std::sync::Arc;

use cel::objects::{Key, Map};
use cel::{ExecutionError, Value as Cel};
use serde_json::{Number, Value};

use super::budget::{self, Budget, weigh};
use super::check::symbol;
use super::functions;
use super::limits::{self, MAX_VALUE_BYTES};
use super::model::{Expression, Outcome, Rejection, Rule, Rules, Target};
use super::place::rule_location;
use super::types::{Ty, a};
use crate::context::Context;

pub(super) fn apply(rules: &Rules, ctx: &mut Context) -> Outcome {
    apply_within(rules, ctx, &Arc::new(Budget::default()))
}

/// [`apply`], the press spending `budget`.
pub(super) fn apply_within(rules: &Rules, ctx: &mut Context, budget: &Arc<Budget>) -> Outcome {
    ctx.fill_empty(&rules.defaults);
    for (name, init) in &rules.lets {
        ctx.set(name, init.clone());
    }
    let mut outcome = Outcome::default();
    if rules.rules.is_empty() {
        return outcome;
    }

    // One CEL context per request, given the document's compiled `matches` patterns, the
    // press's budget and only the variables some expression reads; a variable is given again
    // whenever a rule writes it.
    let mut cel = cel::Context::with_env(Arc::clone(functions::env()));
    functions::add_compiled_matches(&mut cel, &rules.regexes);
    budget::add_functions(&mut cel, budget);
    for name in &rules.reads {
        if let Some(v) = ctx.get(name) {
            cel.add_variable_from_value(name.as_str(), to_cel(v));
        }
    }

    let mut writes: Vec<(&str, Value)> = Vec::new();
    for (i, rule) in rules.rules.iter().enumerate() {
        writes.clear();
        match run(rule, &cel, budget, &mut writes) {
            Ok(false) => continue,
            Ok(true) => {}
            Err(problem) => {
                let when = rule.when.as_ref().map(|w| w.source.as_str());
                outcome
                    .errors
                    .push(format!("{} was skipped: {problem}", rule_location(i, when)));
                continue;
            }
        }
        for (name, value) in writes.drain(..) {
            if rules
                .reads
                .binary_search_by(|r| r.as_str().cmp(name))
                .is_ok()
            {
                cel.add_variable_from_value(name, to_cel(&value));
            }
            ctx.set(name, value);
        }
        outcome.matched.push(i);
        if let Some(message) = &rule.reject {
            outcome.rejected = Some(Rejection {
                rule: i,
                message: message.clone(),
            });
            break;
        }
        if rule.stop {
            break;
        }
    }
    outcome
}

/// Evaluate one rule against the context as it was before it: whether it matched, and the
/// assignments it makes (none are made when any part fails).
fn run<'r>(
    rule: &'r Rule,
    cel: &cel::Context,
    budget: &Budget,
    writes: &mut Vec<(&'r str, Value)>,
) -> Result<bool, String> {
    if let Some(when) = &rule.when {
        match evaluate(when, cel, budget)? {
            Cel::Bool(true) => {}
            Cel::Bool(false) => return Ok(false),
            other => {
                return Err(format!(
                    "`when` gave {}, not true or false",
                    describe_value(&other)
                ));
            }
        }
    }
    for c in &rule.compute {
        let value = evaluate(&c.expr, cel, budget)
            .map_err(|why| format!("computing `{}` failed: {why}", c.name))?;
        if weigh(&value, MAX_VALUE_BYTES as u64) > MAX_VALUE_BYTES as u64 {
            return Err(limits::value_too_long(&c.name));
        }
        let json = to_json(&value).map_err(|why| {
            format!(
                "computing `{}` gave {}, which {why}",
                c.name,
                describe_value(&value)
            )
        })?;
        check_assignment(&c.name, c.target, &json)?;
        writes.push((c.name.as_str(), json));
    }
    for (name, value) in &rule.set {
        writes.push((name.as_str(), value.clone()));
    }
    Ok(true)
}

/// The value of `e`, or why there is none: an error, or the budget of the press spent, even
/// where CEL absorbed the error that said so.
fn evaluate(e: &Expression, cel: &cel::Context, budget: &Budget) -> Result<Cel, String> {
    let value = Cel::resolve(&e.program, cel);
    match (value, budget.take_stop()) {
        (Err(e), _) => Err(describe_error(&e)),
        (Ok(_), Some(stop)) => Err(stop),
        (Ok(value), None) => Ok(value),
    }
}

/// Whether a computed value fits its variable; the message says why not.
fn check_assignment(name: &str, target: Target, v: &Value) -> Result<(), String> {
    let gave = || format!("computing `{name}` gave {}", describe_json(v));
    match target {
        Target::Lookup(l) => match v {
            Value::String(_) => Ok(()),
            Value::Number(n) if n.as_i64().is_some_and(|i| i > 0) => Ok(()),
            Value::Number(n) if n.is_f64() => Err(format!(
                "{}, but ids are whole numbers (int): use int(…)",
                gave()
            )),
            Value::Number(_) => Err(format!("{}, but ids are positive", gave())),
            _ => Err(format!(
                "{}, but `{name}` takes the {} as a name (string) or an id (int)",
                gave(),
                l.label()
            )),
        },
        Target::Text => match v {
            Value::String(_) => Ok(()),
            _ => Err(format!(
                "{}, but `{name}` is text: wrap the expression in string(…)",
                gave()
            )),
        },
        Target::Let(t) => {
            if Ty::of_json(v).meets(t) {
                Ok(())
            } else {
                Err(format!(
                    "{}, but `{name}` was declared in `let` as {}",
                    gave(),
                    a(t)
                ))
            }
        }
    }
}

/// A JSON value as a CEL value: integers that fit are ints, other integers uints, the rest
/// doubles.
pub(super) fn to_cel(v: &Value) -> Cel {
    match v {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Cel::Int(i)
            } else if let Some(u) = n.as_u64() {
                Cel::UInt(u)
            } else {
                Cel::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => Cel::String(Arc::new(s.clone())),
        Value::Array(items) => Cel::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(map) => {
            let map: HashMap<Key, Cel> = map
                .iter()
                .map(|(k, v)| (Key::from(k.as_str()), to_cel(v)))
                .collect();
            Cel::Map(Map { map: Arc::new(map) })
        }
    }
}

/// A CEL value as JSON; the error says why it cannot be stored. Uints become integers,
/// timestamps RFC 3339 strings and durations strings such as `90s`, as CEL writes them.
pub(super) fn to_json(v: &Cel) -> Result<Value, String> {
    Ok(match v {
        Cel::Null => Value::Null,
        Cel::Bool(b) => Value::Bool(*b),
        Cel::Int(i) => Value::from(*i),
        Cel::UInt(u) => match i64::try_from(*u) {
            Ok(i) => Value::from(i),
            Err(_) => Value::from(*u),
        },
        Cel::Float(f) => Value::Number(
            Number::from_f64(*f).ok_or("is not a finite number and cannot be stored")?,
        ),
        Cel::String(s) => Value::String(s.as_str().to_string()),
        Cel::List(items) => Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Cel::Map(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m.map.iter() {
                let key = match k {
                    Key::String(s) => s.as_str().to_string(),
                    Key::Int(i) => i.to_string(),
                    Key::Uint(u) => u.to_string(),
                    Key::Bool(b) => b.to_string(),
                };
                out.insert(key, to_json(v)?);
            }
            Value::Object(out)
        }
        Cel::Timestamp(t) => Value::String(t.to_rfc3339()),
        Cel::Duration(d) => Value::String(duration_text(d)),
        Cel::Bytes(_) => return Err("cannot be stored: turn bytes into text with string(…)".into()),
        Cel::Opaque(o) if o.runtime_type_name() == "optional_type" => {
            return Err("cannot be stored: take the value out with .orValue(…)".into());
        }
        other => return Err(format!("cannot be stored (a {})", other.type_of())),
    })
}

fn duration_text(d: &chrono::Duration) -> String {
    let nanos = d.subsec_nanos();
    if nanos == 0 {
        format!("{}s", d.num_seconds())
    } else {
        let s = format!("{}.{:09}", d.num_seconds(), nanos.unsigned_abs());
        format!("{}s", s.trim_end_matches('0'))
    }
}

/// `the string "abc"`, `the int 3`, `a list` — for messages.
fn describe_value(v: &Cel) -> String {
    match to_json(v) {
        Ok(j) => describe_json(&j),
        Err(_) => format!("a {}", v.type_of()),
    }
}

fn describe_json(v: &Value) -> String {
    let text = v.to_string();
    let short = if text.chars().count() > 40 {
        format!("{}…", text.chars().take(37).collect::<String>())
    } else {
        text
    };
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => format!("the bool {short}"),
        Value::Number(n) if n.is_f64() => format!("the double {short}"),
        Value::Number(_) => format!("the int {short}"),
        Value::String(_) => format!("the string {short}"),
        Value::Array(_) => format!("a list {short}"),
        Value::Object(_) => format!("a map {short}"),
    }
}

/// A CEL runtime error in the words of the rules: `no such overload for int * string`.
pub(super) fn describe_error(e: &ExecutionError) -> String {
    match e {
        ExecutionError::NoSuchOverload(o) => {
            let types = o.argument_types();
            let f = o.function();
            if o.is_member_function() && !types.is_empty() {
                format!(
                    "no such overload for {}.{f}({})",
                    types[0],
                    types[1..].join(", ")
                )
            } else if let [l, r] = types
                && f.starts_with('_')
                && f.ends_with('_')
                && f.len() > 2
            {
                format!("no such overload for {l} {} {r}", symbol(f))
            } else if f == "@in" {
                format!("no such overload for {}", types.join(" in "))
            } else if f == "!_" || f == "-_" {
                format!("no such overload for {}{}", symbol(f), types.join(", "))
            } else {
                format!("no such overload for {f}({})", types.join(", "))
            }
        }
        ExecutionError::UnsupportedBinaryOperator(op, l, r) => {
            let symbol = match *op {
                "add" => "+",
                "sub" => "-",
                "mul" => "*",
                "div" => "/",
                "rem" => "%",
                other => other,
            };
            format!(
                "no such overload for {} {symbol} {}",
                cel_type(l),
                cel_type(r)
            )
        }
        ExecutionError::ValuesNotComparable(l, r) => {
            format!("cannot compare {} with {}", cel_type(l), cel_type(r))
        }
        ExecutionError::NoSuchKey(k) => format!("no such key `{k}`"),
        ExecutionError::UndeclaredReference(n) => format!("unknown name `{n}`"),
        ExecutionError::DivisionByZero(_) => "division by zero".into(),
        ExecutionError::RemainderByZero(_) => "modulo by zero".into(),
        ExecutionError::Overflow(op, _, _) => format!("integer overflow in `{op}`"),
        ExecutionError::IndexOutOfBounds(i) => format!(
            "index {} is out of range",
            to_json(i).map(|j| j.to_string()).unwrap_or_default()
        ),
        ExecutionError::UnsupportedIndex(i, v) => {
            format!("cannot index {} with {}", cel_type(v), cel_type(i))
        }
        ExecutionError::FunctionError { function, message } if function == budget::SPENT => {
            message.clone()
        }
        ExecutionError::FunctionError { function, message } => {
            format!("{function}() failed: {message}")
        }
        ExecutionError::UnexpectedType { got, want } => format!("expected {want}, got {got}"),
        ExecutionError::UnsupportedKeyType(v) => {
            format!("{} cannot be a map key", cel_type(v))
        }
        other => other.to_string(),
    }
}

/// A value's CEL type name: `int`, `string`, `double`, ...
fn cel_type(v: &Cel) -> String {
    match v {
        Cel::Float(_) => "double".into(),
        other => other.type_of().to_string(),
    }
}
