//! Reading a rules document: JSON, its shape, and every static check, all problems at once.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::check::{self, Ty, a};
use super::functions::{self, Regexes};
use super::{Compute, Expression, Rule, Rules, RulesError, Target};
use crate::context::{self, Access, Lookup};
use crate::wording::{capitalised, json_kind};

const TOP_KEYS: [&str; 4] = ["defaults", "let", "rules", "selections"];
const RULE_KEYS: [&str; 5] = ["when", "set", "compute", "reject", "stop"];

/// Words CEL reserves, which cannot name a `let` variable.
const RESERVED: [&str; 21] = [
    "as",
    "break",
    "const",
    "continue",
    "else",
    "false",
    "for",
    "function",
    "if",
    "import",
    "in",
    "let",
    "loop",
    "namespace",
    "null",
    "package",
    "return",
    "true",
    "var",
    "void",
    "while",
];

/// Function namespaces: a variable of that name would be shadowed by `strings.quote(...)` etc.
const NAMESPACES: [&str; 4] = ["strings", "optional", "math", "base64"];

/// Parse and check `text`; every problem found, each a line naming where it is, and the
/// warnings found on the way.
pub(super) fn parse(text: &str) -> Result<Rules, RulesError> {
    let only = |problem: String| RulesError {
        problems: vec![problem],
        warnings: Vec::new(),
    };
    let (doc, duplicates) = read_json(text).map_err(only)?;
    let mut p = Problems::default();
    for path in duplicates {
        let (parent, key) = path.rsplit_once('\u{0}').unwrap_or(("", &path));
        let at = if parent.is_empty() {
            "the document".to_string()
        } else {
            parent.to_string()
        };
        p.push(format!(
            "{at}: key `{key}` appears more than once: JSON keeps only the last one, so remove or merge the others"
        ));
    }
    let Value::Object(top) = doc else {
        return Err(only(format!(
            "the rules document must be a JSON object such as {{\"rules\": [...]}}, not {}",
            json_kind(&doc)
        )));
    };
    for key in top.keys() {
        if !TOP_KEYS.contains(&key.as_str()) {
            p.push(format!(
                "the document: unknown key `{key}`{}",
                did_you_mean(
                    key,
                    TOP_KEYS.iter().copied(),
                    "; the keys are `defaults`, `let` and `rules`, and `selections` for the help page's check boxes"
                )
            ));
        }
    }

    // `let` is read first, as the rest refers to its variables; problems are listed in the
    // order of the document.
    let mut let_problems = Problems::default();
    let lets = read_lets(top.get("let"), &mut let_problems);
    let vars = Vars::new(&lets);
    let defaults = read_defaults(top.get("defaults"), &vars, &mut p);
    p.0.append(&mut let_problems.0);
    let selections = read_selections(top.get("selections"), &mut p);
    let mut regexes = Regexes::default();
    let rules = match top.get("rules") {
        None | Some(Value::Null) => Vec::new(),
        // a rule that cannot be read is a problem, so on success every index has its rule
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| read_rule(i, item, &vars, &mut regexes, &mut p))
            .collect(),
        Some(other) => {
            p.push(format!(
                "rules: must be an array of rules such as [{{\"when\": \"…\", \"set\": {{…}}}}], not {}",
                json_kind(other)
            ));
            Vec::new()
        }
    };
    if !p.0.is_empty() {
        return Err(RulesError {
            problems: p.0,
            warnings: p.1,
        });
    }

    let mut reads = BTreeSet::new();
    for rule in &rules {
        for e in rule.expressions() {
            reads.extend(e.reads.iter().cloned());
        }
    }
    let mut warnings = p.1;
    warnings.extend(rule_warnings(&rules, &lets, &reads));
    Ok(Rules {
        defaults,
        lets,
        selections,
        rules,
        reads: reads.into_iter().collect(),
        regexes: Arc::new(regexes),
        warnings,
    })
}

