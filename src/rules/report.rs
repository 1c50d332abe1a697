//! What `button-rules check` prints about a document, line by line: shared with the rules
//! playground, so that both say the same thing in the same words.

use super::model::{Rules, RulesError};

/// The report on a parsed document named `name` (a file name, `<stdin>`, `the document`): `OK:`
/// and a summary, then a `warning:` line per warning; or a count of problems, then an `error:`
/// line per problem, each naming its place and the fix, then the warnings found on the way.
pub fn check_report(name: &str, parsed: &Result<Rules, RulesError>) -> Vec<String> {
    match parsed {
        Ok(rules) => std::iter::once(format!("OK: {}", summary(rules)))
            .chain(
                rules
                    .warnings()
                    .iter()
                    .map(|w| format!("warning: {name}: {w}")),
            )
            .chain(
                rules
                    .may_leave_a_press_unrouted()
                    .then(|| format!("warning: {name}: {UNROUTED}")),
            )
            .collect(),
        // Warnings follow the errors: they never fail the check, but a technician fixing the
        // errors should see them in the same pass.
        Err(e) => {
            let n = e.problems.len();
            std::iter::once(format!(
                "{name}: {n} problem{} found:",
                if n == 1 { "" } else { "s" }
            ))
            .chain(e.problems.iter().map(|p| format!("error: {p}")))
            .chain(e.warnings.iter().map(|w| format!("warning: {name}: {w}")))
            .collect()
        }
    }
}

/// A document that may leave a press with neither a queue nor an assignee.
pub const UNROUTED: &str = "a press no rule gives a `queue` or an `assignee` is refused with a \
    500 (BMS needs one of them): set `defaults.queue` (for example \
    `\"defaults\": {\"queue\": \"Service Desk\"}`) or `defaults.assignee`, or have a rule \
    without `when` set one";

/// `4 rules, 2 let variables (impact, urgency), defaults: priority="Medium", ...`, and the
/// help page's check boxes when the document lists any.
pub fn summary(rules: &Rules) -> String {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let lets = rules.lets();
    let mut s = format!(
        "{}, {}",
        plural(rules.len(), "rule"),
        plural(lets.len(), "let variable")
    );
    if !lets.is_empty() {
        let names: Vec<&str> = lets.keys().map(String::as_str).collect();
        s += &format!(" ({})", names.join(", "));
    }
    let defaults: Vec<String> = rules
        .defaults()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    s += &format!(
        ", defaults: {}",
        if defaults.is_empty() {
            "none".to_string()
        } else {
            defaults.join(", ")
        }
    );
    let selections = rules.selections();
    if !selections.is_empty() {
        s += &format!(
            ", {} ({})",
            plural(selections.len(), "selection"),
            selections.join(", ")
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_lets_defaults_and_selections() {
        let rules = Rules::parse(
            r#"{"defaults": {"queue": "Service Desk"}, "let": {"a": 1, "b": 2},
                "rules": [{"when": "a * b > 1", "set": {"priority": "High"}}]}"#,
        )
        .unwrap();
        assert_eq!(
            summary(&rules),
            "1 rule, 2 let variables (a, b), defaults: queue=\"Service Desk\""
        );
        let rules = Rules::parse(r#"{"selections": ["Network", "Printer"]}"#).unwrap();
        assert_eq!(
            summary(&rules),
            "0 rules, 0 let variables, defaults: none, 2 selections (Network, Printer)"
        );
    }

    #[test]
    fn problems_are_counted_then_listed() {
        let parsed = Rules::parse(r#"{"rules": [{"when": "prority == 'High'", "stop": true}]}"#);
        let lines = check_report("rules.json", &parsed);
        assert_eq!(lines[0], "rules.json: 1 problem found:");
        assert!(lines[1].starts_with("error: rules[0].when"), "{lines:?}");
        assert!(lines[1].contains("did you mean `priority`?"), "{lines:?}");
        let ok = check_report("x", &Rules::parse(r#"{"let": {"unused": 1}}"#));
        assert_eq!(
            ok[0],
            "OK: 0 rules, 1 let variable (unused), defaults: none"
        );
        assert_eq!(
            ok[1],
            "warning: x: let.unused: no expression reads it, so it has no effect"
        );
    }

    /// A document that parses but leaves some press without a queue or an assignee, which
    /// every such press then fails on, is not reported as merely OK.
    #[test]
    fn a_document_that_may_leave_a_press_unrouted_is_warned_about() {
        let warned = |doc: &str| {
            check_report("x", &Rules::parse(doc))
                .iter()
                .any(|l| l == &format!("warning: x: {UNROUTED}"))
        };
        for unrouted in [
            r#"{}"#,
            r#"{"defaults": {"priority": "High"}}"#,
            r#"{"rules": [{"when": "priority == 'High'", "set": {"queue": "Escalations"}}]}"#,
            r#"{"rules": [{"set": {"queue": "Escalations"}, "reject": "closed"}]}"#,
        ] {
            assert!(warned(unrouted), "{unrouted}");
        }
        for routed in [
            r#"{"defaults": {"queue": "Service Desk"}}"#,
            r#"{"defaults": {"assignee": "Jane Tech"}}"#,
            r#"{"rules": [{"set": {"assignee": "Jane Tech"}}]}"#,
            r#"{"rules": [{"when": "true", "compute": {"queue": "'Service Desk'"}}]}"#,
        ] {
            assert!(!warned(routed), "{routed}");
        }
    }
}
