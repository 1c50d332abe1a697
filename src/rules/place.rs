//! How messages name a place in the document: a rule, and an expression cut to fit a line.

/// `rules[3] (when `x`)`, or `rules[3]` for a rule without a `when`.
pub(crate) fn rule_location(i: usize, when: Option<&str>) -> String {
    match when {
        Some(w) => format!("rules[{i}] (when `{}`)", short(w)),
        None => format!("rules[{i}]"),
    }
}

/// An expression cut to a length that fits a message line.
pub(crate) fn short(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}…")
    } else {
        s
    }
}