/// The problems found, and the warnings: what is allowed but probably not meant.
#[derive(Default)]
struct Problems(Vec<String>, Vec<String>);

impl Problems {
    fn push(&mut self, s: String) {
        self.0.push(s);
    }

    fn warn(&mut self, s: String) {
        self.1.push(s);
    }
}

/// The variables a document knows, and their types.
struct Vars<'a> {
    lets: &'a BTreeMap<String, Value>,
    names: Vec<&'a str>,
}

impl<'a> Vars<'a> {
    fn new(lets: &'a BTreeMap<String, Value>) -> Self {
        let mut names: Vec<&str> = context::READ_WRITE
            .iter()
            .chain(context::READ_ONLY.iter())
            .copied()
            .collect();
        names.extend(lets.keys().map(String::as_str));
        Vars { lets, names }
    }

    fn ty(&self, name: &str) -> Option<Ty> {
        match name {
            "selections" => Some(Ty::LIST),
            n if Lookup::from_variable(n).is_some() => Some(Ty::NAME_OR_ID),
            n if context::access(n).is_some() => Some(Ty::STRING),
            n => self.lets.get(n).map(let_ty),
        }
    }

    fn writable(&self) -> impl Iterator<Item = &str> {
        context::READ_WRITE
            .iter()
            .copied()
            .chain(self.lets.keys().map(String::as_str))
    }

    /// What writing to `name` means, or why it cannot be written.
    fn target(&self, name: &str) -> Result<Target, String> {
        if let Some(l) = Lookup::from_variable(name) {
            return Ok(Target::Lookup(l));
        }
        match context::access(name) {
            Some(Access::ReadWrite) => return Ok(Target::Text),
            Some(Access::ReadOnly) => {
                return Err(format!(
                    "`{name}` is read-only: rules can read it but not change it"
                ));
            }
            None => {}
        }
        if let Some(init) = self.lets.get(name) {
            return Ok(Target::Let(let_ty(init)));
        }
        Err(format!(
            "unknown variable `{name}`{}",
            did_you_mean(
                name,
                self.writable(),
                &format!(
                    "; to keep a value of your own, declare it in `let` first, e.g. \"let\": {{\"{name}\": \"\"}}"
                ),
            )
        ))
    }
}

fn let_ty(init: &Value) -> Ty {
    match init {
        // a null start says nothing about what the variable will hold
        Value::Null => Ty::DYN,
        v => Ty::of_json(v),
    }
}

fn read_lets(v: Option<&Value>, p: &mut Problems) -> BTreeMap<String, Value> {
    let mut lets = BTreeMap::new();
    let map = match v {
        None | Some(Value::Null) => return lets,
        Some(Value::Object(m)) => m,
        Some(other) => {
            p.push(format!(
                "let: must be an object of variable names and initial values such as {{\"impact\": 2}}, not {}",
                json_kind(other)
            ));
            return lets;
        }
    };
    for (name, init) in map {
        let at = format!("let.{name}");
        if let Some(access) = context::access(name) {
            let hint = match access {
                Access::ReadWrite => "; rules can already write it, and `defaults` gives it a value when the request leaves it empty".to_string(),
                Access::ReadOnly => "; it describes the request and rules can read it".to_string(),
            };
            p.push(format!(
                "{at}: `{name}` is a built-in variable, so `let` cannot declare it{hint}; pick another name for a variable of your own"
            ));
        } else if !is_identifier(name) {
            p.push(format!(
                "{at}: `{name}` is not a valid name: use letters, digits and `_`, starting with a letter (e.g. `{}`)",
                to_identifier(name)
            ));
        } else if RESERVED.contains(&name.as_str()) || NAMESPACES.contains(&name.as_str()) {
            p.push(format!(
                "{at}: `{name}` is reserved in CEL: pick another name, e.g. `my{}`",
                capitalised(name)
            ));
        } else if functions::env().types().find_type(name).is_some() {
            p.push(format!(
                "{at}: `{name}` is the name of a CEL type: pick another name, e.g. `my{}`",
                capitalised(name)
            ));
        } else {
            lets.insert(name.clone(), init.clone());
        }
    }
    lets
}

