//! An expression made to pay for its work as it runs: a call to [`TICK`] on every item of every
//! loop, [`BUILT`] around every value put into a list or a map, and `replace` measured before
//! it is made ([`REPLACE`]). None of the names can be written in a rule (`@` is not allowed in
//! names), and the checker has seen the expression as it was written.
//!
//! cel runs `map` and `filter` without copying the list at every step when a loop has their
//! shape (`@result + [x]`, or `cond ? @result + [x] : @result`, with a literal loop condition):
//! the tick of such a loop goes into the `cond`, which keeps the shape. Other loops tick in
//! their loop condition, which runs before every item.

use std::collections::BTreeSet;

use cel::common::ast::{
    CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedEntryExpr, IdedExpr, ListExpr, LiteralValue,
    MapExpr, SelectExpr, StructExpr,
};

use crate::rules::limits::parts_and_depth;

/// `@tick(value, parts, read…)`: `value`, after paying for one item of a loop whose body has
/// `parts` parts and reads the values `read…`.
pub(crate) const TICK: &str = "@tick";
/// `@built(value)`: `value`, after paying for its bytes.
pub(crate) const BUILT: &str = "@built";
/// `text.@replace(old, new[, n])`: CEL's `replace`, refusing a result longer than a value may be.
pub(crate) const REPLACE: &str = "@replace";

/// `expr` made to pay for its work. `variables` are the names it reads that are variables of
/// the rules (what the checker found it reads).
pub(crate) fn bounded(expr: &IdedExpr, variables: &BTreeSet<String>) -> IdedExpr {
    let mut r = Rewriter {
        variables,
        scope: Vec::new(),
        next_id: max_id(expr) + 1,
    };
    r.expr(expr)
}

struct Rewriter<'a> {
    variables: &'a BTreeSet<String>,
    /// The loop variables of the loops around the part being rewritten.
    scope: Vec<String>,
    next_id: u64,
}

impl Rewriter<'_> {
    fn node(&mut self, expr: Expr) -> IdedExpr {
        self.next_id += 1;
        IdedExpr {
            id: self.next_id,
            expr,
        }
    }

    fn call(&mut self, func: &str, args: Vec<IdedExpr>) -> IdedExpr {
        self.node(Expr::Call(CallExpr {
            func_name: func.to_string(),
            target: None,
            args,
        }))
    }

    fn expr(&mut self, e: &IdedExpr) -> IdedExpr {
        let expr = match &e.expr {
            Expr::List(list) => Expr::List(ListExpr {
                elements: list.elements.iter().map(|el| self.built(el)).collect(),
                optional_indices: list.optional_indices.clone(),
            }),
            Expr::Map(map) => Expr::Map(MapExpr {
                entries: map.entries.iter().map(|en| self.entry(en, true)).collect(),
            }),
            Expr::Struct(st) => Expr::Struct(StructExpr {
                type_name: st.type_name.clone(),
                entries: st.entries.iter().map(|en| self.entry(en, false)).collect(),
            }),
            Expr::Select(sel) => Expr::Select(SelectExpr {
                operand: Box::new(self.expr(&sel.operand)),
                field: sel.field.clone(),
                test: sel.test,
            }),
            Expr::Call(call) => Expr::Call(self.call_expr(call)),
            Expr::Comprehension(c) => Expr::Comprehension(Box::new(self.comprehension(c))),
            Expr::Unspecified | Expr::Literal(_) | Expr::Ident(_) => e.expr.clone(),
        };
        IdedExpr { id: e.id, expr }
    }

    /// A value put into a list or a map, weighed unless it is written out in the document.
    fn built(&mut self, e: &IdedExpr) -> IdedExpr {
        let inner = self.expr(e);
        if matches!(e.expr, Expr::Literal(_)) {
            inner
        } else {
            self.call(BUILT, vec![inner])
        }
    }

    fn entry(&mut self, en: &IdedEntryExpr, weigh: bool) -> IdedEntryExpr {
        let expr = match &en.expr {
            EntryExpr::MapEntry(me) => {
                let mut me = me.clone();
                (me.key, me.value) = if weigh {
                    (self.built(&me.key), self.built(&me.value))
                } else {
                    (self.expr(&me.key), self.expr(&me.value))
                };
                EntryExpr::MapEntry(me)
            }
            EntryExpr::StructField(f) => {
                let mut f = f.clone();
                f.value = self.expr(&f.value);
                EntryExpr::StructField(f)
            }
        };
        IdedEntryExpr { id: en.id, expr }
    }

    fn call_expr(&mut self, call: &CallExpr) -> CallExpr {
        let measured = call.func_name == "replace"
            && call.target.is_some()
            && (2..=3).contains(&call.args.len());
        CallExpr {
            func_name: if measured {
                REPLACE.to_string()
            } else {
                call.func_name.clone()
            },
            target: call.target.as_ref().map(|t| Box::new(self.expr(t))),
            args: call.args.iter().map(|a| self.expr(a)).collect(),
        }
    }

    fn comprehension(&mut self, c: &ComprehensionExpr) -> ComprehensionExpr {
        // the range and the start are evaluated outside the loop, the rest inside it
        let iter_range = self.expr(&c.iter_range);
        let accu_init = self.expr(&c.accu_init);
        let bound: Vec<String> = [Some(&c.iter_var), c.iter_var2.as_ref(), Some(&c.accu_var)]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        let parts = parts_and_depth(&c.loop_cond).0 + parts_and_depth(&c.loop_step).0;
        let mut reads = Vec::new();
        for part in [&c.loop_cond, &c.loop_step] {
            self.free_reads(part, &mut bound.clone(), &mut reads);
        }
        let depth = self.scope.len();
        self.scope.extend(bound);
        let loop_cond = self.expr(&c.loop_cond);
        let result = self.expr(&c.result);
        let (loop_cond, loop_step) = match Append::of(c) {
            Some(append) => {
                let guard = match append.guard {
                    Some(guard) => self.expr(guard),
                    None => self.node(Expr::Literal(LiteralValue::Boolean(true.into()))),
                };
                let guard = self.tick(guard, parts, &reads);
                let step = self.expr(append.step);
                let accu = self.node(Expr::Ident(c.accu_var.clone()));
                (loop_cond, self.call(CONDITIONAL, vec![guard, step, accu]))
            }
            None => {
                let loop_step = self.expr(&c.loop_step);
                (self.tick(loop_cond, parts, &reads), loop_step)
            }
        };
        self.scope.truncate(depth);
        ComprehensionExpr {
            iter_range,
            iter_var: c.iter_var.clone(),
            iter_var2: c.iter_var2.clone(),
            accu_var: c.accu_var.clone(),
            accu_init,
            loop_cond,
            loop_step,
            result,
        }
    }

    /// `@tick(value, parts, read…)`.
    fn tick(&mut self, value: IdedExpr, parts: usize, reads: &[String]) -> IdedExpr {
        let parts = i64::try_from(parts).unwrap_or(i64::MAX);
        let mut args = vec![
            value,
            self.node(Expr::Literal(LiteralValue::Int(parts.into()))),
        ];
        for name in reads {
            args.push(self.node(Expr::Ident(name.clone())));
        }
        self.call(TICK, args)
    }

    /// The variables `e` reads that are bound outside it: the rules' variables and the items
    /// of loops around it, once for every time it names one. `bound` holds the names bound
    /// inside, by loops within `e` and the loop `e` belongs to.
    fn free_reads(&self, e: &IdedExpr, bound: &mut Vec<String>, reads: &mut Vec<String>) {
        match &e.expr {
            Expr::Ident(name) => {
                let outside = self.variables.contains(name) || self.scope.contains(name);
                if outside && !name.starts_with('@') && !bound.contains(name) {
                    reads.push(name.clone());
                }
            }
            Expr::Comprehension(c) => {
                self.free_reads(&c.iter_range, bound, reads);
                self.free_reads(&c.accu_init, bound, reads);
                let depth = bound.len();
                bound.push(c.iter_var.clone());
                bound.extend(c.iter_var2.clone());
                bound.push(c.accu_var.clone());
                for part in [&c.loop_cond, &c.loop_step, &c.result] {
                    self.free_reads(part, bound, reads);
                }
                bound.truncate(depth);
            }
            _ => {
                for child in children(e) {
                    self.free_reads(child, bound, reads);
                }
            }
        }
    }
}

