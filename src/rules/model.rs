//! What a checked document is made of: the rules, their compiled expressions, and what running
//! them gives. Plain data: `doc` builds it, `eval` runs it.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use cel::IdedExpr;

use serde::Serialize;
use serde_json::Value;

use super::functions::Regexes;
use super::types::Ty;
use crate::context::Lookup;

/// A checked rules document, every expression compiled, ready to [`apply`](Rules::apply).
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub(crate) defaults: BTreeMap<String, Value>,
    pub(crate) lets: BTreeMap<String, Value>,
    /// The check boxes the help page offers, in the document's order.
    pub(crate) selections: Vec<String>,
    pub(crate) rules: Vec<Rule>,
    /// Every variable some expression reads: the ones the CEL context is given.
    pub(crate) reads: Vec<String>,
    /// The literal patterns of `matches`, compiled once here rather than on every call.
    pub(crate) regexes: Arc<Regexes>,
    pub(crate) warnings: Vec<String>,
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
pub(crate) struct Expression {
    pub(crate) source: String,
    /// The expression as it runs: paying for its loops and lists as it goes (see `budget`).
    pub(crate) program: Arc<IdedExpr>,
    /// The variables it reads.
    pub(crate) reads: Vec<String>,
    /// Its type, as far as could be told statically (`None` when unknown).
    pub(crate) ty: Option<Ty>,
}

impl fmt::Debug for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expression({:?})", self.source)
    }
}

/// What writing a variable means.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    /// One of the six BMS lookups: a name (string) or an id (positive int).
    Lookup(Lookup),
    /// `message` or `title`: a string.
    Text,
    /// A `let` variable: the type of its initial value (both JSON number kinds are numbers).
    Let(Ty),
}

#[derive(Debug, Clone)]
pub(crate) struct Compute {
    pub(crate) name: String,
    pub(crate) expr: Expression,
    pub(crate) target: Target,
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) when: Option<Expression>,
    pub(crate) set: Vec<(String, Value)>,
    pub(crate) compute: Vec<Compute>,
    pub(crate) reject: Option<String>,
    pub(crate) stop: bool,
}

impl Rule {
    pub(crate) fn expressions(&self) -> impl Iterator<Item = &Expression> {
        self.when.iter().chain(self.compute.iter().map(|c| &c.expr))
    }
}