/// The check boxes the help page offers: what the button sends in `selections`.
fn read_selections(v: Option<&Value>, p: &mut Problems) -> Vec<String> {
    let items = match v {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            p.push(format!(
                "selections: must be a list of the check boxes the help page shows, such as [\"Network\", \"Printer\", \"This is an emergency\"], not {}",
                json_kind(other)
            ));
            return Vec::new();
        }
    };
    let mut selections: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("selections[{i}]");
        match item {
            Value::String(s) if s.trim().is_empty() => p.push(format!(
                "{at}: is empty: give the text of the check box, or remove it from the list"
            )),
            Value::String(s) if s.chars().any(char::is_control) => p.push(format!(
                "{at}: holds a control character (a line break or a tab): a check box is one line of text"
            )),
            Value::String(s) if selections.iter().any(|x| x == s.trim()) => p.push(format!(
                "{at}: `{}` is in the list twice: remove one",
                s.trim()
            )),
            Value::String(s) => selections.push(s.trim().to_string()),
            other => p.push(format!(
                "{at}: must be the text of a check box (a string), not {}",
                json_kind(other)
            )),
        }
    }
    selections
}

fn read_defaults(v: Option<&Value>, vars: &Vars, p: &mut Problems) -> BTreeMap<String, Value> {
    let mut defaults = BTreeMap::new();
    let map = match v {
        None | Some(Value::Null) => return defaults,
        Some(Value::Object(m)) => m,
        Some(other) => {
            p.push(format!(
                "defaults: must be an object such as {{\"priority\": \"Medium\"}}, not {}",
                json_kind(other)
            ));
            return defaults;
        }
    };
    for (name, value) in map {
        let at = format!("defaults.{name}");
        match context::access(name) {
            Some(Access::ReadOnly) => {
                p.push(format!(
                    "{at}: `{name}` is read-only: it describes the request, and `defaults` only fills the read/write variables ({})",
                    context::READ_WRITE.join(", ")
                ));
                continue;
            }
            None if vars.lets.contains_key(name) => {
                p.push(format!(
                    "{at}: `{name}` is a `let` variable: give it its starting value in `let`, not in `defaults`"
                ));
                continue;
            }
            None => {
                p.push(format!(
                    "{at}: unknown variable `{name}`{}",
                    did_you_mean(
                        name,
                        context::READ_WRITE.iter().copied(),
                        &format!(
                            "; `defaults` fills the read/write variables: {}",
                            context::READ_WRITE.join(", ")
                        )
                    )
                ));
                continue;
            }
            Some(Access::ReadWrite) => {}
        }
        let problem = match Lookup::from_variable(name) {
            Some(l) => match value {
                Value::String(s) if s.trim().is_empty() => Some(format!(
                    "is empty: give the {} a name as BMS shows it, or leave `{name}` out of `defaults`",
                    l.label()
                )),
                v => lookup_value_problem(name, l, v),
            },
            None => (!value.is_string())
                .then(|| format!("must be a string (text), not {}", json_kind(value))),
        };
        match problem {
            Some(problem) => p.push(format!("{at}: {problem}")),
            None => {
                defaults.insert(name.clone(), value.clone());
            }
        }
    }
    defaults
}

