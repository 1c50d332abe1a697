//! The variables of the context, one row each: the one place a variable is declared. The
//! checker's types and suggestions, the context of a press, the lists of read/write and
//! read-only names and the variable of each lookup list are all derived from [`VARIABLES`];
//! `docs/rules.md` documents the same rows (a test compares them).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use super::lookups::{LOOKUPS, Lookup};
use crate::button::{ButtonRequest, Text};

/// One variable of the context.
#[derive(Debug, Clone, Copy)]
pub struct Variable {
    pub name: &'static str,
    pub access: Access,
    pub kind: Kind,
    /// What it holds when a press arrives, before defaults and rules.
    pub start: Start,
    /// What it holds, in a line of `docs/rules.md`'s variable tables.
    pub about: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    ReadOnly,
}

/// What a variable holds, as the checker types it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A name as BMS shows it, or an id, looked up in this list.
    Lookup(Lookup),
    Text,
    /// A list of strings; only ever read-only, as rules write names, ids and text.
    TextList,
}

impl Kind {
    /// How `docs/rules.md` names it in its variable tables.
    pub fn documented(self) -> &'static str {
        match self {
            Kind::Lookup(_) => "name or id",
            Kind::Text => "string",
            Kind::TextList => "list of strings",
        }
    }
}

/// Where a variable's value comes from when a press arrives.
#[derive(Debug, Clone, Copy)]
pub enum Start {
    /// `""`, until `defaults` or a rule fills it.
    Empty,
    /// Read from the request.
    Request(fn(&ButtonRequest) -> Value),
    /// When the button was pressed: RFC 3339, in UTC.
    OpenDate,
    /// The name of the key the caller presented (`""` until it is known, and for an unnamed
    /// key).
    KeyName,
    /// How the press came in: `"api"` until the route says otherwise.
    Channel,
    /// The `account` of the key the caller presented (`""` for a key without one).
    KeyAccount,
    /// The name of the BMS computer the press came from (`""` until it is found, and when BMS
    /// knows none).
    Asset,
}

impl Start {
    pub(super) fn value(self, req: &ButtonRequest, open_date: DateTime<Utc>) -> Value {
        match self {
            Start::Empty | Start::KeyName | Start::Asset | Start::KeyAccount => {
                Value::String(String::new())
            }
            Start::Request(read) => read(req),
            Start::OpenDate => open_date.to_rfc3339_opts(SecondsFormat::Secs, true).into(),
            Start::Channel => "api".into(),
        }
    }
}

fn opt(t: &Option<Text>) -> Value {
    Value::String(
        t.as_ref()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
    )
}

const fn rw(name: &'static str, kind: Kind, start: Start, about: &'static str) -> Variable {
    Variable {
        name,
        access: Access::ReadWrite,
        kind,
        start,
        about,
    }
}

const fn ro(name: &'static str, kind: Kind, start: Start, about: &'static str) -> Variable {
    Variable {
        name,
        access: Access::ReadOnly,
        kind,
        start,
        about,
    }
}

