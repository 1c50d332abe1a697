//! What the walk over one expression finds: problems, warnings and the literal patterns of
//! `matches`, each problem reported once however often its cause appears.

use std::collections::BTreeSet;

use cel::common::ast::{Expr, IdedExpr, LiteralValue};

#[derive(Debug, Default)]
pub(super) struct Findings {
    /// Problems, each a sentence without its location.
    pub(super) problems: Vec<String>,
    /// What is allowed but probably not meant, each a sentence without its location.
    pub(super) warnings: Vec<String>,
    /// The literal patterns passed to `matches`, to be compiled (and checked) once.
    pub(super) patterns: BTreeSet<String>,
    /// What was already reported, so that `priorty == 'a' || priorty == 'b'` reports one
    /// problem.
    reported: BTreeSet<String>,
}

impl Findings {
    /// A problem, unless one with the same `key` was reported already.
    pub(super) fn problem(&mut self, key: impl Into<String>, message: String) {
        if self.reported.insert(key.into()) {
            self.problems.push(message);
        }
    }

    /// A warning, unless something with the same `key` was reported already.
    pub(super) fn warning(&mut self, key: impl Into<String>, message: String) {
        if self.reported.insert(key.into()) {
            self.warnings.push(message);
        }
    }

    /// A literal regular expression is compiled, and so checked, when the rules are loaded
    /// rather than on every request.
    pub(super) fn note_pattern(&mut self, pattern: Option<&IdedExpr>) {
        if let Some(IdedExpr {
            expr: Expr::Literal(LiteralValue::String(p)),
            ..
        }) = pattern
        {
            self.patterns.insert(p.inner().to_string());
        }
    }
}
