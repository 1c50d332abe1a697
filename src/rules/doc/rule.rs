//! One rule of the document: every key checked and every problem kept, each with its place.

use serde_json::{Map, Value};

use super::compile::compile;
use super::problems::Problems;
use super::values::{compute_type_problem, set_looks_like_expression, set_value_problem};
use super::vars::Vars;
use crate::rules::check;
use crate::rules::did_you_mean::did_you_mean;
use crate::rules::functions::Regexes;
use crate::rules::model::{Compute, Expression, Rule};
use crate::rules::place::{rule_location, short};
use crate::rules::types::{Ty, a};
use crate::wording::json_kind;

const RULE_KEYS: [&str; 5] = ["when", "set", "compute", "reject", "stop"];

/// What reading one rule needs: where it is, what it may name, and where its problems go.
struct Reader<'r, 'v> {
    /// Its index in `rules`.
    i: usize,
    /// `rules[3] (when `x`)`, the place its messages name.
    at: String,
    vars: &'r Vars<'v>,
    regexes: &'r mut Regexes,
    p: &'r mut Problems,
}

/// One rule, with the problems of its keys in the order `when`, `set`, `compute`, `reject`,
/// `stop`; `None` when it is not even an object.
pub(super) fn read_rule(
    i: usize,
    item: &Value,
    vars: &Vars,
    regexes: &mut Regexes,
    p: &mut Problems,
) -> Option<Rule> {
    let Value::Object(map) = item else {
        p.push(format!(
            "rules[{i}]: must be an object such as {{\"when\": \"…\", \"set\": {{…}}}}, not {}",
            json_kind(item)
        ));
        return None;
    };
    let at = rule_location(i, map.get("when").and_then(Value::as_str));
    let before = p.0.len();
    let mut r = Reader {
        i,
        at,
        vars,
        regexes,
        p,
    };
    r.unknown_keys(map);
    let rule = Rule {
        when: r.when(map.get("when")),
        set: r.set(map.get("set")),
        compute: r.compute(map),
        reject: r.reject(map.get("reject")),
        stop: r.stop(map.get("stop")),
    };
    if r.p.0.len() == before && does_nothing(map) {
        r.p.push(format!(
            "{}: does nothing: give it `set`, `compute`, `reject` or \"stop\": true",
            r.at
        ));
    }
    Some(rule)
}

/// Whether a rule that was read without a problem has nothing to do when it applies.
fn does_nothing(map: &Map<String, Value>) -> bool {
    let has = |key: &str| {
        map.get(key)
            .and_then(Value::as_object)
            .is_some_and(|m| !m.is_empty())
    };
    !has("set")
        && !has("compute")
        && !map.contains_key("reject")
        && !map.get("stop").is_some_and(|s| s == &Value::Bool(true))
}

impl Reader<'_, '_> {
    fn unknown_keys(&mut self, map: &Map<String, Value>) {
        for key in map.keys() {
            if !RULE_KEYS.contains(&key.as_str()) {
                self.p.push(format!(
                    "{}: unknown key `{key}`{}",
                    self.at,
                    did_you_mean(
                        key,
                        RULE_KEYS.iter().copied(),
                        "; a rule has `when`, `set`, `compute`, `reject` and `stop`"
                    )
                ));
            }
        }
    }