/// Every variable. The read/write ones come first, in the order messages list them; adding a
/// variable is adding a row (and its line in `docs/rules.md`).
pub const VARIABLES: &[Variable] = &[
    rw(
        "priority",
        Kind::Lookup(Lookup::Priority),
        Start::Empty,
        "The ticket priority, e.g. `\"High\"`.",
    ),
    rw(
        "ticketStatus",
        Kind::Lookup(Lookup::Status),
        Start::Empty,
        "The status, e.g. `\"New\"`.",
    ),
    rw(
        "queue",
        Kind::Lookup(Lookup::Queue),
        Start::Empty,
        "The queue, e.g. `\"Service Desk\"`.",
    ),
    rw(
        "ticketType",
        Kind::Lookup(Lookup::TicketType),
        Start::Empty,
        "The ticket type, e.g. `\"Service Request\"`.",
    ),
    rw(
        "message",
        Kind::Text,
        Start::Request(|r| r.message.as_str().into()),
        "The message the person typed; it becomes the ticket description.",
    ),
    rw(
        "title",
        Kind::Text,
        Start::Request(|r| r.title.as_str().into()),
        "The ticket title. Without a title in the request, the first 50 characters of the \
         message. Emptied by a rule, it falls back to that.",
    ),
    rw(
        "ticketSource",
        Kind::Lookup(Lookup::TicketSource),
        Start::Empty,
        "The ticket source, e.g. `\"Other\"`.",
    ),
    rw(
        "assignee",
        Kind::Lookup(Lookup::Assignee),
        Start::Empty,
        "The technician, e.g. `\"Jane Tech\"`.",
    ),
    rw(
        "account",
        Kind::Lookup(Lookup::Account),
        Start::KeyAccount,
        "The customer (BMS account) an unknown user's ticket is filed on, e.g. `\"Fabrikam \
         Inc\"`; starts as the key's `account`, else `\"\"`. A known contact's own account \
         always wins.",
    ),
    rw(
        "issueType",
        Kind::Lookup(Lookup::IssueType),
        Start::Empty,
        "The issue type, e.g. `\"Hardware\"`; none unless set.",
    ),
    rw(
        "subIssueType",
        Kind::Lookup(Lookup::SubIssueType),
        Start::Empty,
        "The sub-issue type, one of the issue type's, e.g. `\"Printer\"`; none unless set.",
    ),
    ro(
        "selections",
        Kind::TextList,
        Start::Request(|r| Value::Array(r.selections.iter().cloned().map(Value::String).collect())),
        "The check boxes and radio buttons chosen, e.g. `[\"This is an emergency\", \"Impact: \
         High\"]`; `[]` when none.",
    ),
    ro(
        "name",
        Kind::Text,
        Start::Request(|r| opt(&r.name)),
        "The name of the person, `\"\"` if not sent.",
    ),
    ro(
        "email",
        Kind::Text,
        Start::Request(|r| r.email.as_str().into()),
        "Their e-mail address, as sent (always present).",
    ),
    ro(
        "ip",
        Kind::Text,
        Start::Request(|r| opt(&r.ip)),
        "The computer's IP address, `\"\"` if not sent.",
    ),
    ro(
        "append",
        Kind::Text,
        Start::Request(|r| opt(&r.append)),
        "Extra text the button adds below the message (e.g. system information), `\"\"` if \
         not sent.",
    ),
    ro(
        "hostname",
        Kind::Text,
        Start::Request(|r| opt(&r.hostname)),
        "The computer's name, `\"\"` if not sent.",
    ),
    ro(
        "mac",
        Kind::Text,
        Start::Request(|r| opt(&r.mac)),
        "The computer's MAC address, `\"\"` if not sent.",
    ),
    ro(
        "openDate",
        Kind::Text,
        Start::OpenDate,
        "When the button was pressed, RFC 3339 in UTC, e.g. `\"2024-05-06T14:30:00Z\"`. Use \
         `timestamp(openDate)` to compute with it.",
    ),
    ro(
        "button",
        Kind::Text,
        Start::KeyName,
        "The name of the key the caller presented, e.g. `\"contoso-office\"` (named keys in the \
         secret: see docs/keys.md); `\"\"` for an unnamed key or with `BUTTON_AUTH=none`. Never \
         the key itself. Route by customer or by client: `button == 'contoso-office'`.",
    ),
    ro(
        "channel",
        Kind::Text,
        Start::Channel,
        "How the press came in: `\"api\"` (a desktop button or a script), `\"web\"` (the help \
         page in a browser) or `\"osticket\"` (the osTicket-compatible endpoint); a replayed \
         press keeps its own.",
    ),
    ro(
        "asset",
        Kind::Text,
        Start::Asset,
        "The BMS computer the ticket is linked to (found by `hostname`, else `ip`, on the \
         ticket's account), e.g. `\"FAB-PC-0042\"`; `\"\"` when BMS knows none. A document that \
         reads it has BMS searched before its rules run.",
    ),
];

