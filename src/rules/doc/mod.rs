//! Reading a rules document: JSON, its shape, and every static check, all problems at once.
//!
//! `json` reads the text; `vars` knows the variables and reads `let`; `values` reads
//! `selections` and `defaults` and judges what `set` and `compute` assign; `rule` reads each
//! rule; `compile` compiles and checks each expression with the type checker.

mod compile;
mod json;
mod problems;
mod rule;
mod values;
mod vars;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::did_you_mean::did_you_mean;
use super::functions::Regexes;
use super::limits;
use super::model::{Rule, Rules, RulesError};
use super::place::rule_location;
use crate::wording::json_kind;
use problems::Problems;
use vars::Vars;

const TOP_KEYS: [&str; 4] = ["defaults", "let", "rules", "selections"];

/// Parse and check `text`; every problem found, each a line naming where it is, and the
/// warnings found on the way.
pub(super) fn parse(text: &str) -> Result<Rules, RulesError> {
    let only = |problem: String| RulesError {
        problems: vec![problem],
        warnings: Vec::new(),
    };
    if let Some(problem) = limits::document_size_problem(text.len()) {
        return Err(only(problem));
    }
    let (doc, duplicates) = json::read_json(text).map_err(only)?;
    let mut p = Problems::default();
    duplicate_keys(duplicates, &mut p);
    let Value::Object(top) = doc else {
        return Err(only(format!(
            "the rules document must be a JSON object such as {{\"rules\": [...]}}, not {}",
            json_kind(&doc)
        )));
    };
    unknown_keys(&top, &mut p);

    // `let` is read first, as the rest refers to its variables; problems are listed in the
    // order of the document.
    let mut let_problems = Problems::default();
    let lets = vars::read_lets(top.get("let"), &mut let_problems);
    let vars = Vars::new(&lets);
    let defaults = values::read_defaults(top.get("defaults"), &vars, &mut p);
    p.0.append(&mut let_problems.0);
    let selections = values::read_selections(top.get("selections"), &mut p);
    let mut regexes = Regexes::default();
    let rules = read_rules(top.get("rules"), &vars, &mut regexes, &mut p);
    if !p.0.is_empty() {
        return Err(RulesError {
            problems: p.0,
            warnings: p.1,
        });
    }

    let mut reads = BTreeSet::new();
    for rule in &rules {
        for e in rule.expressions() {
            reads.extend(e.reads.iter().cloned());
        }
    }
    let mut warnings = p.1;
    warnings.extend(rule_warnings(&rules, &lets, &reads));
    Ok(Rules {
        defaults,
        lets,
        selections,
        rules,
        reads: reads.into_iter().collect(),
        regexes: Arc::new(regexes),
        warnings,
    })
}

/// Keys given twice in one object, each noted by the JSON reader as `path\0key`.
fn duplicate_keys(duplicates: Vec<String>, p: &mut Problems) {
    for path in duplicates {
        let (parent, key) = path.rsplit_once('\u{0}').unwrap_or(("", &path));
        let at = if parent.is_empty() {
            "the document".to_string()
        } else {
            parent.to_string()
        };
        p.push(format!(
            "{at}: key `{key}` appears more than once: JSON keeps only the last one, so remove or merge the others"
        ));
    }
}

fn unknown_keys(top: &Map<String, Value>, p: &mut Problems) {
    for key in top.keys() {
        if !TOP_KEYS.contains(&key.as_str()) {
            p.push(format!(
                "the document: unknown key `{key}`{}",
                did_you_mean(
                    key,
                    TOP_KEYS.iter().copied(),
                    "; the keys are `defaults`, `let` and `rules`, and `selections` for the help page's check boxes"
                )
            ));
        }
    }
}

fn read_rules(
    v: Option<&Value>,
    vars: &Vars,
    regexes: &mut Regexes,
    p: &mut Problems,
) -> Vec<Rule> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        // a rule that cannot be read is a problem, so on success every index has its rule
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| rule::read_rule(i, item, vars, regexes, p))
            .collect(),
        Some(other) => {
            p.push(format!(
                "rules: must be an array of rules such as [{{\"when\": \"…\", \"set\": {{…}}}}], not {}",
                json_kind(other)
            ));
            Vec::new()
        }
    }
}

/// Rules that can never apply, and `let` variables nothing reads.
fn rule_warnings(
    rules: &[Rule],
    lets: &BTreeMap<String, Value>,
    reads: &BTreeSet<String>,
) -> Vec<String> {
    let mut w = Vec::new();
    let always = |r: &Rule| r.when.as_ref().is_none_or(|e| e.source.trim() == "true");
    for (i, rule) in rules.iter().enumerate() {
        if let Some(e) = &rule.when
            && e.source.trim() == "false"
        {
            w.push(format!(
                "{}: never applies (`when` is `false`)",
                rule_location(i, Some(&e.source))
            ));
        }
        if always(rule) && (rule.stop || rule.reject.is_some()) && i + 1 < rules.len() {
            let what = if rule.reject.is_some() {
                "rejects every ticket"
            } else {
                "always stops"
            };
            w.push(format!(
                "rules[{}] and later can never apply: rules[{i}] {what}, as it has no `when`",
                i + 1
            ));
            break;
        }
    }
    for name in lets.keys() {
        if !reads.contains(name) {
            w.push(format!(
                "let.{name}: no expression reads it, so it has no effect"
            ));
        }
    }
    w
}