/// Why `v` cannot be given to a lookup variable, if it cannot.
fn lookup_value_problem(name: &str, l: Lookup, v: &Value) -> Option<String> {
    let takes = format!(
        "`{name}` takes the {} as a name (string, e.g. \"{}\") or as an id (positive integer)",
        l.label(),
        example(l)
    );
    match v {
        Value::String(_) => None,
        Value::Number(n) if n.as_i64().is_some_and(|i| i > 0) => None,
        Value::Number(n) if n.as_u64().is_some() && n.as_i64().is_none() => {
            Some(format!("{n} is too large for an id; {takes}"))
        }
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0 && f > 0.0) => {
            Some(format!(
                "{n} has a decimal point: ids are integers, so write {}; {takes}",
                n.as_f64().unwrap_or_default() as i64
            ))
        }
        Value::Number(n) if n.is_f64() => Some(format!(
            "{n} is not a whole number: ids are integers; {takes}"
        )),
        Value::Number(n) => Some(format!("{n} is not a valid id: ids are positive; {takes}")),
        Value::Null => Some(format!("is null; {takes}; to leave it empty use \"\"")),
        other => Some(format!("is {}; {takes}", json_kind(other))),
    }
}

fn example(l: Lookup) -> &'static str {
    match l {
        Lookup::Status => "New",
        Lookup::Priority => "High",
        Lookup::Queue => "Service Desk",
        Lookup::Assignee => "Jane Tech",
        Lookup::TicketType => "Service Request",
        Lookup::TicketSource => "Other",
    }
}