/// The variable called `name`, if there is one.
pub fn variable(name: &str) -> Option<&'static Variable> {
    VARIABLES.iter().find(|v| v.name == name)
}

/// How a built-in variable may be used; `None` for anything else (a `let` variable or a typo).
pub fn access(name: &str) -> Option<Access> {
    variable(name).map(|v| v.access)
}

/// Variables a rule may write: names as a person sees them in BMS, or integer ids.
pub const READ_WRITE: [&str; count(Access::ReadWrite)] = names(Access::ReadWrite);

/// Variables that describe the request itself; rules can read them but not change them.
pub const READ_ONLY: [&str; count(Access::ReadOnly)] = names(Access::ReadOnly);

const fn count(access: Access) -> usize {
    let (mut n, mut i) = (0, 0);
    while i < VARIABLES.len() {
        n += (VARIABLES[i].access as u8 == access as u8) as usize;
        i += 1;
    }
    n
}

const fn names<const N: usize>(access: Access) -> [&'static str; N] {
    let mut out = [""; N];
    let (mut i, mut j) = (0, 0);
    while i < VARIABLES.len() {
        if VARIABLES[i].access as u8 == access as u8 {
            out[j] = VARIABLES[i].name;
            j += 1;
        }
        i += 1;
    }
    out
}

/// The variable each lookup list fills, by `Lookup as usize`. Checked as the crate compiles:
/// every list is some variable's, and no two variables share one.
const LOOKUP_VARIABLES: [&str; LOOKUPS.len()] = {
    let mut names = [""; LOOKUPS.len()];
    let mut i = 0;
    while i < VARIABLES.len() {
        if let Kind::Lookup(l) = VARIABLES[i].kind {
            assert!(
                names[l as usize].is_empty(),
                "two variables resolve through one lookup list"
            );
            names[l as usize] = VARIABLES[i].name;
        }
        i += 1;
    }
    let mut l = 0;
    while l < names.len() {
        assert!(
            !names[l].is_empty(),
            "a lookup list that no variable resolves through"
        );
        l += 1;
    }
    names
};