    fn when(&mut self, v: Option<&Value>) -> Option<Expression> {
        let i = self.i;
        match v {
            None => None,
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.p.push(format!(
                    "rules[{i}].when: is empty: leave `when` out for a rule that always applies"
                ));
                None
            }
            Some(Value::String(s)) => {
                let loc = format!("rules[{i}].when `{}`", short(s));
                let e = compile(s, &loc, self.vars, self.regexes, self.p)?;
                if let Some(t) = e.ty
                    && !t.meets(Ty::BOOL)
                {
                    self.p.push(format!(
                        "{loc}: `when` must be a condition that is true or false, but this is {}{}",
                        a(t),
                        check::compare_hint(&e.program, t)
                    ));
                }
                Some(e)
            }
            Some(other) => {
                self.p.push(format!(
                    "rules[{i}].when: must be a string holding a CEL condition such as \"priority == 'High'\", not {}",
                    json_kind(other)
                ));
                None
            }
        }
    }

    fn set(&mut self, v: Option<&Value>) -> Vec<(String, Value)> {
        let mut set = Vec::new();
        let at = &self.at;
        match v {
            None => {}
            Some(Value::Object(m)) => {
                for (name, value) in m {
                    let loc = format!("{at}: set.{name}");
                    match self.vars.target(name) {
                        Err(problem) => self.p.push(format!("{loc}: {problem}")),
                        Ok(target) => match set_value_problem(name, target, value, self.vars) {
                            Some(problem) => self.p.push(format!("{loc}: {problem}")),
                            None => {
                                if let Some(warning) =
                                    set_looks_like_expression(name, value, self.vars)
                                {
                                    self.p.warn(format!("{loc}: {warning}"));
                                }
                                set.push((name.clone(), value.clone()));
                            }
                        },
                    }
                }
            }
            Some(other) => self.p.push(format!(
                "{at}: `set` must be an object of variables and values such as {{\"priority\": \"High\"}}, not {}",
                json_kind(other)
            )),
        }
        set
    }

    fn compute(&mut self, map: &Map<String, Value>) -> Vec<Compute> {
        let mut compute = Vec::new();
        match map.get("compute") {
            None => {}
            Some(Value::Object(m)) => {
                let set = map.get("set").and_then(Value::as_object);
                for (name, value) in m {
                    let in_set = set.is_some_and(|s| s.contains_key(name));
                    compute.extend(self.computed(name, value, in_set));
                }
            }
            Some(other) => self.p.push(format!(
                "{}: `compute` must be an object of variables and CEL expressions such as {{\"title\": \"'[VIP] ' + title\"}}, not {}",
                self.at,
                json_kind(other)
            )),
        }
        compute
    }

    /// One entry of `compute`; `in_set` when the rule's `set` names the same variable.
    fn computed(&mut self, name: &str, value: &Value, in_set: bool) -> Option<Compute> {
        let at = &self.at;
        let target = self.vars.target(name);
        if let Err(problem) = &target {
            self.p.push(format!("{at}: compute.{name}: {problem}"));
        }
        if in_set {
            self.p.push(format!(
                "{at}: `{name}` is both in `set` and in `compute`: a rule assigns a variable once, so keep one of them"
            ));
        }
        let Value::String(src) = value else {
            self.p.push(format!(
                "{at}: compute.{name}: must be a string holding a CEL expression such as \"'[VIP] ' + title\", not {}; to assign a fixed value, use `set`",
                json_kind(value)
            ));
            return None;
        };
        if src.trim().is_empty() {
            self.p.push(format!(
                "{at}: compute.{name}: is empty: write a CEL expression, or use `set` for a fixed value"
            ));
            return None;
        }
        let loc = format!("rules[{}].compute.{name} `{}`", self.i, short(src));
        let expr = compile(src, &loc, self.vars, self.regexes, self.p)?;
        let target = target.ok()?;
        if let Some(t) = expr.ty
            && let Some(problem) = compute_type_problem(name, target, t)
        {
            self.p.push(format!("{loc}: {problem}"));
        }
        Some(Compute {
            name: name.to_string(),
            expr,
            target,
        })
    }

    fn reject(&mut self, v: Option<&Value>) -> Option<String> {
        let at = &self.at;
        match v {
            None => None,
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Some(Value::String(_)) => {
                self.p.push(format!(
                    "{at}: `reject` is empty: give the message the person pressing the button should see, e.g. \"Ticket submission is disabled; call us on 555-0100\""
                ));
                None
            }
            Some(other) => {
                self.p.push(format!(
                    "{at}: `reject` must be the message (a non-empty string) the person pressing the button sees, not {}",
                    json_kind(other)
                ));
                None
            }
        }
    }

    fn stop(&mut self, v: Option<&Value>) -> bool {
        match v {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.p.push(format!(
                    "{}: `stop` must be true or false, not {}{}",
                    self.at,
                    json_kind(other),
                    if other.as_str().is_some_and(|s| s == "true" || s == "false") {
                        " (write it without quotes)"
                    } else {
                        ""
                    }
                ));
                false
            }
        }
    }
}
