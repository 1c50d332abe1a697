//! The values a document gives: `selections`, `defaults`, and what `set` and `compute` assign,
//! each checked against the variable it is for.

use std::collections::BTreeMap;

use serde_json::Value;

use super::problems::Problems;
use super::vars::Vars;
use crate::context::{self, Access, Lookup};
use crate::rules::did_you_mean::did_you_mean;
use crate::rules::model::Target;
use crate::rules::place::short;
use crate::rules::types::{Ty, a};
use crate::wording::json_kind;

/// The check boxes the help page offers: what the button sends in `selections`.
pub(super) fn read_selections(v: Option<&Value>, p: &mut Problems) -> Vec<String> {
    let items = match v {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            p.push(format!(
                "selections: must be a list of the check boxes the help page shows, such as [\"Network\", \"Printer\", \"This is an emergency\"], not {}",
                json_kind(other)
            ));
            return Vec::new();
        }
    };
    let mut selections: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("selections[{i}]");
        match item {
            Value::String(s) if s.trim().is_empty() => p.push(format!(
                "{at}: is empty: give the text of the check box, or remove it from the list"
            )),
            Value::String(s) if s.chars().any(char::is_control) => p.push(format!(
                "{at}: holds a control character (a line break or a tab): a check box is one line of text"
            )),
            Value::String(s) if selections.iter().any(|x| x == s.trim()) => p.push(format!(
                "{at}: `{}` is in the list twice: remove one",
                s.trim()
            )),
            Value::String(s) => selections.push(s.trim().to_string()),
            other => p.push(format!(
                "{at}: must be the text of a check box (a string), not {}",
                json_kind(other)
            )),
        }
    }
    selections
}

pub(super) fn read_defaults(
    v: Option<&Value>,
    vars: &Vars,
    p: &mut Problems,
) -> BTreeMap<String, Value> {
    let mut defaults = BTreeMap::new();
    let map = match v {
        None | Some(Value::Null) => return defaults,
        Some(Value::Object(m)) => m,
        Some(other) => {
            p.push(format!(
                "defaults: must be an object such as {{\"priority\": \"Medium\"}}, not {}",
                json_kind(other)
            ));
            return defaults;
        }
    };
    for (name, value) in map {
        let at = format!("defaults.{name}");
        match context::access(name) {
            Some(Access::ReadOnly) => {
                p.push(format!(
                    "{at}: `{name}` is read-only: it describes the request, and `defaults` only fills the read/write variables ({})",
                    context::READ_WRITE.join(", ")
                ));
                continue;
            }
            None if vars.lets.contains_key(name) => {
                p.push(format!(
                    "{at}: `{name}` is a `let` variable: give it its starting value in `let`, not in `defaults`"
                ));
                continue;
            }
            None => {
                p.push(format!(
                    "{at}: unknown variable `{name}`{}",
                    did_you_mean(
                        name,
                        context::READ_WRITE.iter().copied(),
                        &format!(
                            "; `defaults` fills the read/write variables: {}",
                            context::READ_WRITE.join(", ")
                        )
                    )
                ));
                continue;
            }
            Some(Access::ReadWrite) => {}
        }
        let problem = match Lookup::from_variable(name) {
            Some(l) => match value {
                Value::String(s) if s.trim().is_empty() => Some(format!(
                    "is empty: give the {} a name as BMS shows it, or leave `{name}` out of `defaults`",
                    l.label()
                )),
                v => lookup_value_problem(name, l, v),
            },
            None => (!value.is_string())
                .then(|| format!("must be a string (text), not {}", json_kind(value))),
        };
        match problem {
            Some(problem) => p.push(format!("{at}: {problem}")),
            None => {
                defaults.insert(name.clone(), value.clone());
            }
        }
    }
    defaults
}

/// Why `v` cannot be given to a lookup variable, if it cannot.
fn lookup_value_problem(name: &str, l: Lookup, v: &Value) -> Option<String> {
    let takes = format!(
        "`{name}` takes the {} as a name (string, e.g. \"{}\") or as an id (positive integer)",
        l.label(),
        l.example()
    );
    match v {
        Value::String(_) => None,
        Value::Number(n) if n.as_i64().is_some_and(|i| i > 0) => None,
        Value::Number(n) if n.as_u64().is_some() && n.as_i64().is_none() => {
            Some(format!("{n} is too large for an id; {takes}"))
        }
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0 && f > 0.0) => {
            Some(format!(
                "{n} has a decimal point: ids are integers, so write {}; {takes}",
                n.as_f64().unwrap_or_default() as i64
            ))
        }
        Value::Number(n) if n.is_f64() => Some(format!(
            "{n} is not a whole number: ids are integers; {takes}"
        )),
        Value::Number(n) => Some(format!("{n} is not a valid id: ids are positive; {takes}")),
        Value::Null => Some(format!("is null; {takes}; to leave it empty use \"\"")),
        other => Some(format!("is {}; {takes}", json_kind(other))),
    }
}

/// Why a literal `set` value does not fit its variable.
pub(super) fn set_value_problem(
    name: &str,
    target: Target,
    v: &Value,
    vars: &Vars,
) -> Option<String> {
    match target {
        Target::Lookup(l) => lookup_value_problem(name, l, v),
        Target::Text => (!v.is_string()).then(|| {
            format!(
                "`{name}` is text, so the value must be a string, not {}",
                json_kind(v)
            )
        }),
        Target::Let(t) => (!Ty::of_json(v).meets(t)).then(|| {
            format!(
                "`{name}` was declared in `let` as {} ({}), so it cannot be set to {}",
                a(t),
                vars.lets
                    .get(name)
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                json_kind(v)
            )
        }),
    }
}

/// A `set` value that reads like a CEL expression: `set` assigns its text as it is, so
/// `"'[VIP] ' + title"` becomes that very title. Quotes at either end, a `+` beside a quote or
/// a variable, or a variable's bare name give it away.
pub(super) fn set_looks_like_expression(name: &str, v: &Value, vars: &Vars) -> Option<String> {
    let text = v.as_str()?.trim();
    let quoted = |s: &str| {
        let s = s.trim();
        s.starts_with(['\'', '"']) || s.ends_with(['\'', '"'])
    };
    let is_variable = |s: &str| vars.names.contains(&s.trim());
    let looks = quoted(text)
        || is_variable(text)
        || (text.contains('+')
            && text
                .split('+')
                .any(|part| quoted(part) || is_variable(part)));
    looks.then(|| {
        format!(
            "`{}` is set as this very text, not worked out: did you mean `compute`? \
             (\"compute\": {{\"{name}\": \"{}\"}})",
            short(text),
            short(text).replace('"', "\\\"")
        )
    })
}

/// Why an expression of type `t` certainly cannot be assigned to `name`.
pub(super) fn compute_type_problem(name: &str, target: Target, t: Ty) -> Option<String> {
    match target {
        Target::Lookup(l) => (!t.meets(Ty::STRING.or(Ty::INT).or(Ty::UINT))).then(|| {
            format!(
                "gives {}, but `{name}` takes the {} as a name (string) or an id (int)",
                a(t),
                l.label()
            )
        }),
        Target::Text => (!t.meets(Ty::STRING)).then(|| {
            format!(
                "gives {}, but `{name}` is text: wrap the expression in string(…)",
                a(t)
            )
        }),
        Target::Let(want) => (!t.meets(want)).then(|| {
            format!(
                "gives {}, but `{name}` was declared in `let` as {}",
                a(t),
                a(want)
            )
        }),
    }
}
