//! What can be learnt about a CEL expression without running it: the type checker.
//!
//! cel 0.15 parses and runs CEL but has no type checker. This module walks the parsed expression
//! and finds what is visible in its shape: variables that do not exist (comprehension variables
//! such as the `s` of `selections.exists(s, ...)` are understood), functions that do not exist,
//! and operations whose operand types are certain to have no overload (`'a' + 1`,
//! `selections == 'x'`, `name.getHours()`), using the types of the rules' variables. Anything
//! whose type depends on the data (a lookup variable holds a name or an id; a `let` map's
//! values; an index into a list) is taken as "could be anything" and left to run time.
//!
//! The walk is here; what it finds is gathered in `findings`; the operators' table is in
//! `operators`, the methods' and functions' in `methods`; `show` writes expressions into
//! messages.

mod findings;
mod methods;
mod operators;
mod show;

use std::collections::BTreeSet;

use cel::Program;
use cel::common::ast::{
    CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedExpr, MapExpr, StructExpr,
};

use super::did_you_mean::suggest;
use super::functions;
use super::types::{Ty, a};
use findings::Findings;

pub(crate) use show::{compare_hint, symbol};

/// What one expression was found to do.
#[derive(Debug, Default)]
pub(crate) struct Analysis {
    /// Problems, each a sentence without its location.
    pub problems: Vec<String>,
    /// The variables it reads (comprehension variables excluded).
    pub reads: BTreeSet<String>,
    /// What it evaluates to, as far as can be told.
    pub ty: Option<Ty>,
    /// The literal patterns it passes to `matches`, to be compiled (and checked) once.
    pub patterns: BTreeSet<String>,
    /// What is allowed but probably not meant, each a sentence without its location.
    pub warnings: Vec<String>,
}

/// Analyse `program`; `var` gives the type of each variable the rules know, `None` for others;
/// `candidates` are the variable names offered in "did you mean" hints.
pub(crate) fn analyze(
    program: &Program,
    var: &dyn Fn(&str) -> Option<Ty>,
    candidates: &[&str],
) -> Analysis {
    let mut w = Walker {
        var,
        candidates,
        scope: Vec::new(),
        reads: BTreeSet::new(),
        found: Findings::default(),
    };
    let ty = w.infer(program.expression());
    Analysis {
        problems: w.found.problems,
        reads: w.reads,
        ty: Some(ty),
        patterns: w.found.patterns,
        warnings: w.found.warnings,
    }
}

struct Walker<'a> {
    var: &'a dyn Fn(&str) -> Option<Ty>,
    candidates: &'a [&'a str],
    /// Comprehension variables in scope, innermost last.
    scope: Vec<(String, Ty)>,
    reads: BTreeSet<String>,
    found: Findings,
}