/// One rule: every key checked and every problem kept, each with its place. Long because it is
/// one match over the rule's keys (`when`, `set`, `compute`, `reject`, `stop`), each arm a few
/// lines of its own checks; split up, the arms would share the rule's state through a struct
/// for no gain in clarity.
fn read_rule(
    i: usize,
    item: &Value,
    vars: &Vars,
    regexes: &mut Regexes,
    p: &mut Problems,
) -> Option<Rule> {
    let Value::Object(map) = item else {
        p.push(format!(
            "rules[{i}]: must be an object such as {{\"when\": \"…\", \"set\": {{…}}}}, not {}",
            json_kind(item)
        ));
        return None;
    };
    let when_text = map.get("when").and_then(Value::as_str);
    let at = rule_location(i, when_text);
    let before = p.0.len();

    for key in map.keys() {
        if !RULE_KEYS.contains(&key.as_str()) {
            p.push(format!(
                "{at}: unknown key `{key}`{}",
                did_you_mean(
                    key,
                    RULE_KEYS.iter().copied(),
                    "; a rule has `when`, `set`, `compute`, `reject` and `stop`"
                )
            ));
        }
    }

    let when = match map.get("when") {
        None => None,
        Some(Value::String(s)) if s.trim().is_empty() => {
            p.push(format!(
                "rules[{i}].when: is empty: leave `when` out for a rule that always applies"
            ));
            None
        }
        Some(Value::String(s)) => {
            let loc = format!("rules[{i}].when `{}`", short(s));
            compile(s, &loc, vars, regexes, p).inspect(|e| {
                if let Some(t) = e.ty
                    && !t.meets(Ty::BOOL)
                {
                    p.push(format!(
                        "{loc}: `when` must be a condition that is true or false, but this is {}{}",
                        a(t),
                        check::compare_hint(e.program.expression(), t)
                    ));
                }
            })
        }
        Some(other) => {
            p.push(format!(
                "rules[{i}].when: must be a string holding a CEL condition such as \"priority == 'High'\", not {}",
                json_kind(other)
            ));
            None
        }
    };

    let mut set = Vec::new();
    match map.get("set") {
        None => {}
        Some(Value::Object(m)) => {
            for (name, value) in m {
                let loc = format!("{at}: set.{name}");
                match vars.target(name) {
                    Err(problem) => p.push(format!("{loc}: {problem}")),
                    Ok(target) => match set_value_problem(name, target, value, vars) {
                        Some(problem) => p.push(format!("{loc}: {problem}")),
                        None => {
                            if let Some(warning) = set_looks_like_expression(name, value, vars) {
                                p.warn(format!("{loc}: {warning}"));
                            }
                            set.push((name.clone(), value.clone()));
                        }
                    },
                }
            }
        }
        Some(other) => p.push(format!(
            "{at}: `set` must be an object of variables and values such as {{\"priority\": \"High\"}}, not {}",
            json_kind(other)
        )),
    }

    let mut compute = Vec::new();
    match map.get("compute") {
        None => {}
        Some(Value::Object(m)) => {
            for (name, value) in m {
                let target = vars.target(name);
                if let Err(problem) = &target {
                    p.push(format!("{at}: compute.{name}: {problem}"));
                }
                if map
                    .get("set")
                    .and_then(Value::as_object)
                    .is_some_and(|s| s.contains_key(name))
                {
                    p.push(format!(
                        "{at}: `{name}` is both in `set` and in `compute`: a rule assigns a variable once, so keep one of them"
                    ));
                }
                let Value::String(src) = value else {
                    p.push(format!(
                        "{at}: compute.{name}: must be a string holding a CEL expression such as \"'[VIP] ' + title\", not {}; to assign a fixed value, use `set`",
                        json_kind(value)
                    ));
                    continue;
                };
                if src.trim().is_empty() {
                    p.push(format!(
                        "{at}: compute.{name}: is empty: write a CEL expression, or use `set` for a fixed value"
                    ));
                    continue;
                }
                let loc = format!("rules[{i}].compute.{name} `{}`", short(src));
                let Some(expr) = compile(src, &loc, vars, regexes, p) else {
                    continue;
                };
                let Ok(target) = target else { continue };
                if let Some(t) = expr.ty
                    && let Some(problem) = compute_type_problem(name, target, t)
                {
                    p.push(format!("{loc}: {problem}"));
                }
                compute.push(Compute {
                    name: name.clone(),
                    expr,
                    target,
                });
            }
        }
        Some(other) => p.push(format!(
            "{at}: `compute` must be an object of variables and CEL expressions such as {{\"title\": \"'[VIP] ' + title\"}}, not {}",
            json_kind(other)
        )),
    }

    let reject = match map.get("reject") {
        None => None,
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::String(_)) => {
            p.push(format!(
                "{at}: `reject` is empty: give the message the person pressing the button should see, e.g. \"Ticket submission is disabled; call us on 555-0100\""
            ));
            None
        }
        Some(other) => {
            p.push(format!(
                "{at}: `reject` must be the message (a non-empty string) the person pressing the button sees, not {}",
                json_kind(other)
            ));
            None
        }
    };

    let stop = match map.get("stop") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            p.push(format!(
                "{at}: `stop` must be true or false, not {}{}",
                json_kind(other),
                if other.as_str().is_some_and(|s| s == "true" || s == "false") {
                    " (write it without quotes)"
                } else {
                    ""
                }
            ));
            false
        }
    };

    let has_set = map
        .get("set")
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty());
    let has_compute = map
        .get("compute")
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty());
    if !has_set
        && !has_compute
        && !map.contains_key("reject")
        && !map.get("stop").is_some_and(|s| s == &Value::Bool(true))
        && p.0.len() == before
    {
        p.push(format!(
            "{at}: does nothing: give it `set`, `compute`, `reject` or \"stop\": true"
        ));
    }

    Some(Rule {
        when,
        set,
        compute,
        reject,
        stop,
    })
}

/// Why a literal `set` value does not fit its variable.
fn set_value_problem(name: &str, target: Target, v: &Value, vars: &Vars) -> Option<String> {
    match target {
        Target::Lookup(l) => lookup_value_problem(name, l, v),
        Target::Text => (!v.is_string()).then(|| {
            format!(
                "`{name}` is text, so the value must be a string, not {}",
                json_kind(v)
            )
        }),
        Target::Let(t) => (!Ty::of_json(v).meets(t)).then(|| {
            format!(
                "`{name}` was declared in `let` as {} ({}), so it cannot be set to {}",
                a(t),
                vars.lets
                    .get(name)
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                json_kind(v)
            )
        }),
    }
}