// The rest of the table's rules, checked as the crate compiles: names are unique, and rules
// write names, ids and text, never lists.
const _: () = {
    let mut i = 0;
    while i < VARIABLES.len() {
        let v = &VARIABLES[i];
        assert!(
            !(v.access as u8 == Access::ReadWrite as u8 && matches!(v.kind, Kind::TextList)),
            "a read/write variable that is a list"
        );
        let mut j = i + 1;
        while j < VARIABLES.len() {
            assert!(
                !same(v.name, VARIABLES[j].name),
                "two variables of one name"
            );
            j += 1;
        }
        i += 1;
    }
};

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl Lookup {
    /// The context variable that holds it.
    pub fn variable(self) -> &'static str {
        LOOKUP_VARIABLES[self as usize]
    }

    pub fn from_variable(name: &str) -> Option<Lookup> {
        Lookup::ALL.into_iter().find(|l| l.variable() == name)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::super::Context;
    use super::super::lookups::{LookupPath, Table};
    use super::*;

    /// A press that gives every field a value naming the variable that should hold it.
    fn full_press() -> ButtonRequest {
        let body = serde_json::json!({
            "email": "email@example.com", "message": "message", "title": "title",
            "name": "name", "ip": "ip", "append": "append", "hostname": "hostname",
            "mac": "mac", "selections": ["selections"],
        });
        ButtonRequest::parse(Some("application/json"), body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_press_starts_every_variable_and_no_other() {
        let ctx = Context::new(&full_press(), DateTime::UNIX_EPOCH)
            .with_key_name(Some("key"))
            .with_asset("asset")
            .with_key_account(Some(&Value::from("account")));
        let held: BTreeSet<&str> = ctx.vars().keys().map(String::as_str).collect();
        let declared: BTreeSet<&str> = VARIABLES.iter().map(|v| v.name).collect();
        assert_eq!(held, declared);
        for v in VARIABLES {
            let value = ctx.get(v.name).unwrap();
            let text = match value {
                Value::Array(items) => items[0].as_str().unwrap(),
                other => other.as_str().unwrap(),
            };
            match v.start {
                // each field of the request lands in the variable of its name
                Start::Request(_) => assert!(text.contains(v.name), "{}: {value}", v.name),
                Start::Empty => assert_eq!(text, "", "{}", v.name),
                Start::OpenDate => assert_eq!(text, "1970-01-01T00:00:00Z", "{}", v.name),
                Start::KeyName => assert_eq!(text, "key", "{}", v.name),
                Start::Asset => assert_eq!(text, "asset", "{}", v.name),
                Start::Channel => assert_eq!(text, "api", "{}", v.name),
                Start::KeyAccount => assert_eq!(text, "account", "{}", v.name),
            }
        }
    }

    #[test]
    fn read_write_and_read_only_are_the_table_split_in_two() {
        let mut names: Vec<&str> = READ_WRITE.iter().chain(&READ_ONLY).copied().collect();
        assert_eq!(names, VARIABLES.iter().map(|v| v.name).collect::<Vec<_>>());
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), VARIABLES.len(), "names are unique");
        for v in VARIABLES {
            assert_eq!(access(v.name), Some(v.access), "{}", v.name);
        }
        assert_eq!(access("impact"), None);
    }

    #[test]
    fn every_lookup_has_a_path_a_label_and_its_variable() {
        assert_eq!(Lookup::ALL.len(), LOOKUPS.len());
        for (i, l) in Lookup::ALL.into_iter().enumerate() {
            assert_eq!(l as usize, i);
            assert_eq!(l.list().lookup, l);
            match l.path() {
                LookupPath::List(path) | LookupPath::Pages(path) | LookupPath::Sub(path) => {
                    assert!(
                        path.starts_with("/v2/") && path.ends_with("/lookup"),
                        "{path}"
                    )
                }
                LookupPath::Table(Table::TicketType | Table::TicketSource) => {}
            }
            assert!(!l.label().is_empty() && !l.example().is_empty(), "{l:?}");
            let v = variable(l.variable()).unwrap();
            assert_eq!((v.access, v.kind), (Access::ReadWrite, Kind::Lookup(l)));
            assert_eq!(Lookup::from_variable(v.name), Some(l));
        }
        assert_eq!(Lookup::from_variable("title"), None);
    }

    /// The rows of the variable table under `heading` in docs/rules.md: name, type, what it
    /// holds.
    fn documented(heading: &str) -> Vec<(String, String, String)> {
        let doc = include_str!("../../docs/rules.md");
        let after = doc.split_once(heading).map_or("", |(_, rest)| rest);
        after
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .map(|row| {
                let cells: Vec<&str> = row.trim().trim_matches('|').split('|').collect();
                let cell = |i: usize| cells.get(i).map_or("", |c| c.trim()).to_string();
                (cell(0).trim_matches('`').to_string(), cell(1), cell(2))
            })
            .collect()
    }

    #[test]
    fn docs_rules_md_documents_every_variable_and_no_other() {
        for (heading, access) in [
            ("### Read/write variables", Access::ReadWrite),
            ("### Read-only variables", Access::ReadOnly),
        ] {
            let mut documented = documented(heading);
            let mut declared: Vec<(String, String, String)> = VARIABLES
                .iter()
                .filter(|v| v.access == access)
                .map(|v| (v.name.into(), v.kind.documented().into(), v.about.into()))
                .collect();
            documented.sort();
            declared.sort();
            let rows: Vec<String> = declared
                .iter()
                .map(|(n, t, a)| format!("| `{n}` | {t} | {a} |"))
                .collect();
            assert_eq!(
                documented,
                declared,
                "docs/rules.md, {heading}, should have these rows:\n{}",
                rows.join("\n")
            );
        }
    }
}
