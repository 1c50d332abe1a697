//! The CEL environment rules run in: CEL's standard library plus its `strings` extension.
//!
//! `lowerAscii()`, `upperAscii()` and `trim()` come from that extension (cel 0.15 ships them
//! there rather than in the standard library), together with `replace`, `split`, `substring`,
//! `indexOf`, `lastIndexOf`, `charAt`, `join`, `reverse`, `format` and `strings.quote`. Nothing
//! has to be registered by hand, so nothing is added with `Context::add_function`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use cel::Env;

static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| {
    let mut env = Env::stdlib();
    env.add_extension(cel::extensions::strings)
        .expect("the strings extension declares no overload twice");
    Arc::new(env)
});

/// The environment every rules document compiles and runs with; built once per process.
pub(crate) fn env() -> &'static Arc<Env> {
    &ENV
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

/// Why `pattern` is not a regular expression `matches` accepts, if it is not.
///
/// `matches` compiles its pattern on every call, so a bad literal pattern would fail every
/// request; asking CEL itself, once, finds it when the rules are loaded.
pub(crate) fn regex_problem(pattern: &str) -> Option<String> {
    let program = env().compile("'' .matches(pattern)").ok()?;
    let mut ctx = cel::Context::with_env(Arc::clone(env()));
    ctx.add_variable_from_value("pattern", pattern.to_string());
    match program.execute(&ctx) {
        Err(cel::ExecutionError::FunctionError { message, .. }) => Some(
            message
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or(&message)
                .trim()
                .trim_start_matches("error: ")
                .to_string(),
        ),
        _ => None,
    }
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

    #[test]
    fn regular_expressions_are_checked_by_cel() {
        assert_eq!(regex_problem("^[a-z]+@x[.]com$"), None);
        assert_eq!(regex_problem("(").as_deref(), Some("unclosed group"));
    }

    #[test]
    fn every_suggestible_function_exists() {
        for f in SUGGESTIBLE {
            assert!(is_function(f), "{f}");
        }
    }
}