/// A `set` value that reads like a CEL expression: `set` assigns its text as it is, so
/// `"'[VIP] ' + title"` becomes that very title. Quotes at either end, a `+` beside a quote or
/// a variable, or a variable's bare name give it away.
fn set_looks_like_expression(name: &str, v: &Value, vars: &Vars) -> Option<String> {
    let text = v.as_str()?.trim();
    let quoted = |s: &str| {
        let s = s.trim();
        s.starts_with(['\'', '"']) || s.ends_with(['\'', '"'])
    };
    let is_variable = |s: &str| vars.names.contains(&s.trim());
    let looks = quoted(text)
        || is_variable(text)
        || (text.contains('+')
            && text
                .split('+')
                .any(|part| quoted(part) || is_variable(part)));
    looks.then(|| {
        format!(
            "`{}` is set as this very text, not worked out: did you mean `compute`? \
             (\"compute\": {{\"{name}\": \"{}\"}})",
            short(text),
            short(text).replace('"', "\\\"")
        )
    })
}

/// Why an expression of type `t` certainly cannot be assigned to `name`.
fn compute_type_problem(name: &str, target: Target, t: Ty) -> Option<String> {
    match target {
        Target::Lookup(l) => (!t.meets(Ty::STRING.or(Ty::INT).or(Ty::UINT))).then(|| {
            format!(
                "gives {}, but `{name}` takes the {} as a name (string) or an id (int)",
                a(t),
                l.label()
            )
        }),
        Target::Text => (!t.meets(Ty::STRING)).then(|| {
            format!(
                "gives {}, but `{name}` is text: wrap the expression in string(…)",
                a(t)
            )
        }),
        Target::Let(want) => (!t.meets(want)).then(|| {
            format!(
                "gives {}, but `{name}` was declared in `let` as {}",
                a(t),
                a(want)
            )
        }),
    }
}

/// CEL's parser and evaluator recurse once per level of nesting, and a thread's stack runs
/// out after a few dozen levels (a dozen brackets in the parser, in a debug build on a 2 MB
/// thread). Deeper expressions are refused here, with a problem, rather than crash the
/// function on every request; no readable rule comes near either limit.
const MAX_BRACKETS: usize = 8;
const MAX_DEPTH: usize = 32;

/// How deep `(`, `[` and `{` nest in `src`, outside string literals.
fn bracket_depth(src: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut chars = src.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[' | '{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            (None, _) => {}
        }
    }
    deepest
}

