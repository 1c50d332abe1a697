//! The operator table: what each CEL operator gives for the types of its operands, and the
//! problem when CEL has no overload for them.

use cel::common::ast::IdedExpr;

use super::findings::Findings;
use super::show::{compare_hint, show, symbol};
use crate::rules::types::{Ty, a};

/// The type of an operator's result, after noting a problem if its operands cannot fit.
pub(super) fn operator(f: &mut Findings, op: &str, exprs: &[IdedExpr], args: &[Ty]) -> Ty {
    match (op, args) {
        ("_&&_" | "_||_", [l, r]) => {
            for (e, t) in exprs.iter().zip([l, r]) {
                want_bool(f, e, *t, &format!("`{}`", symbol(op)));
            }
            Ty::BOOL
        }
        ("!_", [x]) => {
            want_bool(f, &exprs[0], *x, "`!`");
            Ty::BOOL
        }
        ("@not_strictly_false", _) => Ty::BOOL,
        ("_?_:_", [c, t, e]) => {
            want_bool(f, &exprs[0], *c, "the condition of `? :`");
            t.or(*e)
        }
        ("_==_" | "_!=_", [l, r]) => equality(f, op, exprs, *l, *r),
        ("@in", [l, r]) => membership(f, exprs, *l, *r),
        ("_[_]" | "_[?_]", [l, _]) => index(f, exprs, *l),
        ("-_", [x]) => negation(f, exprs, *x),
        ("_+_" | "_-_" | "_*_" | "_/_" | "_%_" | "_<_" | "_<=_" | "_>_" | "_>=_", [l, r]) => {
            arithmetic(f, op, exprs, *l, *r)
        }
        _ => Ty::DYN,
    }
}

/// `==` and `!=`: a comparison of values that can never be equal is a mistake.
fn equality(f: &mut Findings, op: &str, exprs: &[IdedExpr], l: Ty, r: Ty) -> Ty {
    if !comparable_for_equality(l, r) {
        let (le, re) = (show(&exprs[0]), show(&exprs[1]));
        let hint = if l.within(Ty::LIST) && r.within(Ty::STRING) {
            format!(": to test for an item, write `{re} in {le}`")
        } else if r.within(Ty::LIST) && l.within(Ty::STRING) {
            format!(": to test for an item, write `{le} in {re}`")
        } else if l == Ty::NULL || r == Ty::NULL {
            ": variables left empty hold \"\" (an empty string), never null: compare with ''".into()
        } else if l.meets(Ty::STRING) || r.meets(Ty::STRING) {
            ": convert one side, e.g. with string(…) or int(…)".into()
        } else {
            String::new()
        };
        let verdict = if op == "_==_" {
            "always false"
        } else {
            "always true"
        };
        f.problem(
            format!("eq {le} {re}"),
            format!(
                "`{le} {} {re}` is {verdict}: {} is never equal to {}{hint}",
                symbol(op),
                a(l),
                a(r)
            ),
        );
    }
    Ty::BOOL
}

/// `in` looks in a list or a map.
fn membership(f: &mut Findings, exprs: &[IdedExpr], l: Ty, r: Ty) -> Ty {
    if !r.meets(Ty::LIST.or(Ty::MAP)) {
        let (le, re) = (show(&exprs[0]), show(&exprs[1]));
        let hint = if r.meets(Ty::STRING) {
            format!(": to look for text inside text, write `{re}.contains({le})`")
        } else {
            String::new()
        };
        f.problem(
            format!("in {re}"),
            format!(
                "no such overload for {l} in {r}: `in` looks in a list or a map, but `{re}` is {}{hint}",
                a(r)
            ),
        );
    }
    Ty::BOOL
}

/// `x[i]` reads an item of a list or a map.
fn index(f: &mut Findings, exprs: &[IdedExpr], l: Ty) -> Ty {
    if !l.meets(Ty::LIST.or(Ty::MAP).or(Ty::OTHER)) {
        let le = show(&exprs[0]);
        let hint = if l.meets(Ty::STRING) {
            format!(": for part of a string use `{le}.substring(…)` or `{le}.charAt(…)`")
        } else {
            String::new()
        };
        f.problem(
            format!("index {le}"),
            format!(
                "`{le}` is {}, which cannot be indexed with `[…]`{hint}",
                a(l)
            ),
        );
    }
    Ty::DYN
}

