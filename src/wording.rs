//! Words that messages in several places share, so that they say a thing the same way.

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
    fn capitals() {
        assert_eq!(capitalised("ticket type"), "Ticket type");
        assert_eq!(capitalised("épée"), "Épée");
        assert_eq!(capitalised(""), "");
    }
}