/// The depth of the parsed expression, walked without recursion.
fn ast_depth(root: &cel::common::ast::IdedExpr) -> usize {
    use cel::common::ast::{EntryExpr, Expr};
    let mut deepest = 0;
    let mut todo = vec![(root, 1)];
    while let Some((e, d)) = todo.pop() {
        deepest = deepest.max(d);
        let mut push = |child| todo.push((child, d + 1));
        match &e.expr {
            Expr::List(l) => l.elements.iter().for_each(push),
            Expr::Map(m) => m.entries.iter().for_each(|en| match &en.expr {
                EntryExpr::MapEntry(me) => {
                    push(&me.key);
                    push(&me.value);
                }
                EntryExpr::StructField(f) => push(&f.value),
            }),
            Expr::Struct(st) => st.entries.iter().for_each(|en| match &en.expr {
                EntryExpr::MapEntry(me) => {
                    push(&me.key);
                    push(&me.value);
                }
                EntryExpr::StructField(f) => push(&f.value),
            }),
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
    deepest
}

/// Compile `src`, and the literal patterns of its `matches` calls into `regexes`.
fn compile(
    src: &str,
    loc: &str,
    vars: &Vars,
    regexes: &mut Regexes,
    p: &mut Problems,
) -> Option<Expression> {
    let brackets = bracket_depth(src);
    if brackets > MAX_BRACKETS {
        p.push(format!(
            "{loc}: brackets nest {brackets} deep; at most {MAX_BRACKETS} are accepted: split the \
             expression over several rules (a `let` variable can carry a part)"
        ));
        return None;
    }
    let program = match functions::env().compile(src) {
        Ok(program) => program,
        Err(errors) => {
            for e in errors.errors.iter().take(2) {
                p.push(format!("{loc}: {}", syntax_problem(src, e.pos, &e.msg)));
            }
            return None;
        }
    };
    let depth = ast_depth(program.expression());
    if depth > MAX_DEPTH {
        p.push(format!(
            "{loc}: the expression nests {depth} operations deep; at most {MAX_DEPTH} are \
             accepted: split it over several rules (a `let` variable can carry a part)"
        ));
        return None;
    }
    let mut analysis = check::analyze(&program, &|n| vars.ty(n), &vars.names);
    for pattern in &analysis.patterns {
        if let Err(why) = regexes.compile(pattern) {
            analysis.problems.push(format!(
                "`{pattern}` is not a valid regular expression: {why}"
            ));
        }
    }
    for problem in &analysis.problems {
        p.push(format!("{loc}: {problem}"));
    }
    for warning in &analysis.warnings {
        p.warn(format!("{loc}: {warning}"));
    }
    if !analysis.problems.is_empty() {
        return None;
    }
    Some(Expression {
        source: src.to_string(),
        program: Arc::new(program),
        reads: analysis.reads.into_iter().collect(),
        ty: analysis.ty,
    })
}

/// A CEL syntax error as a person can act on it.
fn syntax_problem(src: &str, (line, column): (isize, isize), msg: &str) -> String {
    let msg = msg.strip_prefix("Syntax error: ").unwrap_or(msg);
    // ANTLR lists every token it could have taken; that list helps nobody
    let msg = match msg.find(" expecting {") {
        Some(at) => &msg[..at],
        None => msg,
    };
    let at = if src.lines().count() > 1 {
        format!("line {line}, column {}", column)
    } else {
        format!("column {column}")
    };
    let mut hint = String::new();
    let words: Vec<&str> = src
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .collect();
    if words
        .iter()
        .any(|w| ["and", "or", "not", "AND", "OR", "NOT"].contains(w))
    {
        hint = "; CEL writes `and`, `or` and `not` as `&&`, `||` and `!`".into();
    } else if msg.contains("'= '") || msg.contains("'='") || has_single_equals(src) {
        hint = "; compare with `==` (a single `=` is not an operator in CEL)".into();
    } else if msg.contains("token recognition error") && src.contains('\\') {
        hint = "; a backslash in a CEL string starts an escape: for a regular expression use a raw string, r'\\d+' (in JSON: \"r'\\\\d+'\")".into();
    } else if msg.contains("token recognition error") && (src.matches('\'').count() % 2 == 1) {
        hint = "; a quoted string is not closed: check the `'` quotes".into();
    } else if msg.contains("<EOF>") {
        hint = "; the expression ends too early".into();
    }
    format!("syntax error at {at}: {msg}{hint}")
}

fn has_single_equals(src: &str) -> bool {
    let b = src.as_bytes();
    (0..b.len()).any(|i| {
        b[i] == b'='
            && !matches!(b.get(i.wrapping_sub(1)), Some(b'=' | b'!' | b'<' | b'>'))
            && b.get(i + 1) != Some(&b'=')
    })
}

fn rule_warnings(
    rules: &[Rule],
    lets: &BTreeMap<String, Value>,
    reads: &BTreeSet<String>,
) -> Vec<String> {
    let mut w = Vec::new();
    let always = |r: &Rule| r.when.as_ref().is_none_or(|e| e.source.trim() == "true");
    for (i, rule) in rules.iter().enumerate() {
        if let Some(e) = &rule.when
            && e.source.trim() == "false"
        {
            w.push(format!(
                "{}: never applies (`when` is `false`)",
                rule_location(i, Some(&e.source))
            ));
        }
        if always(rule) && (rule.stop || rule.reject.is_some()) && i + 1 < rules.len() {
            let what = if rule.reject.is_some() {
                "rejects every ticket"
            } else {
                "always stops"
            };
            w.push(format!(
                "rules[{}] and later can never apply: rules[{i}] {what}, as it has no `when`",
                i + 1
            ));
            break;
        }
    }
    for name in lets.keys() {
        if !reads.contains(name) {
            w.push(format!(
                "let.{name}: no expression reads it, so it has no effect"
            ));
        }
    }
    w
}

/// `rules[3] (when `x`)`, or `rules[3]` for a rule without a `when`.
pub(super) fn rule_location(i: usize, when: Option<&str>) -> String {
    match when {
        Some(w) => format!("rules[{i}] (when `{}`)", short(w)),
        None => format!("rules[{i}]"),
    }
}

/// An expression cut to a length that fits a message line.
pub(super) fn short(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}…")
    } else {
        s
    }
}

