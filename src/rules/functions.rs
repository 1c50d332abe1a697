//! The CEL environment rules run in: CEL's standard library plus its `strings` extension, and
//! `matches` with regular expressions compiled when the rules are loaded.
//!
//! `lowerAscii()`, `upperAscii()` and `trim()` come from that extension (cel 0.15 ships them
//! there rather than in the standard library), together with `replace`, `split`, `substring`,
//! `indexOf`, `lastIndexOf`, `charAt`, `join`, `reverse`, `format` and `strings.quote`.
//!
//! CEL's own `matches` compiles its pattern on every call (about 0.1 ms, against a microsecond
//! for a whole simple rule). So the parser renames `x.matches('re')` and `matches(x, 're')`,
//! whose pattern is a literal, to [`MATCHES_COMPILED`]; [`Rules::parse`](super::Rules::parse)
//! compiles each such pattern once into [`Regexes`], and every request's context gets the
//! function that runs them. A pattern that is not a literal (a variable) is rare in rules and
//! could change on every request: those calls stay with CEL's `matches`, compiling each time,
//! rather than filling a cache that would need a bound.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use cel::common::ast::{CallExpr, Expr, LiteralValue};
use cel::common::types::CelString;
use cel::parser::{Macro, MacroExprHelper, ParseError};
use cel::{Env, ExecutionError, FunctionContext, IdedExpr};
use regex::Regex;

use super::budget;

/// What a `matches` call with a literal pattern is renamed to. No rule can write the name (`@`
/// is not allowed in identifiers), and messages show it as `matches` (see [`written_name`]).
const MATCHES_COMPILED: &str = "@matches_compiled";

static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| {
    let mut env = Env::stdlib();
    env.add_extension(cel::extensions::strings)
        .expect("the strings extension declares no overload twice");
    env.add_macro(Macro::receiver("matches", 1, call_compiled_matches))
        .expect("no standard macro is named `matches`");
    env.add_macro(Macro::global("matches", 2, call_compiled_matches))
        .expect("no standard macro is named `matches`");
    Arc::new(env)
});

/// The environment every rules document compiles and runs with; built once per process.
pub(crate) fn env() -> &'static Arc<Env> {
    &ENV
}

/// The name a rule wrote for the function `name` of a parsed expression: `matches` for
/// [`MATCHES_COMPILED`], `replace` for the `replace` that measures its result first, otherwise
/// `name` itself.
pub(crate) fn written_name(name: &str) -> &str {
    match name {
        MATCHES_COMPILED => "matches",
        budget::REPLACE => "replace",
        _ => name,
    }
}

/// Expands a `matches` call whose pattern (its last argument) is a string literal into the
/// same call to [`MATCHES_COMPILED`]; declines any other.
fn call_compiled_matches(
    helper: &mut MacroExprHelper<'_>,
    target: &mut Option<IdedExpr>,
    args: &mut Vec<IdedExpr>,
) -> Result<Option<IdedExpr>, ParseError> {
    let Some(Expr::Literal(LiteralValue::String(_))) = args.last().map(|a| &a.expr) else {
        return Ok(None);
    };
    Ok(Some(helper.next_expr(Expr::Call(CallExpr {
        func_name: MATCHES_COMPILED.to_string(),
        target: target.take().map(Box::new),
        args: std::mem::take(args),
    }))))
}

/// The literal patterns of a document's `matches` calls, each compiled once, by pattern.
#[derive(Debug, Default)]
pub(crate) struct Regexes(HashMap<String, Regex>);

impl Regexes {
    /// Compile `pattern`, unless it already is; why it is not a valid regular expression for
    /// `matches`, if it is not, in the words CEL's `matches` would use at run time.
    pub(crate) fn compile(&mut self, pattern: &str) -> Result<(), String> {
        if !self.0.contains_key(pattern) {
            let regex = Regex::new(pattern).map_err(|e| regex_problem(&e))?;
            self.0.insert(pattern.to_string(), regex);
        }
        Ok(())
    }

    /// The patterns compiled, in order.
    #[cfg(test)]
    pub(crate) fn patterns(&self) -> Vec<&str> {
        let mut patterns: Vec<&str> = self.0.keys().map(String::as_str).collect();
        patterns.sort_unstable();
        patterns
    }

