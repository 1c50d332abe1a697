//! "Did you mean …?": the candidate a mistyped word most likely stands for. Shared by the rules'
//! messages, the time zones and `button-rules`'s command line; it knows no other part of the
//! rules, only words.

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

/// What a person may call a built-in variable: each variable, and the words that stand for it.
const VARIABLE_ALIASES: &[(&str, &[&str])] = &[
    ("ticketStatus", &["status", "state"]),
    ("ticketType", &["tickettype", "kind"]),
    ("ticketSource", &["source", "origin"]),
    ("title", &["subject", "summary", "heading"]),
    (
        "message",
        &["body", "description", "text", "details", "msg"],
    ),
    (
        "name",
        &[
            "user",
            "username",
            "fullname",
            "contact",
            "requester",
            "requestor",
        ],
    ),
    (
        "assignee",
        &[
            "tech",
            "technician",
            "owner",
            "agent",
            "resource",
            "assignedto",
        ],
    ),
    (
        "selections",
        &[
            "selection",
            "choices",
            "choice",
            "options",
            "checkboxes",
            "answers",
        ],
    ),
    (
        "openDate",
        &[
            "date", "created", "opened", "openedat", "opendate", "now", "time",
        ],
    ),
    ("email", &["mail", "emailaddress", "from", "sender"]),
    (
        "hostname",
        &[
            "host",
            "computer",
            "computername",
            "device",
            "machine",
            "pc",
        ],
    ),
    ("ip", &["ipaddress", "address"]),
    ("mac", &["macaddress"]),
    ("queue", &["board", "team", "group"]),
    ("priority", &["urgent", "severity", "importance"]),
];

/// The built-in variable a person may mean by `word`.
fn variable_alias(word: &str) -> Option<&'static str> {
    let lower = word.to_ascii_lowercase();
    VARIABLE_ALIASES
        .iter()
        .find(|(_, words)| words.contains(&lower.as_str()))
        .map(|(variable, _)| *variable)
}

/// `: did you mean `x`?` when a candidate is close to `word`, `otherwise` when none is.
pub(crate) fn did_you_mean<'c>(
    word: &str,
    candidates: impl Iterator<Item = &'c str>,
    otherwise: &str,
) -> String {
    match suggest(word, candidates) {
        Some(s) => format!(": did you mean `{s}`?"),
        None => otherwise.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An alias leads to a variable that exists, and a word stands for one variable only.
    #[test]
    fn every_alias_names_a_variable() {
        let mut words: Vec<&str> = Vec::new();
        for (variable, aliases) in VARIABLE_ALIASES {
            assert!(
                crate::context::variable(variable).is_some(),
                "`{variable}` is not a variable"
            );
            words.extend(*aliases);
        }
        let count = words.len();
        words.sort_unstable();
        words.dedup();
        assert_eq!(words.len(), count, "a word stands for two variables");
        assert_eq!(variable_alias("Subject"), Some("title"));
        assert_eq!(
            suggest("Subject", ["title", "message"].into_iter()),
            Some("title".into())
        );
    }
}
