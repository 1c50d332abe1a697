//! How much work a rules document may ask for, and the words that say so.
//!
//! CEL has no loops of its own, but its macros (`exists`, `all`, `map`, `filter`) loop over
//! lists, and cel copies every value it builds. Three loops nested over a 2,000-item list take
//! hours of a core; an 80×80 `map` over a 64 KB message builds 400 MB. So the work is bounded
//! twice: when the document is read (its size, its `let` lists, the size of each expression),
//! and while a press is evaluated (the steps its loops take, the bytes its lists hold, the
//! length of each value it computes). A document is refused, or an expression stopped, with a
//! sentence that names the limit; `button-rules check`, `/rules/try` and the function say the
//! same.

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use serde_json::Value;

use crate::button::MAX_FIELD_BYTES;

/// The largest document, unpacked: far beyond what fits Lambda's 4 KB of variables even packed.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// The most items a `let` variable holds, counted through its nested lists and maps.
pub const MAX_LET_ITEMS: usize = 256;

/// The most parts (names, values, operators, calls) one expression has.
pub const MAX_PARTS: usize = 1000;

/// The most steps the rules' loops take for one press: an item of a loop costs the parts of the
/// loop's body, and a step for every 64 bytes of the values the body reads.
pub const MAX_STEPS: u64 = 1_000_000;

/// How many bytes of the values a loop's body reads make a step.
pub const BYTES_PER_STEP: u64 = 64;

/// The most bytes the lists the rules build (`[…]`, `map`, `filter`) hold, in all, for one
/// press.
pub const MAX_BUILT_BYTES: u64 = 1024 * 1024;

/// The longest value a rule computes, and the longest result of `replace`: as long as a field
/// of the request may be.
pub const MAX_VALUE_BYTES: usize = MAX_FIELD_BYTES;

/// Why a document of `len` bytes is refused, if it is.
pub fn document_size_problem(len: usize) -> Option<String> {
    (len > MAX_DOCUMENT_BYTES).then(|| {
        format!(
            "the document: is {len} bytes; at most {MAX_DOCUMENT_BYTES} are accepted: remove \
             rules, or shorten expressions, lists and messages"
        )
    })
}

/// Why the `let` variable `name` is refused for its size, if it is.
pub(crate) fn let_items_problem(name: &str, init: &Value) -> Option<String> {
    let items = items(init);
    (items > MAX_LET_ITEMS).then(|| {
        format!(
            "let.{name}: holds {items} items (counting those in its lists and maps); at most \
             {MAX_LET_ITEMS} are accepted: keep the items the rules need, and the rest in BMS"
        )
    })
}

/// The items of a JSON value: list elements and map entries, nested ones included.
fn items(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.len() + a.iter().map(items).sum::<usize>(),
        Value::Object(m) => m.len() + m.values().map(items).sum::<usize>(),
        _ => 0,
    }
}

/// Why the expression at `loc` is refused for having `parts` parts, if it is.
pub(crate) fn parts_problem(loc: &str, parts: usize) -> Option<String> {
    (parts > MAX_PARTS).then(|| {
        format!(
            "{loc}: the expression has {parts} parts (names, values, operators and calls); at \
             most {MAX_PARTS} are accepted: split it over several rules (a `let` variable can \
             carry a part)"
        )
    })
}

/// The parts of an expression, and how deep they nest: counted without recursion, as the
/// expression has not been checked for depth yet.
pub(crate) fn parts_and_depth(root: &IdedExpr) -> (usize, usize) {
    let (mut parts, mut deepest) = (0, 0);
    let mut todo = vec![(root, 1)];
    while let Some((e, d)) = todo.pop() {
        parts += 1;
        deepest = deepest.max(d);
        let mut push = |child| todo.push((child, d + 1));
        match &e.expr {
            Expr::List(l) => l.elements.iter().for_each(push),
            Expr::Map(m) => m.entries.iter().for_each(|en| entry(&en.expr, &mut push)),
            Expr::Struct(st) => st.entries.iter().for_each(|en| entry(&en.expr, &mut push)),
            Expr::Select(sel) => push(&sel.operand),
            Expr::Comprehension(c) => {
                for child in [
                    &c.iter_range,
                    &c.accu_init,
                    &c.loop_cond,
                    &c.loop_step,
                    &c.result,
                ] {
                    push(child);
                }
            }
            Expr::Call(call) => {
                call.target.iter().map(|t| &**t).for_each(&mut push);
                call.args.iter().for_each(push);
            }
            Expr::Unspecified | Expr::Literal(_) | Expr::Ident(_) => {}
        }
    }
    (parts, deepest)
}

fn entry<'e>(e: &'e EntryExpr, push: &mut impl FnMut(&'e IdedExpr)) {
    match e {
        EntryExpr::MapEntry(me) => {
            push(&me.key);
            push(&me.value);
        }
        EntryExpr::StructField(f) => push(&f.value),
    }
}

/// The loops of the press have taken all their steps.
pub(crate) fn steps_spent() -> String {
    format!(
        "the loops (`exists`, `all`, `map`, `filter`) would take more than the {MAX_STEPS} steps \
         the rules may take for one press: loop over fewer items, nest fewer loops, or read \
         less text inside them"
    )
}

/// The lists of the press would hold more than they may.
pub(crate) fn built_bytes_spent() -> String {
    format!(
        "the lists the rules build (`[…]`, `map`, `filter`) would hold more than the \
         {MAX_BUILT_BYTES} bytes they may hold for one press: build shorter lists, of \
         shorter values"
    )
}

/// `computing `name` gave a value of more than … bytes`.
pub(crate) fn value_too_long(name: &str) -> String {
    format!(
        "computing `{name}` gave a value of more than {MAX_VALUE_BYTES} bytes, the most a \
         variable may hold: keep less of it, e.g. with substring(0, 1000)"
    )
}

/// What `replace` says of a result it will not make.
pub(crate) fn replace_too_long(len: u64) -> String {
    format!(
        "the result would be {len} bytes, more than the {MAX_VALUE_BYTES} bytes a value may \
         hold (replacing '' puts the new text between every two characters)"
    )
}
