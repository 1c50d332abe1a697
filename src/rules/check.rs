//! What can be learnt about a CEL expression without running it.
//!
//! cel 0.15 parses and runs CEL but has no type checker. This module walks the parsed expression
//! and finds what is visible in its shape: variables that do not exist (comprehension variables
//! such as the `s` of `selections.exists(s, ...)` are understood), functions that do not exist,
//! and operations whose operand types are certain to have no overload (`'a' + 1`,
//! `selections == 'x'`, `name.getHours()`), using the types of the rules' variables. Anything
//! whose type depends on the data (a lookup variable holds a name or an id; a `let` map's
//! values; an index into a list) is taken as "could be anything" and left to run time.

use std::collections::BTreeSet;
use std::fmt;

use cel::Program;
use cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue};

use super::{functions, zones};

/// The set of runtime types an expression may have, as bits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ty(u16);

impl Ty {
    pub const BOOL: Ty = Ty(1);
    pub const INT: Ty = Ty(1 << 1);
    pub const UINT: Ty = Ty(1 << 2);
    pub const DOUBLE: Ty = Ty(1 << 3);
    pub const STRING: Ty = Ty(1 << 4);
    pub const BYTES: Ty = Ty(1 << 5);
    pub const LIST: Ty = Ty(1 << 6);
    pub const MAP: Ty = Ty(1 << 7);
    pub const NULL: Ty = Ty(1 << 8);
    pub const TIMESTAMP: Ty = Ty(1 << 9);
    pub const DURATION: Ty = Ty(1 << 10);
    pub const TYPE: Ty = Ty(1 << 11);
    /// Optionals, structs and whatever else CEL has that a rule is unlikely to build.
    pub const OTHER: Ty = Ty(1 << 12);
    /// In the order they are named in messages.
    const KINDS: [Ty; 13] = [
        Ty::STRING,
        Ty::BOOL,
        Ty::INT,
        Ty::UINT,
        Ty::DOUBLE,
        Ty::BYTES,
        Ty::LIST,
        Ty::MAP,
        Ty::NULL,
        Ty::TIMESTAMP,
        Ty::DURATION,
        Ty::TYPE,
        Ty::OTHER,
    ];
    pub const NONE: Ty = Ty(0);
    pub const DYN: Ty = Ty((1 << 13) - 1);
    /// A number from JSON: an int, or a double (or a uint beyond the range of int).
    pub const NUMBER: Ty = Ty(Ty::INT.0 | Ty::UINT.0 | Ty::DOUBLE.0);
    /// A lookup variable: a name, or an id.
    pub const NAME_OR_ID: Ty = Ty(Ty::STRING.0 | Ty::INT.0);

    pub const fn or(self, other: Ty) -> Ty {
        Ty(self.0 | other.0)
    }

    pub fn meets(self, other: Ty) -> bool {
        self.0 & other.0 != 0
    }

    pub fn within(self, other: Ty) -> bool {
        self.0 & !other.0 == 0
    }

    fn kinds(self) -> impl Iterator<Item = Ty> {
        Ty::KINDS.into_iter().filter(move |k| self.meets(*k))
    }

    /// The type a JSON value has once it is a CEL value.
    pub fn of_json(v: &serde_json::Value) -> Ty {
        use serde_json::Value as J;
        match v {
            J::Null => Ty::NULL,
            J::Bool(_) => Ty::BOOL,
            J::Number(_) => Ty::NUMBER,
            J::String(_) => Ty::STRING,
            J::Array(_) => Ty::LIST,
            J::Object(_) => Ty::MAP,
        }
    }

    fn of_literal(l: &LiteralValue) -> Ty {
        match l {
            LiteralValue::Boolean(_) => Ty::BOOL,
            LiteralValue::Bytes(_) => Ty::BYTES,
            LiteralValue::Double(_) => Ty::DOUBLE,
            LiteralValue::Int(_) => Ty::INT,
            LiteralValue::Null => Ty::NULL,
            LiteralValue::String(_) => Ty::STRING,
            LiteralValue::UInt(_) => Ty::UINT,
        }
    }

