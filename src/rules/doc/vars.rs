//! The variables a document knows: the built-in ones and those its `let` declares, with their
//! types, and the checks on a `let` name.

use std::collections::BTreeMap;

use serde_json::Value;

use super::problems::Problems;
use crate::context::{self, Access, Kind};
use crate::rules::did_you_mean::did_you_mean;
use crate::rules::model::Target;
use crate::rules::types::Ty;
use crate::rules::{functions, limits};
use crate::wording::{capitalised, json_kind};

/// Words CEL reserves, which cannot name a `let` variable.
const RESERVED: [&str; 21] = [
    "as",
    "break",
    "const",
    "continue",
    "else",
    "false",
    "for",
    "function",
    "if",
    "import",
    "in",
    "let",
    "loop",
    "namespace",
    "null",
    "package",
    "return",
    "true",
    "var",
    "void",
    "while",
];

/// Function namespaces: a variable of that name would be shadowed by `strings.quote(...)` etc.
const NAMESPACES: [&str; 4] = ["strings", "optional", "math", "base64"];

/// The variables a document knows, and their types.
pub(super) struct Vars<'a> {
    pub(super) lets: &'a BTreeMap<String, Value>,
    pub(super) names: Vec<&'a str>,
}

impl<'a> Vars<'a> {
    pub(super) fn new(lets: &'a BTreeMap<String, Value>) -> Self {
        let mut names: Vec<&str> = context::READ_WRITE
            .iter()
            .chain(context::READ_ONLY.iter())
            .copied()
            .collect();
        names.extend(lets.keys().map(String::as_str));
        Vars { lets, names }
    }

    pub(super) fn ty(&self, name: &str) -> Option<Ty> {
        match context::variable(name) {
            Some(v) => Some(Ty::of_kind(v.kind)),
            None => self.lets.get(name).map(let_ty),
        }
    }

    fn writable(&self) -> impl Iterator<Item = &str> {
        context::READ_WRITE
            .iter()
            .copied()
            .chain(self.lets.keys().map(String::as_str))
    }

    /// What writing to `name` means, or why it cannot be written.
    pub(super) fn target(&self, name: &str) -> Result<Target, String> {
        if let Some(v) = context::variable(name) {
            // a list is read-only whatever its row says: rules write names, ids and text
            return match (v.access, v.kind) {
                (Access::ReadWrite, Kind::Lookup(l)) => Ok(Target::Lookup(l)),
                (Access::ReadWrite, Kind::Text) => Ok(Target::Text),
                (Access::ReadOnly, _) | (_, Kind::TextList) => Err(format!(
                    "`{name}` is read-only: rules can read it but not change it"
                )),
            };
        }
        if let Some(init) = self.lets.get(name) {
            return Ok(Target::Let(let_ty(init)));
        }
        Err(format!(
            "unknown variable `{name}`{}",
            did_you_mean(
                name,
                self.writable(),
                &format!(
                    "; to keep a value of your own, declare it in `let` first, e.g. \"let\": {{\"{name}\": \"\"}}"
                ),
            )
        ))
    }
}

fn let_ty(init: &Value) -> Ty {
    match init {
        // a null start says nothing about what the variable will hold
        Value::Null => Ty::DYN,
        v => Ty::of_json(v),
    }
}

pub(super) fn read_lets(v: Option<&Value>, p: &mut Problems) -> BTreeMap<String, Value> {
    let mut lets = BTreeMap::new();
    let map = match v {
        None | Some(Value::Null) => return lets,
        Some(Value::Object(m)) => m,
        Some(other) => {
            p.push(format!(
                "let: must be an object of variable names and initial values such as {{\"impact\": 2}}, not {}",
                json_kind(other)
            ));
            return lets;
        }
    };
    for (name, init) in map {
        let at = format!("let.{name}");
        if let Some(access) = context::access(name) {
            let hint = match access {
                Access::ReadWrite => "; rules can already write it, and `defaults` gives it a value when the request leaves it empty".to_string(),
                Access::ReadOnly => "; it describes the request and rules can read it".to_string(),
            };
            p.push(format!(
                "{at}: `{name}` is a built-in variable, so `let` cannot declare it{hint}; pick another name for a variable of your own"
            ));
        } else if !is_identifier(name) {
            p.push(format!(
                "{at}: `{name}` is not a valid name: use letters, digits and `_`, starting with a letter (e.g. `{}`)",
                to_identifier(name)
            ));
        } else if RESERVED.contains(&name.as_str()) || NAMESPACES.contains(&name.as_str()) {
            p.push(format!(
                "{at}: `{name}` is reserved in CEL: pick another name, e.g. `my{}`",
                capitalised(name)
            ));
        } else if functions::env().types().find_type(name).is_some() {
            p.push(format!(
                "{at}: `{name}` is the name of a CEL type: pick another name, e.g. `my{}`",
                capitalised(name)
            ));
        } else {
            // kept even when too long, so that the rules reading it are checked as well
            if let Some(problem) = limits::let_items_problem(name, init) {
                p.push(problem);
            }
            lets.insert(name.clone(), init.clone());
        }
    }
    lets
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn to_identifier(s: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if out.is_empty() && c.is_ascii_digit() {
                out.push('v');
            }
            out.push(if upper { c.to_ascii_uppercase() } else { c });
            upper = false;
        } else {
            upper = !out.is_empty();
        }
    }
    if out.is_empty() {
        "myValue".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::VARIABLES;

    /// Every variable of the table is known to the checker with its type, offered in "did you
    /// mean" hints, and writable exactly when it is read/write.
    #[test]
    fn the_checker_knows_every_variable_with_its_type() {
        let lets = BTreeMap::new();
        let vars = Vars::new(&lets);
        for v in VARIABLES {
            assert_eq!(vars.ty(v.name), Some(Ty::of_kind(v.kind)), "{}", v.name);
            assert!(vars.names.contains(&v.name), "{}", v.name);
            match (v.access, vars.target(v.name)) {
                (Access::ReadWrite, Ok(Target::Lookup(l))) => {
                    assert_eq!(v.kind, Kind::Lookup(l), "{}", v.name)
                }
                (Access::ReadWrite, Ok(Target::Text)) => assert_eq!(v.kind, Kind::Text),
                (Access::ReadOnly, Err(why)) => assert!(why.contains("read-only"), "{why}"),
                (access, target) => panic!("{}: {access:?} but {target:?}", v.name),
            }
        }
        assert_eq!(vars.ty("selections"), Some(Ty::LIST));
        assert_eq!(vars.ty("priority"), Some(Ty::NAME_OR_ID));
        assert_eq!(vars.ty("openDate"), Some(Ty::STRING));
    }
}