/// `-x` for numbers and durations.
fn negation(f: &mut Findings, exprs: &[IdedExpr], x: Ty) -> Ty {
    if !x.meets(Ty::INT.or(Ty::DOUBLE).or(Ty::DURATION)) {
        f.problem(
            format!("neg {}", show(&exprs[0])),
            format!(
                "no such overload for -{x}: `{}` is {}, not a number",
                show(&exprs[0]),
                a(x)
            ),
        );
    }
    x
}

/// Arithmetic and ordering: every kind the operands may have is tried against every other.
fn arithmetic(f: &mut Findings, op: &str, exprs: &[IdedExpr], l: Ty, r: Ty) -> Ty {
    let mut result = Ty::NONE;
    for lk in l.kinds() {
        for rk in r.kinds() {
            if let Some(t) = binary(op, lk, rk) {
                result = result.or(t);
            }
        }
    }
    if result != Ty::NONE {
        return result;
    }
    let (le, re) = (show(&exprs[0]), show(&exprs[1]));
    let numeric = Ty::NUMBER;
    let hint = if op == "_+_" && (l.meets(Ty::STRING) && r.meets(numeric)) {
        format!(": to join text and a number, write `{le} + string({re})`")
    } else if op == "_+_" && (r.meets(Ty::STRING) && l.meets(numeric)) {
        format!(": to join a number and text, write `string({le}) + {re}`")
    } else if l.within(numeric) && r.within(numeric) {
        ": CEL does not mix int and double in arithmetic; convert one side with double(…) or int(…)"
            .into()
    } else if l.meets(Ty::STRING) && r.meets(numeric) {
        format!(": convert the text with `int({le})` or the number with `string({re})`")
    } else if r.meets(Ty::STRING) && l.meets(numeric) {
        format!(": convert the text with `int({re})` or the number with `string({le})`")
    } else {
        String::new()
    };
    f.problem(
        format!("op {le} {op} {re}"),
        format!(
            "no such overload for {l} {} {r} in `{le} {} {re}`{hint}",
            symbol(op),
            symbol(op)
        ),
    );
    Ty::DYN
}

/// A value used where a condition is needed must be able to be a bool.
pub(super) fn want_bool(f: &mut Findings, e: &IdedExpr, t: Ty, role: &str) {
    if !t.meets(Ty::BOOL) {
        f.problem(
            format!("bool {}", show(e)),
            format!(
                "{role} needs true or false, but `{}` is {}{}",
                show(e),
                a(t),
                compare_hint(e, t)
            ),
        );
    }
}

/// The result type of a binary operator on two kinds, `None` when CEL has no such overload.
fn binary(op: &str, l: Ty, r: Ty) -> Option<Ty> {
    let num = |t: Ty| t.within(Ty::NUMBER);
    match op {
        "_+_" => match (l, r) {
            _ if l == r
                && (num(l) || [Ty::STRING, Ty::BYTES, Ty::LIST, Ty::DURATION].contains(&l)) =>
            {
                Some(l)
            }
            (Ty::TIMESTAMP, Ty::DURATION) | (Ty::DURATION, Ty::TIMESTAMP) => Some(Ty::TIMESTAMP),
            _ => None,
        },
        "_-_" => match (l, r) {
            _ if l == r && (num(l) || l == Ty::DURATION) => Some(l),
            (Ty::TIMESTAMP, Ty::TIMESTAMP) => Some(Ty::DURATION),
            (Ty::TIMESTAMP, Ty::DURATION) => Some(Ty::TIMESTAMP),
            _ => None,
        },
        "_*_" | "_/_" => (l == r && num(l)).then_some(l),
        "_%_" => (l == r && (l == Ty::INT || l == Ty::UINT)).then_some(l),
        // comparisons: numbers compare across kinds; everything else with its own kind
        _ => {
            let same = l == r
                && [Ty::STRING, Ty::BOOL, Ty::BYTES, Ty::TIMESTAMP, Ty::DURATION].contains(&l);
            (same || (num(l) && num(r))).then_some(Ty::BOOL)
        }
    }
}

fn comparable_for_equality(l: Ty, r: Ty) -> bool {
    l.meets(r)
        || (l.meets(Ty::NUMBER) && r.meets(Ty::NUMBER))
        || l.meets(Ty::OTHER)
        || r.meets(Ty::OTHER)
}
