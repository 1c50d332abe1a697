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

mod check;
mod doc;
mod eval;
mod functions;
mod pack;
mod report;
#[cfg(test)]
mod tests;
mod zones;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::context::{Context, Lookup};

pub use check::suggest;
pub use pack::{MAX_UNPACKED_BYTES, PACKED_PREFIX, pack, unpack};
pub use report::{check_report, summary};

/// A checked rules document, every expression compiled, ready to [`apply`](Rules::apply).
#[derive(Debug, Clone, Default)]
pub struct Rules {
    defaults: BTreeMap<String, Value>,
    lets: BTreeMap<String, Value>,
    /// The check boxes the help page offers, in the document's order.
    selections: Vec<String>,
    rules: Vec<Rule>,
    /// Every variable some expression reads: the ones the CEL context is given.
    reads: Vec<String>,
    /// The literal patterns of `matches`, compiled once here rather than on every call.
    regexes: Arc<functions::Regexes>,
    warnings: Vec<String>,
}

/// Why a rules document cannot be used: every problem found, one a line, each naming where it
/// is (`rules[2]`, `defaults.priorty`, `let.x`) and, where possible, how to fix it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .problems.join("\n"))]
pub struct RulesError {
    pub problems: Vec<String>,
    /// What was found to be allowed but probably not meant, as far as the document could be
    /// read (see [`Rules::warnings`]).
    pub warnings: Vec<String>,
}

/// A rule with `reject` matched: no ticket is to be created.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Rejection {
    /// The rule's index in `rules` (0-based).
    pub rule: usize,
    /// The message for the person who pressed the button.
    pub message: String,
}

/// What [`Rules::apply`] did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    /// Indices (0-based) of the rules that matched and were applied, in order.
    pub matched: Vec<usize>,
    /// One line per rule skipped because of a runtime error, written for a technician reading
    /// the ticket, e.g. ``rules[3] (when `impact * urgency > 4`) was skipped: …``.
    pub errors: Vec<String>,
    /// Set when a rule with `reject` matched; processing stopped there.
    pub rejected: Option<Rejection>,
}

/// A compiled CEL expression and its source.
#[derive(Clone)]
struct Expression {
    source: String,
    program: Arc<cel::Program>,
    /// The variables it reads.
    reads: Vec<String>,
    /// Its type, as far as could be told statically (`None` when unknown).
    ty: Option<check::Ty>,
}

impl fmt::Debug for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expression({:?})", self.source)
    }
}

/// What writing a variable means.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// One of the six BMS lookups: a name (string) or an id (positive int).
    Lookup(Lookup),
    /// `message` or `title`: a string.
    Text,
    /// A `let` variable: the type of its initial value (both JSON number kinds are numbers).
    Let(check::Ty),
}

#[derive(Debug, Clone)]
struct Compute {
    name: String,
    expr: Expression,
    target: Target,
}

#[derive(Debug, Clone)]
struct Rule {
    when: Option<Expression>,
    set: Vec<(String, Value)>,
    compute: Vec<Compute>,
    reject: Option<String>,
    stop: bool,
}

impl Rule {
    fn expressions(&self) -> impl Iterator<Item = &Expression> {
        self.when.iter().chain(self.compute.iter().map(|c| &c.expr))
    }
}

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
