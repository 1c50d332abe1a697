//! Words that messages in several places share, so that they say a thing the same way.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::Value;

/// What kind of JSON value `v` is, with its article: "must be a string, not {}".
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number with a fraction",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `s` with its first letter in upper case, to start a sentence with.
pub fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A character that ends a line, or moves the cursor, somewhere a value is shown (a terminal, a
/// log viewer, BMS's page): every control character but tab, and the Unicode line and paragraph
/// separators.
pub fn ends_line(c: char) -> bool {
    (c.is_control() && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `value` as it is quoted into a warning, a ticket's details or a log line: on one line, each
/// line break and other control character written as an escape (`\n`, `\r`, `\t`, `\u{1b}`), so
/// that whatever it holds it cannot start a line of its own, and a reader still sees it is there.
pub fn escaped(value: &str) -> Cow<'_, str> {
    if !value.contains(|c| c == '\t' || ends_line(c)) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if ends_line(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_of_json() {
        assert_eq!(json_kind(&json!(3)), "a number");
        assert_eq!(json_kind(&json!(-3)), "a number");
        assert_eq!(json_kind(&json!(1.5)), "a number with a fraction");
        assert_eq!(json_kind(&json!(["x"])), "an array");
        assert_eq!(json_kind(&Value::Null), "null");
    }

    #[test]
    fn escaped_values_stay_on_one_line() {
        assert!(matches!(escaped("Service Desk \\ 2"), Cow::Borrowed(_)));
        assert_eq!(
            escaped("a\nb\r\nc\td\u{b}e\u{85}f\u{2028}g\u{1b}[2J\u{0}"),
            r"a\nb\r\nc\td\u{b}e\u{85}f\u{2028}g\u{1b}[2J\u{0}"
        );
    }

    #[test]
    fn capitals() {
        assert_eq!(capitalised("ticket type"), "Ticket type");
        assert_eq!(capitalised("épée"), "Épée");
        assert_eq!(capitalised(""), "");
    }
}
