//! Methods and functions: what each takes and gives, the time zones they are given, and the
//! fields a person may mean when they write `openDate.hour`.

use cel::common::ast::{Expr, IdedExpr, LiteralValue, SelectExpr};

use super::findings::Findings;
use super::show::show;
use crate::rules::did_you_mean::suggest;
use crate::rules::functions;
use crate::rules::types::{Ty, a};
use crate::rules::zones;

/// A call of a function or method that does not exist, with the one probably meant.
pub(super) fn unknown_function(f: &mut Findings, name: &str, method: bool) {
    let hint = functions::alias(name)
        .map(str::to_string)
        .or_else(|| suggest(name, functions::SUGGESTIBLE.iter().copied()))
        .map(|s| format!(": did you mean `{s}`?"))
        .unwrap_or_else(|| ": see the functions listed in docs/rules.md".into());
    let what = if method { "method" } else { "function" };
    f.problem(
        format!("fn {name}"),
        format!("unknown {what} `{name}`{hint}"),
    );
}

/// The type a method call gives, after noting a problem if its receiver or arguments cannot fit.
pub(super) fn method(
    f: &mut Findings,
    func: &str,
    target: &IdedExpr,
    recv: Ty,
    arg_exprs: &[IdedExpr],
    args: &[Ty],
) -> Ty {
    if !functions::is_function(func) {
        unknown_function(f, func, true);
        return Ty::DYN;
    }
    if func == "matches" {
        f.note_pattern(arg_exprs.first());
    }
    let Some(sig) = method_signature(func) else {
        return Ty::DYN;
    };
    let t = show(target);
    if !recv.meets(sig.receiver) {
        let hint = receiver_hint(func, recv, sig.receiver, &t, arg_exprs);
        f.problem(
            format!("method {t}.{func}"),
            format!(
                "no such overload for {recv}.{func}({}): `{t}` is {}, and `{func}` works on {}{hint}",
                args.iter().map(Ty::to_string).collect::<Vec<_>>().join(", "),
                a(recv),
                a(sig.receiver)
            ),
        );
    }
    check_args(f, func, arg_exprs, args, sig.args);
    if recv.meets(Ty::TIMESTAMP) && func.starts_with("get") {
        check_zone(f, func, target, recv, arg_exprs);
    }
    sig.result
}

/// How to reach what `func` was meant to do on a receiver it does not take.
fn receiver_hint(func: &str, recv: Ty, wants: Ty, t: &str, arg_exprs: &[IdedExpr]) -> String {
    match func {
        "contains" | "startsWith" | "endsWith" if recv.meets(Ty::LIST) => {
            let item = arg_exprs.first().map(show).unwrap_or_else(|| "'…'".into());
            format!(": to look for an item in a list, write `{item} in {t}`")
        }
        "lowerAscii" | "upperAscii" | "trim" if recv.meets(Ty::LIST) => format!(
            ": to compare the items of a list, write e.g. `{t}.exists(s, s.{func}() == '…')`"
        ),
        f if f.starts_with("get") && recv.meets(Ty::STRING) && ZONED.contains(&f) => {
            format!(
                ": turn the text into a timestamp first: `timestamp({t}).{func}()`, or \
                 in your office's time zone `timestamp({t}).{func}('America/Chicago')`"
            )
        }
        f if f.starts_with("get") && recv.meets(Ty::STRING) => {
            format!(": turn the text into a timestamp first: `timestamp({t}).{func}()`")
        }
        _ if wants == Ty::STRING => {
            format!(": turn it into text first: `string({t}).{func}(…)`")
        }
        _ => String::new(),
    }
}

/// A literal time zone must be one cel can read; a timestamp's hour, day, month or year
/// read without one is UTC's, which is seldom what an office means by "after hours".
fn check_zone(f: &mut Findings, func: &str, target: &IdedExpr, recv: Ty, arg_exprs: &[IdedExpr]) {
    let t = show(target);
    match arg_exprs.first().map(|a| &a.expr) {
        Some(Expr::Literal(LiteralValue::String(zone))) => {
            if let Some(problem) = zones::zone_problem(zone.inner()) {
                f.problem(
                    format!("zone {}", zone.inner()),
                    format!("`{t}.{func}('{}')`: {problem}", zone.inner()),
                );
            }
        }
        None if ZONED.contains(&func) && recv == Ty::TIMESTAMP => {
            f.warning(
                format!("utc {t}.{func}"),
                format!(
                    "`{t}.{func}()` counts in UTC, not in your office's time zone: give the \
                     zone, e.g. `{t}.{func}('America/Chicago')`"
                ),
            );
        }
        _ => {}
    }
}

