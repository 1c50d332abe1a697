//! The names a rules document (and a key's `account`) gives lookup variables, checked against
//! BMS's lists: what `/health` and the preview report before any user meets them.

use super::*;

/// A name the rules can give a lookup variable, and where the document gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesName {
    pub lookup: Lookup,
    pub name: String,
    /// `defaults.queue`, `rules[2].set.assignee`.
    pub at: String,
}

/// The names of `names` that BMS does not know, each with where the rules give it and the
/// names BMS knows; a list that could not be read is named once.
pub fn unknown_names(names: &[RulesName], tables: &Tables) -> Vec<String> {
    let mut unknown = Vec::new();
    let mut unread = Vec::new();
    for n in names {
        match tables.get(&n.lookup) {
            Some(Ok(items)) => {
                if find(items, &n.name).is_none() {
                    unknown.push(format!(
                        "{}: {}",
                        n.at,
                        not_in_bms(n.lookup, &n.name, items)
                    ));
                }
            }
            Some(Err(why)) => {
                if !unread.contains(&n.lookup) {
                    unread.push(n.lookup);
                    unknown.push(escaped(why).into_owned());
                }
            }
            None => {
                if !unread.contains(&n.lookup) {
                    unread.push(n.lookup);
                    unknown.push(format!("the {} list was not loaded", n.lookup.label()));
                }
            }
        }
    }
    unknown
}