fn did_you_mean<'c>(
    word: &str,
    candidates: impl Iterator<Item = &'c str>,
    otherwise: &str,
) -> String {
    match check::suggest(word, candidates) {
        Some(s) => format!(": did you mean `{s}`?"),
        None => otherwise.to_string(),
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn to_identifier(s: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if out.is_empty() && c.is_ascii_digit() {
                out.push('v');
            }
            out.push(if upper { c.to_ascii_uppercase() } else { c });
            upper = false;
        } else {
            upper = !out.is_empty();
        }
    }
    if out.is_empty() {
        "myValue".into()
    } else {
        out
    }
}

/// Parse JSON, noting every key that appears twice in one object (serde_json keeps the last one
/// silently). A duplicate is reported as `path\0key`.
fn read_json(text: &str) -> Result<(Value, Vec<String>), String> {
    if text.trim().is_empty() {
        return Err(
            "the rules document is empty: write {} for no rules, or leave BUTTON_RULES unset"
                .into(),
        );
    }
    let duplicates = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Seed {
        path: String::new(),
        duplicates: &duplicates,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v))
    .map_err(|e| json_problem(text, &e))?;
    Ok((value, duplicates.into_inner()))
}

fn json_problem(text: &str, e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let msg = full.strip_suffix(&suffix).unwrap_or(&full);
    let mut hint = "";
    if msg.contains("trailing comma") {
        hint = ": remove the comma after the last item";
    } else if msg.contains("key must be a string") {
        hint = ": JSON keys need double quotes, e.g. \"when\"";
    } else if msg.contains("expected value") && text.contains('\'') && !text.contains('"') {
        hint = ": JSON strings need double quotes; single quotes belong inside CEL expressions";
    } else if msg.contains("control character") {
        hint = ": write a line break inside a string as \\n";
    } else if msg.contains("EOF while parsing") {
        hint = ": a `}`, `]` or `\"` is missing at the end";
    } else if msg.contains("trailing characters") {
        hint = ": there is more after the end of the document; is a `{` missing at the start, or a `}` extra?";
    }
    let line = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
    let excerpt = if line.trim().is_empty() {
        String::new()
    } else {
        format!(" (near `{}`)", short(line.trim()))
    };
    format!(
        "invalid JSON at line {}, column {}{excerpt}: {msg}{hint}",
        e.line(),
        e.column()
    )
}

struct Seed<'a> {
    path: String,
    duplicates: &'a RefCell<Vec<String>>,
}

impl Seed<'_> {
    fn child(&self, step: &str) -> Self {
        Seed {
            path: format!("{}{step}", self.path),
            duplicates: self.duplicates,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child(&format!("[{}]", items.len())))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let step = if self.path.is_empty() {
                key.clone()
            } else {
                format!(".{key}")
            };
            let value = access.next_value_seed(self.child(&step))?;
            if map.insert(key.clone(), value).is_some() {
                self.duplicates
                    .borrow_mut()
                    .push(format!("{}\u{0}{key}", self.path));
            }
        }
        Ok(Value::Object(map))
    }
}