    /// `text.matches(pattern)` / `matches(text, pattern)` for [`MATCHES_COMPILED`]: CEL's
    /// `matches` (the same regex crate, an unanchored search, the same errors), but with the
    /// pattern compiled beforehand.
    fn call(&self, ftx: &FunctionContext) -> Result<cel::Value, ExecutionError> {
        let (text, pattern) = match (&ftx.this, ftx.args.as_slice()) {
            (Some(text), [pattern]) | (None, [text, pattern]) => (text, pattern),
            // the parser only renames calls of these two shapes
            (this, args) => {
                return Err(ExecutionError::invalid_argument_count(
                    2,
                    args.len() + usize::from(this.is_some()),
                ));
            }
        };
        let (Some(text), Some(pattern)) = (
            text.downcast_ref::<CelString>(),
            pattern.downcast_ref::<CelString>(),
        ) else {
            let types = [text, pattern]
                .iter()
                .map(|v| v.get_type().name().to_string())
                .collect();
            return Err(if ftx.this.is_some() {
                ExecutionError::no_such_member_overload("matches", types)
            } else {
                ExecutionError::no_such_overload("matches", types)
            });
        };
        let found = match self.0.get(pattern.inner()) {
            Some(regex) => regex.is_match(text.inner()),
            // `Rules::parse` compiled every literal pattern; were one missing, do as CEL does
            None => Regex::new(pattern.inner())
                .map_err(|e| ExecutionError::FunctionError {
                    function: "matches".to_string(),
                    message: format!("'{}' not a valid regex:\n{e}", pattern.inner()),
                })?
                .is_match(text.inner()),
        };
        Ok(cel::Value::Bool(found))
    }
}

/// Give `ctx` the function [`MATCHES_COMPILED`], running the patterns of `regexes`.
pub(crate) fn add_compiled_matches(ctx: &mut cel::Context, regexes: &Arc<Regexes>) {
    let regexes = Arc::clone(regexes);
    ctx.add_function(MATCHES_COMPILED, move |ftx: &FunctionContext| {
        regexes.call(ftx)
    })
    .expect("the environment declares no overload of that name");
}

/// Whether `name` (`contains`, `strings.quote`, ...) is a function or method of [`env`].
///
/// cel 0.15 does not expose its function table, but [`cel::Context::add_function`] refuses,
/// with `OverloadConflict`, exactly the names the environment declares: that is the probe. The
/// answers are cached, as the same few names come up again and again.
pub(crate) fn is_function(name: &str) -> bool {
    static CACHE: LazyLock<Mutex<HashMap<String, bool>>> = LazyLock::new(Default::default);
    if let Some(known) = CACHE.lock().ok().and_then(|c| c.get(name).copied()) {
        return known;
    }
    let mut probe = cel::Context::with_env(Arc::clone(env()));
    let known = probe.add_function(name, |x: i64| x).is_err();
    if let Ok(mut cache) = CACHE.lock() {
        cache.insert(name.to_string(), known);
    }
    known
}

/// The gist of a regex crate error, as in `unclosed group`: its last line, as the lines before
/// repeat the pattern, which the problem message names anyway.
fn regex_problem(e: &regex::Error) -> String {
    let message = e.to_string();
    message
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(&message)
        .trim()
        .trim_start_matches("error: ")
        .to_string()
}

/// Functions a person is likely to mean, for "did you mean" hints.
pub(crate) const SUGGESTIBLE: &[&str] = &[
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "size",
    "lowerAscii",
    "upperAscii",
    "trim",
    "replace",
    "split",
    "substring",
    "indexOf",
    "lastIndexOf",
    "charAt",
    "join",
    "reverse",
    "format",
    "int",
    "uint",
    "double",
    "string",
    "bool",
    "type",
    "dyn",
    "timestamp",
    "duration",
    "getFullYear",
    "getMonth",
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "getHours",
    "getMinutes",
    "getSeconds",
    "getMilliseconds",
];

