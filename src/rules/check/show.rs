//! How messages show an expression: short, and with operators as they are written.

use cel::common::ast::{Expr, IdedExpr, LiteralValue};

use crate::rules::functions;
use crate::rules::types::Ty;

/// A hint for a value used where a condition is needed.
pub(crate) fn compare_hint(e: &IdedExpr, t: Ty) -> String {
    let s = show(e);
    if t.within(Ty::NAME_OR_ID) && t.meets(Ty::STRING) {
        if matches!(e.expr, Expr::Literal(_)) {
            format!(": compare it with something, e.g. `name == {s}` or `{s} in selections`")
        } else {
            format!(": compare it, e.g. `{s} == '…'` or `{s} != ''`")
        }
    } else if t.within(Ty::NUMBER) {
        format!(": compare it, e.g. `{s} > 0`")
    } else if t.within(Ty::LIST) {
        format!(": test it, e.g. `'…' in {s}` or `size({s}) > 0`")
    } else {
        String::new()
    }
}

/// Whether a call is an operator (`_+_`, `!_`, `@in`) rather than a function or method.
pub(super) fn is_operator(func: &str) -> bool {
    func.starts_with('_') || func.starts_with('@') || func == "!_" || func == "-_"
}

/// How an operator is written: `_+_` is `+`.
pub(crate) fn symbol(op: &str) -> &str {
    match op {
        "@in" => "in",
        "!_" => "!",
        "-_" => "-",
        "_[_]" => "[]",
        "_?_:_" => "? :",
        _ => op.trim_matches('_'),
    }
}

/// A short rendering of an expression for messages; `…` for what would be too long.
pub(crate) fn show(e: &IdedExpr) -> String {
    let s = render(e, 3);
    if s.chars().count() > 60 {
        "…".into()
    } else {
        s
    }
}

fn render(e: &IdedExpr, depth: u8) -> String {
    if depth == 0 {
        return "…".into();
    }
    match &e.expr {
        Expr::Ident(n) => n.clone(),
        Expr::Literal(l) => match l {
            LiteralValue::Boolean(b) => b.inner().to_string(),
            LiteralValue::Int(i) => i.inner().to_string(),
            LiteralValue::UInt(u) => format!("{}u", u.inner()),
            LiteralValue::Double(d) => format!("{:?}", d.inner()),
            LiteralValue::String(s) => format!("'{}'", s.inner().replace('\'', "\\'")),
            LiteralValue::Bytes(_) => "b'…'".into(),
            LiteralValue::Null => "null".into(),
        },
        Expr::Select(s) if s.test => format!("has({}.{})", render(&s.operand, depth - 1), s.field),
        Expr::Select(s) => format!("{}.{}", render(&s.operand, depth - 1), s.field),
        Expr::List(l) if l.elements.is_empty() => "[]".into(),
        Expr::List(_) => "[…]".into(),
        Expr::Map(_) => "{…}".into(),
        Expr::Call(c) => {
            let args: Vec<String> = c.args.iter().map(|x| render(x, depth - 1)).collect();
            let func = functions::written_name(&c.func_name);
            match (&c.target, func, args.as_slice()) {
                (Some(t), f, _) => format!("{}.{f}({})", render(t, depth - 1), args.join(", ")),
                (None, "_[_]", [l, r]) => format!("{l}[{r}]"),
                (None, "!_", [x]) => format!("!{x}"),
                (None, "-_", [x]) => format!("-{x}"),
                (None, "_?_:_", [c, t, f]) => format!("{c} ? {t} : {f}"),
                (None, op, [l, r]) if is_operator(op) => format!("{l} {} {r}", symbol(op)),
                (None, f, _) => format!("{f}({})", args.join(", ")),
            }
        }
        Expr::Comprehension(_) | Expr::Struct(_) | Expr::Unspecified => "…".into(),
    }
}