    fn kind_name(self) -> &'static str {
        match self {
            Ty::BOOL => "bool",
            Ty::INT => "int",
            Ty::UINT => "uint",
            Ty::DOUBLE => "double",
            Ty::STRING => "string",
            Ty::BYTES => "bytes",
            Ty::LIST => "list",
            Ty::MAP => "map",
            Ty::NULL => "null",
            Ty::TIMESTAMP => "timestamp",
            Ty::DURATION => "duration",
            Ty::TYPE => "type",
            _ => "value",
        }
    }
}

impl fmt::Display for Ty {
    /// `int`, `string or int`, `number`, `any type`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Ty::DYN => f.write_str("any type"),
            Ty::NUMBER => f.write_str("number"),
            Ty::NONE => f.write_str("nothing"),
            t => {
                let names: Vec<&str> = t.kinds().map(Ty::kind_name).collect();
                f.write_str(&names.join(" or "))
            }
        }
    }
}

impl fmt::Debug for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ty({self})")
    }
}

/// `a string`, `an int`, `a list` — for sentences.
pub(crate) fn a(t: Ty) -> String {
    let s = t.to_string();
    let article = match s.as_bytes().first() {
        Some(b'a' | b'e' | b'i' | b'o' | b'u') => "an",
        _ => "a",
    };
    if t == Ty::NULL {
        s
    } else {
        format!("{article} {s}")
    }
}

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
        out: Analysis::default(),
        reported: BTreeSet::new(),
    };
    let ty = w.infer(program.expression());
    w.out.ty = Some(ty);
    w.out
}

struct Walker<'a> {
    var: &'a dyn Fn(&str) -> Option<Ty>,
    candidates: &'a [&'a str],
    /// Comprehension variables in scope, innermost last.
    scope: Vec<(String, Ty)>,
    out: Analysis,
    /// Names already reported, so that `priorty == 'a' || priorty == 'b'` reports one problem.
    reported: BTreeSet<String>,
}

