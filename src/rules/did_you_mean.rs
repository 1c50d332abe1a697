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