impl Walker<'_> {
    /// The static type of `e`: one arm per kind of CEL expression.
    fn infer(&mut self, e: &IdedExpr) -> Ty {
        match &e.expr {
            Expr::Unspecified => Ty::DYN,
            Expr::Literal(l) => Ty::of_literal(l),
            Expr::List(list) => {
                for el in &list.elements {
                    self.infer(el);
                }
                Ty::LIST
            }
            Expr::Map(map) => self.map(map),
            Expr::Struct(s) => self.structure(s),
            Expr::Ident(name) => self.ident(name),
            Expr::Select(sel) => {
                let operand = self.infer(&sel.operand);
                methods::select(&mut self.found, sel, operand)
            }
            Expr::Comprehension(c) => self.comprehension(c),
            Expr::Call(call) => self.call(call),
        }
    }

    fn map(&mut self, map: &MapExpr) -> Ty {
        for entry in &map.entries {
            match &entry.expr {
                EntryExpr::MapEntry(m) => {
                    let k = self.infer(&m.key);
                    if !k.meets(Ty::STRING.or(Ty::INT).or(Ty::UINT).or(Ty::BOOL)) {
                        self.found.problem(
                            format!("key {}", show::show(&m.key)),
                            format!(
                                "`{}` cannot be a map key: keys are strings, ints, uints or bools, not {}",
                                show::show(&m.key),
                                a(k)
                            ),
                        );
                    }
                    self.infer(&m.value);
                }
                EntryExpr::StructField(f) => {
                    self.infer(&f.value);
                }
            }
        }
        Ty::MAP
    }

    fn structure(&mut self, s: &StructExpr) -> Ty {
        for entry in &s.entries {
            match &entry.expr {
                EntryExpr::MapEntry(m) => {
                    self.infer(&m.key);
                    self.infer(&m.value);
                }
                EntryExpr::StructField(f) => {
                    self.infer(&f.value);
                }
            }
        }
        Ty::OTHER
    }

    fn comprehension(&mut self, c: &ComprehensionExpr) -> Ty {
        let range = self.infer(&c.iter_range);
        if !range.meets(Ty::LIST.or(Ty::MAP)) {
            self.found.problem(
                format!("range {}", show::show(&c.iter_range)),
                format!(
                    "`{}` is {}: only lists and maps can be looped over (`exists`, `all`, `map`, `filter`)",
                    show::show(&c.iter_range),
                    a(range)
                ),
            );
        }
        let accu = self.infer(&c.accu_init);
        self.scope.push((c.iter_var.clone(), Ty::DYN));
        if let Some(v2) = &c.iter_var2 {
            self.scope.push((v2.clone(), Ty::DYN));
        }
        self.scope.push((c.accu_var.clone(), accu));
        self.infer(&c.loop_cond);
        self.infer(&c.loop_step);
        let ty = self.infer(&c.result);
        self.scope
            .truncate(self.scope.len() - 2 - usize::from(c.iter_var2.is_some()));
        ty
    }

    fn call(&mut self, call: &CallExpr) -> Ty {
        let func = functions::written_name(&call.func_name);
        if let Some(target) = &call.target {
            // `strings.quote(x)`: a namespaced function, not a method of a variable.
            if let Expr::Ident(ns) = &target.expr
                && !self.is_variable(ns)
                && functions::is_function(&format!("{ns}.{func}"))
            {
                for arg in &call.args {
                    self.infer(arg);
                }
                return Ty::DYN;
            }
            let recv = self.infer(target);
            let args: Vec<Ty> = call.args.iter().map(|x| self.infer(x)).collect();
            methods::method(&mut self.found, func, target, recv, &call.args, &args)
        } else if show::is_operator(func) {
            let args: Vec<Ty> = call.args.iter().map(|x| self.infer(x)).collect();
            operators::operator(&mut self.found, func, &call.args, &args)
        } else {
            let args: Vec<Ty> = call.args.iter().map(|x| self.infer(x)).collect();
            methods::global(&mut self.found, func, &call.args, &args)
        }
    }

    fn is_variable(&self, name: &str) -> bool {
        self.scope.iter().any(|(n, _)| n == name) || (self.var)(name).is_some()
    }

    fn ident(&mut self, name: &str) -> Ty {
        if let Some((_, t)) = self.scope.iter().rev().find(|(n, _)| n == name) {
            return *t;
        }
        if let Some(t) = (self.var)(name) {
            self.reads.insert(name.to_string());
            return t;
        }
        if name.starts_with('@') {
            return Ty::DYN;
        }
        if functions::env().types().find_type(name).is_some() {
            return Ty::TYPE;
        }
        let hint = match suggest(name, self.candidates.iter().copied()) {
            Some(s) => format!(": did you mean `{s}`?"),
            None => {
                if name.contains('-') || name.contains(' ') {
                    String::new()
                } else {
                    ": variables are the built-in ones (see docs/rules.md) and those declared in `let`"
                        .to_string()
                }
            }
        };
        self.found.problem(
            format!("var {name}"),
            format!("unknown variable `{name}`{hint}"),
        );
        Ty::DYN
    }
}