/// The type a function call gives, after noting a problem if its arguments cannot fit.
pub(super) fn global(f: &mut Findings, func: &str, arg_exprs: &[IdedExpr], args: &[Ty]) -> Ty {
    if !functions::is_function(func) {
        unknown_function(f, func, false);
        return Ty::DYN;
    }
    match (func, args) {
        ("size", [x]) => {
            if !x.meets(Ty::STRING.or(Ty::BYTES).or(Ty::LIST).or(Ty::MAP)) {
                f.problem(
                    format!("size {}", show(&arg_exprs[0])),
                    format!(
                        "no such overload for size({x}): `{}` is {}; size() counts the characters of a string or the items of a list or map",
                        show(&arg_exprs[0]),
                        a(*x)
                    ),
                );
            }
            Ty::INT
        }
        ("matches", [_, _]) => {
            f.note_pattern(arg_exprs.get(1));
            check_args(f, func, &arg_exprs[1..], &args[1..], &[Ty::STRING]);
            Ty::BOOL
        }
        ("int", _) => Ty::INT,
        ("uint", _) => Ty::UINT,
        ("double", _) => Ty::DOUBLE,
        ("string", _) => Ty::STRING,
        ("bool", _) => Ty::BOOL,
        ("bytes", _) => Ty::BYTES,
        ("timestamp", _) => Ty::TIMESTAMP,
        ("duration", _) => Ty::DURATION,
        ("type", _) => Ty::TYPE,
        // `dyn(x)` is the way to say "trust me" about a type
        _ => Ty::DYN,
    }
}

/// Each argument must be able to have the type the function takes there.
fn check_args(f: &mut Findings, func: &str, exprs: &[IdedExpr], args: &[Ty], want: &[Ty]) {
    for ((e, got), want) in exprs.iter().zip(args).zip(want) {
        if !got.meets(*want) {
            let hint = if *want == Ty::STRING {
                format!(": turn it into text with `string({})`", show(e))
            } else {
                String::new()
            };
            f.problem(
                format!("arg {func} {}", show(e)),
                format!(
                    "`{func}` takes {} here, but `{}` is {}{hint}",
                    a(*want),
                    show(e),
                    a(*got)
                ),
            );
        }
    }
}

struct Signature {
    receiver: Ty,
    args: &'static [Ty],
    result: Ty,
}

/// The parts of a timestamp that depend on the time zone they are read in.
const ZONED: [&str; 7] = [
    "getHours",
    "getDayOfWeek",
    "getDate",
    "getDayOfMonth",
    "getDayOfYear",
    "getMonth",
    "getFullYear",
];

/// The method that reads a part of a timestamp a person may write as a field (`openDate.hour`).
fn time_part_method(field: &str) -> Option<&'static str> {
    Some(match field.to_ascii_lowercase().as_str() {
        "hour" | "hours" => "getHours",
        "minute" | "minutes" => "getMinutes",
        "weekday" | "dayofweek" | "day_of_week" => "getDayOfWeek",
        "day" | "date" | "dayofmonth" => "getDate",
        "month" => "getMonth",
        "year" | "fullyear" => "getFullYear",
        _ => return None,
    })
}

fn method_signature(name: &str) -> Option<Signature> {
    const S: Ty = Ty::STRING;
    const I: Ty = Ty::INT;
    let sig = |receiver, args, result| {
        Some(Signature {
            receiver,
            args,
            result,
        })
    };
    match name {
        "contains" | "startsWith" | "endsWith" | "matches" => sig(S, &[S], Ty::BOOL),
        "lowerAscii" | "upperAscii" | "trim" | "reverse" => sig(S, &[], S),
        "charAt" => sig(S, &[I], S),
        "substring" => sig(S, &[I, I], S),
        "replace" => sig(S, &[S, S, I], S),
        "indexOf" | "lastIndexOf" => sig(S, &[S, I], I),
        "split" => sig(S, &[S, I], Ty::LIST),
        "format" => sig(S, &[Ty::LIST], S),
        "join" => sig(Ty::LIST, &[S], S),
        "size" => sig(Ty::STRING.or(Ty::BYTES).or(Ty::LIST).or(Ty::MAP), &[], I),
        "getFullYear" | "getMonth" | "getDate" | "getDayOfMonth" | "getDayOfWeek"
        | "getDayOfYear" => sig(Ty::TIMESTAMP, &[S], I),
        "getHours" | "getMinutes" | "getSeconds" | "getMilliseconds" => {
            sig(Ty::TIMESTAMP.or(Ty::DURATION), &[S], I)
        }
        _ => None,
    }
}

/// `x.field` reads a field of a map; on text or a timestamp it is a method a person meant.
pub(super) fn select(f: &mut Findings, sel: &SelectExpr, operand: Ty) -> Ty {
    if !operand.meets(Ty::MAP.or(Ty::OTHER)) {
        let target = show(&sel.operand);
        let time_part = time_part_method(&sel.field)
            .filter(|_| operand.meets(Ty::STRING) || operand.meets(Ty::TIMESTAMP));
        let hint = if let Some(method) = time_part {
            let stamp = if operand.within(Ty::TIMESTAMP) {
                target.clone()
            } else {
                format!("timestamp({target})")
            };
            format!(
                ": to read the {}, write `{stamp}.{method}('America/Chicago')` (with \
                 your office's time zone)",
                sel.field
            )
        } else if operand.meets(Ty::STRING) {
            format!(
                ": to look inside text use `{target}.contains('{}')` or `{target}.split(...)`",
                sel.field
            )
        } else {
            String::new()
        };
        f.problem(
            format!("select {target}.{}", sel.field),
            format!(
                "`{target}.{}`: `{target}` is {}, which has no fields{hint}",
                sel.field,
                a(operand)
            ),
        );
    }
    if sel.test { Ty::BOOL } else { Ty::DYN }
}