/// What people write out of habit from other languages, and the CEL function that does it.
pub(crate) fn alias(name: &str) -> Option<&'static str> {
    Some(match name {
        "toLowerCase" | "toLower" | "lower" | "lowercase" | "toLowerAscii" | "lowerCase" => {
            "lowerAscii"
        }
        "toUpperCase" | "toUpper" | "upper" | "uppercase" | "toUpperAscii" | "upperCase" => {
            "upperAscii"
        }
        "strip" | "trimSpace" | "trimmed" => "trim",
        "includes" | "has" | "hasSubstring" => "contains",
        "startswith" | "hasPrefix" | "beginsWith" => "startsWith",
        "endswith" | "hasSuffix" => "endsWith",
        "len" | "length" | "count" => "size",
        "match" | "test" | "regex" => "matches",
        "str" | "toString" => "string",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_knows_standard_and_extension_functions() {
        for f in [
            "contains",
            "startsWith",
            "size",
            "lowerAscii",
            "upperAscii",
            "trim",
            "matches",
            "int",
            "timestamp",
            "getHours",
            "strings.quote",
        ] {
            assert!(is_function(f), "{f}");
        }
        for f in ["toLowerCase", "lower", "quote", "nonsense"] {
            assert!(!is_function(f), "{f}");
        }
    }

    /// A CEL string literal holding `s`.
    fn literal(s: &str) -> String {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }

    /// Run `src` with `text` and `pattern` as variables, and `regexes` for literal patterns.
    fn run(
        src: &str,
        text: &cel::Value,
        pattern: &str,
        regexes: &Arc<Regexes>,
    ) -> cel::ResolveResult {
        let program = env().compile(src).unwrap();
        let mut ctx = cel::Context::with_env(Arc::clone(env()));
        add_compiled_matches(&mut ctx, regexes);
        ctx.add_variable_from_value("text", text.clone());
        ctx.add_variable_from_value("pattern", pattern.to_string());
        program.execute(&ctx)
    }

    fn called_function(src: &str) -> String {
        match &env().compile(src).unwrap().expression().expr {
            Expr::Call(call) => call.func_name.clone(),
            other => panic!("{src}: {other:?}"),
        }
    }

    #[test]
    fn only_matches_with_a_literal_pattern_is_renamed() {
        for src in [
            "text.matches('a')",
            "matches(text, 'a')",
            "text.matches(r'\\d')",
        ] {
            assert_eq!(called_function(src), MATCHES_COMPILED, "{src}");
        }
        for src in [
            "text.matches(pattern)",
            "matches(text, pattern)",
            "text.matches('a' + pattern)",
            "text.matches(b'a')",
            "text.matches('a', 'b')",
        ] {
            assert_eq!(called_function(src), "matches", "{src}");
        }
        assert_eq!(written_name(MATCHES_COMPILED), "matches");
        assert_eq!(written_name("contains"), "contains");
    }

    /// Every call with a literal pattern gives exactly what CEL's own `matches` gives for the
    /// same pattern in a variable: the same answer, or the same error.
    #[test]
    fn compiled_matches_agree_with_cels_own() {
        let patterns = [
            "dan",
            "^dan@",
            "^Dan",
            "fabrikam[.]com$",
            "^dan@fabrikam[.]com$",
            "^fabrikam",
            "",
            "^$",
            "a|z",
            "(?i)DAN",
            r"\d+",
            r"^\w+@\w+\.com$",
            "é",
            "^.{3}$",
        ];
        let texts = [
            cel::Value::from("dan@fabrikam.com"),
            cel::Value::from("Dan Jump"),
            cel::Value::from(""),
            cel::Value::from("café 42"),
            cel::Value::from("abc"),
            cel::Value::Int(42),
            cel::Value::Null,
            cel::Value::List(Arc::new(vec![cel::Value::from("dan")])),
        ];
        let mut regexes = Regexes::default();
        for p in patterns {
            regexes.compile(p).unwrap();
        }
        let regexes = Arc::new(regexes);
        let mut found = 0;
        for p in patterns {
            let lit = literal(p);
            for text in &texts {
                for (compiled, cels_own) in [
                    (format!("text.matches({lit})"), "text.matches(pattern)"),
                    (format!("matches(text, {lit})"), "matches(text, pattern)"),
                ] {
                    let want = run(cels_own, text, p, &regexes);
                    let got = run(&compiled, text, p, &regexes);
                    assert_eq!(got, want, "{compiled} with text = {text:?}");
                    found += usize::from(got == Ok(cel::Value::Bool(true)));
                }
            }
        }
        assert!(found > 20, "the cases should not all fail: {found}");
    }

    /// The regular expression a call runs is the one compiled beforehand, not its pattern
    /// compiled again.
    #[test]
    fn the_precompiled_regex_is_the_one_run() {
        let mut regexes = Regexes::default();
        regexes
            .0
            .insert("^a$".to_string(), Regex::new("^b$").unwrap());
        let regexes = Arc::new(regexes);
        let b = cel::Value::from("b");
        assert_eq!(
            run("text.matches('^a$')", &b, "", &regexes),
            Ok(true.into())
        );
        assert_eq!(
            run("text.matches(pattern)", &b, "^a$", &regexes),
            Ok(false.into())
        );
        // a pattern missing from the cache is compiled as CEL would, errors included
        let none = Arc::new(Regexes::default());
        assert_eq!(run("text.matches('b')", &b, "", &none), Ok(true.into()));
        assert_eq!(
            run("text.matches('(')", &b, "", &none),
            run("text.matches(pattern)", &b, "(", &none)
        );
    }

    /// The message for an invalid pattern is the one the checker gave when it asked CEL.
    #[test]
    fn invalid_patterns_are_described_as_cel_describes_them() {
        let cels_words = |pattern: &str| {
            let Err(ExecutionError::FunctionError { message, .. }) = run(
                "'' .matches(pattern)",
                &cel::Value::Null,
                pattern,
                &Default::default(),
            ) else {
                panic!("`{pattern}` is valid");
            };
            let last = message
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap();
            last.trim().trim_start_matches("error: ").to_string()
        };
        let mut regexes = Regexes::default();
        for pattern in [
            "(",
            "[a-",
            "a{2,1}",
            r"\p{Nope}",
            "(?P<n>a)(?P<n>b)",
            "*",
            r"\",
        ] {
            assert_eq!(
                regexes.compile(pattern),
                Err(cels_words(pattern)),
                "{pattern}"
            );
        }
        assert_eq!(regexes.compile("("), Err("unclosed group".to_string()));
        assert_eq!(regexes.compile("^[a-z]+@x[.]com$"), Ok(()));
        assert_eq!(regexes.0.len(), 1, "only valid patterns are kept");
    }

    #[test]
    fn every_suggestible_function_exists() {
        for f in SUGGESTIBLE {
            assert!(is_function(f), "{f}");
        }
    }
}
