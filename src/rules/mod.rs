//! The rules document (`BUTTON_RULES`): load, check, evaluate.
//!
//! An MSP routes tickets with a JSON document of `defaults`, `let` variables and `rules`, whose
//! conditions and computed values are CEL expressions (see `docs/rules.md` for the format as
//! MSPs see it). [`Rules::parse`] reads the document, compiles every expression once and checks
//! everything that can be checked without a request, reporting all problems at once.
//! [`Rules::apply`] then runs the rules on the [`Context`] of each button press; an error in one
//! rule skips that rule and is reported in [`Outcome::errors`], never losing the ticket.
//!
//! Rules are numbered from 0, as the JSON array is indexed: messages say `rules[3]`, and
//! [`Outcome::matched`] and [`Rejection::rule`] hold those indices.
//!
//! # Where things are
//!
//! Each room depends only on rooms listed before it, so no two depend on each other:
//!
//! - `did_you_mean`: the candidate a mistyped word most likely stands for; it knows only words.
//! - `place`: how messages name a rule and cut an expression to fit a line.
//! - `types`: the types the checker tells apart (`Ty`), and how messages name them.
//! - `limits`: how much work a document may ask for, and the sentences that say so.
//! - `budget`: what one press may spend while its rules run; every expression is compiled into
//!   a form that pays for its loops and lists as it goes (`budget/rewrite.rs`).
//! - `functions`: the CEL environment, with `matches` patterns compiled once.
//! - `zones`: the time zones given to `getHours('…')` and its kin.
//! - `check`: the type checker. The walk over an expression is in `check/mod.rs`; the operator
//!   table in `check/operators.rs`; methods and functions in `check/methods.rs`; what the walk
//!   finds in `check/findings.rs`; expressions written into messages in `check/show.rs`.
//! - `model`: what a checked document is made of, and what running it gives.
//! - `doc`: the document parser. JSON in `doc/json.rs`; the variables and `let` in
//!   `doc/vars.rs`; `selections`, `defaults` and the values rules assign in `doc/values.rs`;
//!   one rule in `doc/rule.rs`; one expression, compiled and checked, in `doc/compile.rs`.
//! - `eval`: running the rules on a press, within its budget, and moving values between JSON
//!   and CEL.
//! - `pack` and `report`: packed documents, and the checker's report.

#[cfg(test)]
mod bounds_tests;
mod budget;
mod check;
mod did_you_mean;
mod doc;
mod eval;
mod functions;
mod limits;
mod model;
mod pack;
mod place;
mod report;
#[cfg(test)]
mod tests;
mod types;
mod zones;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::context::{Context, Lookup};

pub use did_you_mean::suggest;
pub use limits::{
    MAX_BUILT_BYTES, MAX_DOCUMENT_BYTES, MAX_LET_ITEMS, MAX_PARTS, MAX_STEPS, MAX_VALUE_BYTES,
    document_size_problem,
};
pub use model::{Outcome, Rejection, Rules, RulesError};
pub use pack::{MAX_UNPACKED_BYTES, PACKED_PREFIX, pack, unpack};
pub use report::{check_report, summary};

impl Rules {
    /// Read and check a rules document. Every static problem is reported, not just the first:
    /// JSON syntax, unknown keys, wrong types, CEL syntax, unknown variables and functions,
    /// writes to read-only or undeclared variables, values of the wrong type, rules that do
    /// nothing, and CEL expressions whose types visibly do not fit.
    ///
    /// `text` may be packed (`gz:` + base64 of the gzipped JSON, see [`pack`]); problems name
    /// places in the unpacked document.
    pub fn parse(text: &str) -> Result<Rules, RulesError> {
        let text = unpack(text).map_err(|problem| RulesError {
            problems: vec![problem],
            warnings: Vec::new(),
        })?;
        doc::parse(&text)
    }

    /// The `defaults`: values for read/write variables the request leaves empty.
    pub fn defaults(&self) -> &BTreeMap<String, Value> {
        &self.defaults
    }

    /// The `let` variables and their initial values.
    pub fn lets(&self) -> &BTreeMap<String, Value> {
        &self.lets
    }

    /// The check boxes the help page shows (`selections` in the document), in order. The
    /// button sends the ticked ones in its own `selections`, which the rules read.
    pub fn selections(&self) -> &[String] {
        &self.selections
    }

    /// Every name the document can give a lookup variable: the string values of `defaults`
    /// and of each rule's `set`, where it gives them (names `compute` makes are not known
    /// before a press). Ids are left out: they need no lookup.
    pub fn literal_names(&self) -> Vec<crate::resolve::RulesName> {
        let from_defaults = self
            .defaults
            .iter()
            .map(|(var, v)| (format!("defaults.{var}"), var, v));
        let from_rules = self.rules.iter().enumerate().flat_map(|(i, rule)| {
            rule.set
                .iter()
                .map(move |(var, v)| (format!("rules[{i}].set.{var}"), var, v))
        });
        from_defaults
            .chain(from_rules)
            .filter_map(|(at, var, v)| {
                let lookup = Lookup::from_variable(var)?;
                let name = v.as_str().map(str::trim).filter(|n| !n.is_empty())?;
                Some(crate::resolve::RulesName {
                    lookup,
                    name: name.to_string(),
                    at,
                })
            })
            .collect()
    }

    /// Whether any expression of the document reads the variable `name`.
    pub fn reads(&self, name: &str) -> bool {
        self.reads.iter().any(|r| r == name)
    }

    /// How many rules the document has.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the document has no rules (it may still have defaults).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Things that are allowed but probably not meant: rules that can never apply, `let`
    /// variables nothing reads, a `set` value that reads like an expression, a timestamp's
    /// hour read without a time zone. The checker shows them; the Lambda ignores them.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Whether a press may end up with neither a queue nor an assignee, which BMS needs: no
    /// `defaults.queue` or `defaults.assignee`, and no rule that runs on every press (no
    /// `when`, or `when: true`, and no reject) sets either. Such a press is refused with a
    /// configuration error at run time, though the document itself is sound.
    pub fn may_leave_a_press_unrouted(&self) -> bool {
        let routes = |name: &str| matches!(name, "queue" | "assignee");
        let by_default = self
            .defaults
            .iter()
            .any(|(k, v)| routes(k) && !crate::context::is_empty(v));
        let always = self.rules.iter().any(|r| {
            let every_press = r.when.as_ref().is_none_or(|e| e.source.trim() == "true");
            let sets =
                r.set.iter().any(|(k, _)| routes(k)) || r.compute.iter().any(|c| routes(&c.name));
            every_press && r.reject.is_none() && sets
        });
        !by_default && !always
    }

    /// Run on a button press: fill empty read/write variables from `defaults`, set the `let`
    /// variables to their initial values, then apply the rules in order, each seeing what the
    /// earlier ones wrote. Stops at a rule with `"stop": true` or `reject` that matches.
    pub fn apply(&self, ctx: &mut Context) -> Outcome {
        eval::apply(self, ctx)
    }
}

/// The document as minified JSON: whitespace outside strings removed, keys kept in their order
/// (so that it can be pasted back as the environment variable). `None` when `text` is not JSON.
pub fn minify(text: &str) -> Option<String> {
    serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    Some(out)
}

// The Lambda keeps one `Rules` for every request, shared between tasks.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<Rules>();
};
