//! One expression compiled: its depth and size bounded, its syntax errors told as a person can
//! act on them, its types checked, and made to pay for its work as it runs.

use std::sync::Arc;

use super::problems::Problems;
use super::vars::Vars;
use crate::rules::functions::{self, Regexes};
use crate::rules::model::Expression;
use crate::rules::{budget, check, limits};

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

/// Compile `src`, and the literal patterns of its `matches` calls into `regexes`.
pub(super) fn compile(
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
    let (parts, depth) = limits::parts_and_depth(program.expression());
    if depth > MAX_DEPTH {
        p.push(format!(
            "{loc}: the expression nests {depth} operations deep; at most {MAX_DEPTH} are \
             accepted: split it over several rules (a `let` variable can carry a part)"
        ));
        return None;
    }
    if let Some(problem) = limits::parts_problem(loc, parts) {
        p.push(problem);
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
        program: Arc::new(budget::bounded(program.expression(), &analysis.reads)),
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