impl Walker<'_> {
    fn problem(&mut self, key: impl Into<String>, message: String) {
        if self.reported.insert(key.into()) {
            self.out.problems.push(message);
        }
    }

    /// The static type of `e`. Long because it is one match over CEL's expression kinds, each
    /// arm short; the operators, the largest kind, have their own function below.
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
            Expr::Map(map) => {
                for entry in &map.entries {
                    match &entry.expr {
                        EntryExpr::MapEntry(m) => {
                            let k = self.infer(&m.key);
                            if !k.meets(Ty::STRING.or(Ty::INT).or(Ty::UINT).or(Ty::BOOL)) {
                                self.problem(
                                    format!("key {}", show(&m.key)),
                                    format!(
                                        "`{}` cannot be a map key: keys are strings, ints, uints or bools, not {}",
                                        show(&m.key),
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
            Expr::Struct(s) => {
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
            Expr::Ident(name) => self.ident(name),
            Expr::Select(sel) => {
                let operand = self.infer(&sel.operand);
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
                    self.problem(
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
            Expr::Comprehension(c) => {
                let range = self.infer(&c.iter_range);
                if !range.meets(Ty::LIST.or(Ty::MAP)) {
                    self.problem(
                        format!("range {}", show(&c.iter_range)),
                        format!(
                            "`{}` is {}: only lists and maps can be looped over (`exists`, `all`, `map`, `filter`)",
                            show(&c.iter_range),
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
            Expr::Call(call) => {
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
                    self.method(func, target, recv, &call.args, &args)
                } else if is_operator(func) {
                    let args: Vec<Ty> = call.args.iter().map(|x| self.infer(x)).collect();
                    self.operator(func, &call.args, &args)
                } else {
                    let args: Vec<Ty> = call.args.iter().map(|x| self.infer(x)).collect();
                    self.global(func, &call.args, &args)
                }
            }
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
            self.out.reads.insert(name.to_string());
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
        self.problem(
            format!("var {name}"),
            format!("unknown variable `{name}`{hint}"),
        );
        Ty::DYN
    }

    fn unknown_function(&mut self, name: &str, method: bool) {
        let hint = functions::alias(name)
            .map(str::to_string)
            .or_else(|| suggest(name, functions::SUGGESTIBLE.iter().copied()))
            .map(|s| format!(": did you mean `{s}`?"))
            .unwrap_or_else(|| ": see the functions listed in docs/rules.md".into());
        let what = if method { "method" } else { "function" };
        self.problem(
            format!("fn {name}"),
            format!("unknown {what} `{name}`{hint}"),
        );
    }

    fn method(
        &mut self,
        func: &str,
        target: &IdedExpr,
        recv: Ty,
        arg_exprs: &[IdedExpr],
        args: &[Ty],
    ) -> Ty {
        if !functions::is_function(func) {
            self.unknown_function(func, true);
            return Ty::DYN;
        }
        if func == "matches" {
            self.note_pattern(arg_exprs.first());
        }
        let Some(sig) = method_signature(func) else {
            return Ty::DYN;
        };
        let t = show(target);
        if !recv.meets(sig.receiver) {
            let hint = match func {
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
                _ if sig.receiver == Ty::STRING => {
                    format!(": turn it into text first: `string({t}).{func}(…)`")
                }
                _ => String::new(),
            };
            self.problem(
                format!("method {t}.{func}"),
                format!(
                    "no such overload for {recv}.{func}({}): `{t}` is {}, and `{func}` works on {}{hint}",
                    args.iter().map(Ty::to_string).collect::<Vec<_>>().join(", "),
                    a(recv),
                    a(sig.receiver)
                ),
            );
        }
        self.check_args(func, arg_exprs, args, sig.args);
        if recv.meets(Ty::TIMESTAMP) && func.starts_with("get") {
            self.check_zone(func, target, recv, arg_exprs);
        }
        sig.result
    }

    /// A literal time zone must be one cel can read; a timestamp's hour, day, month or year
    /// read without one is UTC's, which is seldom what an office means by "after hours".
    fn check_zone(&mut self, func: &str, target: &IdedExpr, recv: Ty, arg_exprs: &[IdedExpr]) {
        let t = show(target);
        match arg_exprs.first().map(|a| &a.expr) {
            Some(Expr::Literal(LiteralValue::String(zone))) => {
                if let Some(problem) = zones::zone_problem(zone.inner()) {
                    self.problem(
                        format!("zone {}", zone.inner()),
                        format!("`{t}.{func}('{}')`: {problem}", zone.inner()),
                    );
                }
            }
            None if ZONED.contains(&func) && recv == Ty::TIMESTAMP => {
                let key = format!("utc {t}.{func}");
                if self.reported.insert(key) {
                    self.out.warnings.push(format!(
                        "`{t}.{func}()` counts in UTC, not in your office's time zone: give the \
                         zone, e.g. `{t}.{func}('America/Chicago')`"
                    ));
                }
            }
            _ => {}
        }
    }

    fn global(&mut self, func: &str, arg_exprs: &[IdedExpr], args: &[Ty]) -> Ty {
        if !functions::is_function(func) {
            self.unknown_function(func, false);
            return Ty::DYN;
        }
        match (func, args) {
            ("size", [x]) => {
                if !x.meets(Ty::STRING.or(Ty::BYTES).or(Ty::LIST).or(Ty::MAP)) {
                    self.problem(
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
                self.note_pattern(arg_exprs.get(1));
                self.check_args(func, &arg_exprs[1..], &args[1..], &[Ty::STRING]);
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

    /// A literal regular expression is compiled, and so checked, when the rules are loaded
    /// rather than on every request.
    fn note_pattern(&mut self, pattern: Option<&IdedExpr>) {
        if let Some(IdedExpr {
            expr: Expr::Literal(LiteralValue::String(p)),
            ..
        }) = pattern
        {
            self.out.patterns.insert(p.inner().to_string());
        }
    }

    fn check_args(&mut self, func: &str, exprs: &[IdedExpr], args: &[Ty], want: &[Ty]) {
        for ((e, got), want) in exprs.iter().zip(args).zip(want) {
            if !got.meets(*want) {
                let hint = if *want == Ty::STRING {
                    format!(": turn it into text with `string({})`", show(e))
                } else {
                    String::new()
                };
                self.problem(
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

    /// The type of an operator's result, or a problem. Long because it is one table-like match
    /// over CEL's operators, one short arm each.
    fn operator(&mut self, op: &str, exprs: &[IdedExpr], args: &[Ty]) -> Ty {
        match (op, args) {
            ("_&&_" | "_||_", [l, r]) => {
                for (e, t) in exprs.iter().zip([l, r]) {
                    self.want_bool(e, *t, &format!("`{}`", symbol(op)));
                }
                Ty::BOOL
            }
            ("!_", [x]) => {
                self.want_bool(&exprs[0], *x, "`!`");
                Ty::BOOL
            }
            ("@not_strictly_false", _) => Ty::BOOL,
            ("_?_:_", [c, t, f]) => {
                self.want_bool(&exprs[0], *c, "the condition of `? :`");
                t.or(*f)
            }
            ("_==_" | "_!=_", [l, r]) => {
                if !comparable_for_equality(*l, *r) {
                    let (le, re) = (show(&exprs[0]), show(&exprs[1]));
                    let hint = if l.within(Ty::LIST) && r.within(Ty::STRING) {
                        format!(": to test for an item, write `{re} in {le}`")
                    } else if r.within(Ty::LIST) && l.within(Ty::STRING) {
                        format!(": to test for an item, write `{le} in {re}`")
                    } else if *l == Ty::NULL || *r == Ty::NULL {
                        ": variables left empty hold \"\" (an empty string), never null: compare with ''"
                            .into()
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
                    self.problem(
                        format!("eq {le} {re}"),
                        format!(
                            "`{le} {} {re}` is {verdict}: {} is never equal to {}{hint}",
                            symbol(op),
                            a(*l),
                            a(*r)
                        ),
                    );
                }
                Ty::BOOL
            }
            ("@in", [_, r]) => {
                if !r.meets(Ty::LIST.or(Ty::MAP)) {
                    let (le, re) = (show(&exprs[0]), show(&exprs[1]));
                    let hint = if r.meets(Ty::STRING) {
                        format!(": to look for text inside text, write `{re}.contains({le})`")
                    } else {
                        String::new()
                    };
                    self.problem(
                        format!("in {re}"),
                        format!(
                            "no such overload for {} in {r}: `in` looks in a list or a map, but `{re}` is {}{hint}",
                            args[0],
                            a(*r)
                        ),
                    );
                }
                Ty::BOOL
            }
            ("_[_]" | "_[?_]", [l, _]) => {
                if !l.meets(Ty::LIST.or(Ty::MAP).or(Ty::OTHER)) {
                    let le = show(&exprs[0]);
                    let hint = if l.meets(Ty::STRING) {
                        format!(
                            ": for part of a string use `{le}.substring(…)` or `{le}.charAt(…)`"
                        )
                    } else {
                        String::new()
                    };
                    self.problem(
                        format!("index {le}"),
                        format!(
                            "`{le}` is {}, which cannot be indexed with `[…]`{hint}",
                            a(*l)
                        ),
                    );
                }
                Ty::DYN
            }
            ("-_", [x]) => {
                if !x.meets(Ty::INT.or(Ty::DOUBLE).or(Ty::DURATION)) {
                    self.problem(
                        format!("neg {}", show(&exprs[0])),
                        format!(
                            "no such overload for -{x}: `{}` is {}, not a number",
                            show(&exprs[0]),
                            a(*x)
                        ),
                    );
                }
                *x
            }
            ("_+_" | "_-_" | "_*_" | "_/_" | "_%_" | "_<_" | "_<=_" | "_>_" | "_>=_", [l, r]) => {
                let mut result = Ty::NONE;
                for lk in l.kinds() {
                    for rk in r.kinds() {
                        if let Some(t) = binary(op, lk, rk) {
                            result = result.or(t);
                        }
                    }
                }
                if result == Ty::NONE {
                    let (le, re) = (show(&exprs[0]), show(&exprs[1]));
                    let numeric = Ty::NUMBER;
                    let hint = if op == "_+_" && (l.meets(Ty::STRING) && r.meets(numeric)) {
                        format!(": to join text and a number, write `{le} + string({re})`")
                    } else if op == "_+_" && (r.meets(Ty::STRING) && l.meets(numeric)) {
                        format!(": to join a number and text, write `string({le}) + {re}`")
                    } else if l.within(numeric) && r.within(numeric) {
                        ": CEL does not mix int and double in arithmetic; convert one side with double(…) or int(…)".into()
                    } else if l.meets(Ty::STRING) && r.meets(numeric) {
                        format!(
                            ": convert the text with `int({le})` or the number with `string({re})`"
                        )
                    } else if r.meets(Ty::STRING) && l.meets(numeric) {
                        format!(
                            ": convert the text with `int({re})` or the number with `string({le})`"
                        )
                    } else {
                        String::new()
                    };
                    self.problem(
                        format!("op {le} {op} {re}"),
                        format!(
                            "no such overload for {l} {} {r} in `{le} {} {re}`{hint}",
                            symbol(op),
                            symbol(op)
                        ),
                    );
                    Ty::DYN
                } else {
                    result
                }
            }
            _ => Ty::DYN,
        }
    }

    fn want_bool(&mut self, e: &IdedExpr, t: Ty, role: &str) {
        if !t.meets(Ty::BOOL) {
            self.problem(
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
}

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

fn is_operator(func: &str) -> bool {
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

/// The candidate `word` most likely stands for: a different case, a known alias, or a close
/// spelling. Shared by the rules' messages and `button-rules`'s command line.
pub fn suggest<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Option<String> {
    let candidates: Vec<&str> = candidates.filter(|c| *c != word).collect();
    if let Some(c) = candidates.iter().find(|c| c.eq_ignore_ascii_case(word)) {
        return Some(c.to_string());
    }
    if let Some(alias) = variable_alias(word)
        && candidates.contains(&alias)
    {
        return Some(alias.to_string());
    }
    let lower = word.to_ascii_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for c in &candidates {
        let cl = c.to_ascii_lowercase();
        let distance = strsim::damerau_levenshtein(&lower, &cl);
        let close = distance <= (lower.chars().count() / 3).max(1);
        let jw = strsim::jaro_winkler(&lower, &cl);
        if close || jw >= 0.88 {
            let score = jw - distance as f64 * 0.01;
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, c));
            }
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// What a person may call a built-in variable.
fn variable_alias(word: &str) -> Option<&'static str> {
    Some(match word.to_ascii_lowercase().as_str() {
        "status" | "state" => "ticketStatus",
        "tickettype" | "kind" => "ticketType",
        "source" | "origin" => "ticketSource",
        "subject" | "summary" | "heading" => "title",
        "body" | "description" | "text" | "details" | "msg" => "message",
        "user" | "username" | "fullname" | "contact" | "requester" | "requestor" => "name",
        "tech" | "technician" | "owner" | "agent" | "resource" | "assignedto" => "assignee",
        "selection" | "choices" | "choice" | "options" | "checkboxes" | "answers" => "selections",
        "date" | "created" | "opened" | "openedat" | "opendate" | "now" | "time" => "openDate",
        "mail" | "emailaddress" | "from" | "sender" => "email",
        "host" | "computer" | "computername" | "device" | "machine" | "pc" => "hostname",
        "ipaddress" | "address" => "ip",
        "macaddress" => "mac",
        "board" | "team" | "group" => "queue",
        "urgent" | "severity" | "importance" => "priority",
        _ => return None,
    })
}