const CONDITIONAL: &str = "_?_:_";
const ADD: &str = "_+_";

/// The step of a loop cel runs as an append (`map`, `filter`): `@result + [x]`, or
/// `cond ? @result + [x] : @result`, with a literal loop condition and `@result` as the result.
/// The shape cel's own evaluator looks for, which the rewritten loop must keep.
struct Append<'e> {
    guard: Option<&'e IdedExpr>,
    /// `@result + [x]`.
    step: &'e IdedExpr,
}

impl<'e> Append<'e> {
    fn of(c: &'e ComprehensionExpr) -> Option<Append<'e>> {
        let is_accu = |e: &IdedExpr| matches!(&e.expr, Expr::Ident(n) if *n == c.accu_var);
        let appends = |e: &IdedExpr| match &e.expr {
            Expr::Call(call) if call.func_name == ADD && call.target.is_none() => {
                matches!(call.args.as_slice(), [l, r] if is_accu(l) && matches!(r.expr, Expr::List(_)))
            }
            _ => false,
        };
        if !is_accu(&c.result) || !matches!(c.loop_cond.expr, Expr::Literal(_)) {
            return None;
        }
        match &c.loop_step.expr {
            Expr::Call(call) if call.func_name == CONDITIONAL && call.target.is_none() => {
                match call.args.as_slice() {
                    [guard, step, otherwise] if is_accu(otherwise) && appends(step) => {
                        Some(Append {
                            guard: Some(guard),
                            step,
                        })
                    }
                    _ => None,
                }
            }
            _ => appends(&c.loop_step).then_some(Append {
                guard: None,
                step: &c.loop_step,
            }),
        }
    }
}

/// The expressions directly inside `e`.
fn children(e: &IdedExpr) -> Box<dyn Iterator<Item = &IdedExpr> + '_> {
    match &e.expr {
        Expr::List(l) => Box::new(l.elements.iter()),
        Expr::Map(m) => Box::new(m.entries.iter().flat_map(entry_children)),
        Expr::Struct(s) => Box::new(s.entries.iter().flat_map(entry_children)),
        Expr::Select(sel) => Box::new(std::iter::once(&*sel.operand)),
        Expr::Call(call) => Box::new(call.target.iter().map(|t| &**t).chain(call.args.iter())),
        Expr::Comprehension(c) => Box::new(
            [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ]
            .into_iter(),
        ),
        Expr::Unspecified | Expr::Literal(_) | Expr::Ident(_) => Box::new(std::iter::empty()),
    }
}

fn entry_children(en: &IdedEntryExpr) -> Vec<&IdedExpr> {
    match &en.expr {
        EntryExpr::MapEntry(me) => vec![&me.key, &me.value],
        EntryExpr::StructField(f) => vec![&f.value],
    }
}

/// The largest id in `e`, so that the parts added get ids of their own.
fn max_id(e: &IdedExpr) -> u64 {
    let mut max = 0;
    let mut todo = vec![e];
    while let Some(e) = todo.pop() {
        max = max.max(e.id);
        todo.extend(children(e));
    }
    max
}
