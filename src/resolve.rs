//! Resolution: the names in the context after the rules (`"High"`, `"Service Desk"`) become BMS
//! ids. An unknown name never loses the ticket: the default takes its place and a warning says
//! so; only a required field with nothing valid left fails the request.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::context::{Context, Lookup, NameOrId};
use crate::kaseya::LookupItem;
use crate::wording::{capitalised, escaped};

mod names;
pub use names::{RulesName, unknown_names};

/// The status a ticket gets when neither the request, the rules nor `defaults` name one.
pub const BUILTIN_STATUS: &str = "New";

/// A resolved lookup: the id sent to BMS and, when known, its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolution {
    pub status: Choice,
    pub priority: Choice,
    pub ticket_type: Choice,
    pub ticket_source: Choice,
    pub queue: Option<Choice>,
    pub assignee: Option<Choice>,
    /// The customer an unknown user's ticket goes to (a known contact's own account wins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<Choice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue_type: Option<Choice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_issue_type: Option<Choice>,
    /// One line per replaced value, naming what BMS knows: for the ticket's
    /// `[Submission Errors]`, the log and the preview.
    pub warnings: Vec<String>,
    /// The same lines as the button is told them: that a value was replaced, never the names
    /// BMS knows (technicians' names are not for end users).
    #[serde(skip)]
    pub told: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error(
        "the ticket has neither a queue nor an assignee: set `defaults.queue` (or a rule that sets \
         `queue` or `assignee`) in BUTTON_RULES{0}"
    )]
    NoQueueOrAssignee(String),
    #[error("no valid {label} for the ticket: {reason}")]
    Missing { label: &'static str, reason: String },
}

/// The lookup lists that were fetched, by lookup; a list that could not be read holds why.
pub type Tables = HashMap<Lookup, Result<Arc<Vec<LookupItem>>, String>>;

/// Which lists resolving `ctx` needs. Integer ids pass through without one.
pub fn needed(ctx: &Context, defaults: &BTreeMap<String, Value>) -> Vec<Lookup> {
    Lookup::ALL
        .into_iter()
        .filter(|&l| match ctx.lookup(l) {
            Some(NameOrId::Id(id)) => !valid_id(l, id),
            Some(NameOrId::Name(_)) => true,
            None => default_needs_list(l, defaults),
        })
        .collect()
}

fn default_needs_list(l: Lookup, defaults: &BTreeMap<String, Value>) -> bool {
    matches!(defaults.get(l.variable()), Some(Value::String(_))) || builtin_needs_list(l)
}

fn builtin_needs_list(l: Lookup) -> bool {
    !optional(l)
}

/// The lookups a ticket may go without: BMS has no default for them.
fn optional(l: Lookup) -> bool {
    matches!(
        l,
        Lookup::Queue
            | Lookup::Assignee
            | Lookup::Account
            | Lookup::IssueType
            | Lookup::SubIssueType
    )
}

/// The id of the issue type `ctx` resolves to, if any: whose sub-types a `subIssueType` name
/// is looked up among.
pub fn issue_type_id(
    ctx: &Context,
    defaults: &BTreeMap<String, Value>,
    tables: &Tables,
) -> Option<i64> {
    let mut r = Resolver {
        defaults,
        tables,
        warnings: Vec::new(),
        told: Vec::new(),
    };
    r.resolve(ctx, Lookup::IssueType)
        .ok()
        .flatten()
        .map(|c| c.id)
}

/// BMS requires ids of at least 1, but for ticket sources 0 ("client portal" in v1) is valid.
fn valid_id(l: Lookup, id: i64) -> bool {
    let min = if l == Lookup::TicketSource { 0 } else { 1 };
    (min..=i64::from(i32::MAX)).contains(&id)
}

fn find<'a>(items: &'a [LookupItem], name: &str) -> Option<&'a LookupItem> {
    let name = name.trim();
    items.iter().filter(|i| i.is_active).find(|i| {
        i.name
            .as_deref()
            .is_some_and(|n| n.trim().eq_ignore_ascii_case(name))
    })
}

/// Why `name` resolves to nothing, with some of the names BMS knows. Names are quoted escaped,
/// as every value in these lines is: a rule can compute one with a line break, and the line goes
/// into the ticket's `[Submission Errors]` and the log, where it must not start a line.
fn not_in_bms(l: Lookup, name: &str, items: &[LookupItem]) -> String {
    let known: Vec<Cow<str>> = items
        .iter()
        .filter(|i| i.is_active)
        .filter_map(|i| i.name.as_deref())
        .take(12)
        .map(escaped)
        .collect();
    format!(
        "`{}` is not an active {} in BMS (known: {})",
        escaped(name),
        l.label(),
        known.join(", ")
    )
}

fn choice(item: &LookupItem) -> Choice {
    Choice {
        id: item.id,
        name: item.name.clone(),
    }
}

fn describe(v: &NameOrId) -> String {
    match v {
        NameOrId::Name(n) => format!("`{}`", escaped(n)),
        NameOrId::Id(id) => format!("id {id}"),
    }
}

struct Resolver<'a> {
    defaults: &'a BTreeMap<String, Value>,
    tables: &'a Tables,
    warnings: Vec<String>,
    told: Vec<String>,
}

impl Resolver<'_> {
    fn list(&self, l: Lookup) -> Result<&[LookupItem], String> {
        match self.tables.get(&l) {
            Some(Ok(items)) => Ok(items),
            Some(Err(why)) => Err(escaped(why).into_owned()),
            None => Err(format!("the {} list was not loaded", l.label())),
        }
    }

    /// One value to an id, or why it cannot be used.
    fn try_value(&self, l: Lookup, v: &NameOrId) -> Result<Choice, String> {
        match v {
            NameOrId::Id(id) if valid_id(l, *id) => Ok(Choice {
                id: *id,
                name: None,
            }),
            NameOrId::Id(id) => Err(format!("id {id} is not a valid {} id", l.label())),
            NameOrId::Name(name) => {
                let items = self.list(l)?;
                find(items, name)
                    .map(choice)
                    .ok_or_else(|| not_in_bms(l, name, items))
            }
        }
    }

    /// The value from `defaults`, then BMS's own default.
    fn fallback(&self, l: Lookup, rejected: Option<&NameOrId>) -> Result<Option<Choice>, String> {
        let from_defaults = match self.defaults.get(l.variable()) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(NameOrId::Name(s.trim().into())),
            Some(Value::Number(n)) => n.as_i64().map(NameOrId::Id),
            _ => None,
        };
        let mut why = Vec::new();
        if let Some(d) = from_defaults.filter(|d| Some(d) != rejected) {
            match self.try_value(l, &d) {
                Ok(c) => return Ok(Some(c)),
                Err(e) => why.push(format!("the default {e}")),
            }
        }
        let builtin = match l {
            l if optional(l) => return Ok(None),
            Lookup::Status => self.list(l).map(|items| find(items, BUILTIN_STATUS)),
            _ => self
                .list(l)
                .map(|items| items.iter().find(|i| i.is_default && i.is_active)),
        };
        match builtin {
            Ok(Some(item)) => Ok(Some(choice(item))),
            Ok(None) if l == Lookup::Status => {
                why.push(format!("BMS has no status named `{BUILTIN_STATUS}`"));
                Err(why.join("; "))
            }
            Ok(None) => {
                why.push(format!("BMS marks no {} as the default", l.label()));
                Err(why.join("; "))
            }
            Err(e) => {
                why.push(e);
                Err(why.join("; "))
            }
        }
    }

    /// A sub-issue type given by id must be one of the issue type's, when its list was read:
    /// BMS refuses another's, and the ticket with it.
    fn of_issue_type(&mut self, sub: Option<Choice>, issue: &Choice) -> Option<Choice> {
        let sub = sub?;
        let Ok(items) = self.list(Lookup::SubIssueType) else {
            return Some(sub);
        };
        if items.iter().any(|i| i.id == sub.id) {
            return Some(sub);
        }
        let what = format!("Sub-issue type id {}", sub.id);
        self.warnings.push(format!(
            "{what} could not be used (it is not a sub-type of issue type {}); left it empty",
            issue.id
        ));
        self.told
            .push(format!("{what} could not be used; it was left empty"));
        None
    }

    /// A sub-issue type belongs to an issue type: without one, BMS cannot take it.
    fn without_issue_type(&mut self, ctx: &Context) {
        if let Some(v) = ctx.lookup(Lookup::SubIssueType) {
            let what = format!(
                "{} {}",
                capitalised(Lookup::SubIssueType.label()),
                describe(&v)
            );
            self.warnings.push(format!(
                "{what} could not be used (it belongs to an issue type, and the ticket has \
                 none: set `issueType`); left it empty"
            ));
            self.told
                .push(format!("{what} could not be used; it was left empty"));
        }
    }

    fn resolve(&mut self, ctx: &Context, l: Lookup) -> Result<Option<Choice>, ResolveError> {
        let value = ctx.lookup(l);
        let first_problem = match &value {
            None => None,
            Some(v) => match self.try_value(l, v) {
                Ok(c) => return Ok(Some(c)),
                Err(e) => Some(e),
            },
        };
        match self.fallback(l, value.as_ref()) {
            Ok(found) => {
                if let (Some(problem), Some(v)) = (first_problem, &value) {
                    let (instead, told) = match &found {
                        Some(c) => (
                            match &c.name {
                                Some(n) => format!("used `{}` instead", escaped(n)),
                                None => format!("used id {} instead", c.id),
                            },
                            format!("another {} was used instead", l.label()),
                        ),
                        None => ("left it empty".to_string(), "it was left empty".to_string()),
                    };
                    let what = format!("{} {}", capitalised(l.label()), describe(v));
                    self.warnings
                        .push(format!("{what} could not be used ({problem}); {instead}"));
                    self.told.push(format!("{what} could not be used; {told}"));
                }
                Ok(found)
            }
            Err(why) => Err(ResolveError::Missing {
                label: l.label(),
                reason: match first_problem {
                    Some(p) => format!("{p}; {why}"),
                    None => why,
                },
            }),
        }
    }
}

/// Resolve every lookup variable of `ctx` against the fetched lists.
pub fn resolve(
    ctx: &Context,
    defaults: &BTreeMap<String, Value>,
    tables: &Tables,
) -> Result<Resolution, ResolveError> {
    let mut r = Resolver {
        defaults,
        tables,
        warnings: Vec::new(),
        told: Vec::new(),
    };
    let required = |r: &mut Resolver, l: Lookup| -> Result<Choice, ResolveError> {
        r.resolve(ctx, l)?.ok_or_else(|| ResolveError::Missing {
            label: l.label(),
            reason: "nothing is set".into(),
        })
    };
    let status = required(&mut r, Lookup::Status)?;
    let priority = required(&mut r, Lookup::Priority)?;
    let ticket_type = required(&mut r, Lookup::TicketType)?;
    let ticket_source = required(&mut r, Lookup::TicketSource)?;
    let queue = r.resolve(ctx, Lookup::Queue)?;
    let assignee = r.resolve(ctx, Lookup::Assignee)?;
    let account = r.resolve(ctx, Lookup::Account)?;
    let issue_type = r.resolve(ctx, Lookup::IssueType)?;
    let sub_issue_type = match &issue_type {
        Some(i) => {
            let sub = r.resolve(ctx, Lookup::SubIssueType)?;
            r.of_issue_type(sub, i)
        }
        None => {
            r.without_issue_type(ctx);
            None
        }
    };
    if queue.is_none() && assignee.is_none() {
        let hint = r
            .warnings
            .iter()
            .map(|w| format!(" ({w})"))
            .collect::<String>();
        return Err(ResolveError::NoQueueOrAssignee(hint));
    }
    Ok(Resolution {
        status,
        priority,
        ticket_type,
        ticket_source,
        queue,
        assignee,
        account,
        issue_type,
        sub_issue_type,
        warnings: r.warnings,
        told: r.told,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::button::ButtonRequest;
    use chrono::DateTime;

    fn tables() -> Tables {
        let mut t = Tables::new();
        t.insert(
            Lookup::Status,
            Ok(Arc::new(vec![
                LookupItem::new(1, "New", false),
                LookupItem::new(2, "In Progress", false),
            ])),
        );
        t.insert(
            Lookup::Priority,
            Ok(Arc::new(vec![
                LookupItem::new(1, "Low", false),
                LookupItem::new(2, "Medium", true),
                LookupItem::new(4, "Critical", false),
            ])),
        );
        t.insert(
            Lookup::Queue,
            Ok(Arc::new(vec![
                LookupItem::new(1, "Service Desk", false),
                LookupItem::new(2, "Escalations", false),
            ])),
        );
        t.insert(
            Lookup::Assignee,
            Ok(Arc::new(vec![LookupItem::new(501, "Jane Tech", false)])),
        );
        t.insert(
            Lookup::TicketType,
            Ok(Arc::new(vec![LookupItem::new(1, "Service Request", true)])),
        );
        t.insert(
            Lookup::TicketSource,
            Ok(Arc::new(vec![LookupItem::new(8, "Other", true)])),
        );
        t
    }

    fn ctx(vars: &[(&str, Value)]) -> Context {
        let req = ButtonRequest::parse(None, br#"{"email":"a@b.com","message":"m"}"#).unwrap();
        let mut c = Context::new(&req, DateTime::UNIX_EPOCH);
        for (k, v) in vars {
            c.set(k, v.clone());
        }
        c
    }

    #[test]
    fn names_resolve_case_insensitively_and_builtins_fill_the_rest() {
        let c = ctx(&[
            ("queue", "service desk".into()),
            ("priority", "CRITICAL".into()),
        ]);
        let r = resolve(&c, &BTreeMap::new(), &tables()).unwrap();
        assert_eq!(r.queue.unwrap().id, 1);
        assert_eq!(r.priority.id, 4);
        assert_eq!(r.status.id, 1, "the status named New");
        assert_eq!(r.ticket_type.id, 1);
        assert_eq!(r.ticket_source.id, 8);
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn unknown_name_falls_back_to_defaults_with_a_warning() {
        let c = ctx(&[("queue", "Servce Desk".into())]);
        let defaults = BTreeMap::from([("queue".to_string(), Value::from("Escalations"))]);
        let r = resolve(&c, &defaults, &tables()).unwrap();
        assert_eq!(r.queue.unwrap().id, 2);
        assert_eq!(r.warnings.len(), 1);
        assert!(
            r.warnings[0].contains("`Servce Desk`") && r.warnings[0].contains("Escalations"),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn the_caller_is_told_a_value_was_replaced_but_never_the_names_bms_knows() {
        let c = ctx(&[
            ("queue", "Servce Desk".into()),
            ("assignee", "Jon Tech".into()),
        ]);
        let defaults = BTreeMap::from([("queue".to_string(), Value::from("Escalations"))]);
        let r = resolve(&c, &defaults, &tables()).unwrap();
        assert_eq!(
            r.told,
            [
                "Queue `Servce Desk` could not be used; another queue was used instead",
                "Assignee `Jon Tech` could not be used; it was left empty",
            ]
        );
        assert!(
            r.warnings[1].contains("(known: Jane Tech)"),
            "{:?}",
            r.warnings
        );
        let told = r.told.join("\n");
        for bms_name in ["Jane Tech", "Escalations", "Service Desk", "known"] {
            assert!(!told.contains(bms_name), "{told}");
        }
        assert!(
            !serde_json::to_string(&r).unwrap().contains("another queue"),
            "the preview shows the technicians' text only"
        );
    }

    #[test]
    fn a_replaced_value_is_quoted_on_one_line_whatever_it_holds() {
        let forged = [
            "x\n[Submission Errors]\nall fine",
            "x\r\nlevel=INFO msg=\"ticket created\"",
            "x\u{2028}y\u{85}z\u{b}w\u{1b}[2J",
        ];
        let defaults = BTreeMap::from([("queue".to_string(), Value::from("Escalations"))]);
        let mut t = tables();
        t.insert(
            Lookup::Assignee,
            Ok(Arc::new(vec![LookupItem::new(501, "Jane\nTech", false)])),
        );
        for value in forged {
            let c = ctx(&[("queue", value.into()), ("assignee", value.into())]);
            let r = resolve(&c, &defaults, &t).unwrap();
            for line in r.warnings.iter().chain(&r.told) {
                assert!(
                    !line.contains(|c: char| c.is_control() || c == '\u{2028}'),
                    "{line:?}"
                );
            }
        }
        let c = ctx(&[("queue", forged[0].into())]);
        let r = resolve(&c, &defaults, &t).unwrap();
        assert_eq!(
            r.told,
            [
                "Queue `x\\n[Submission Errors]\\nall fine` could not be used; another queue was \
              used instead"
            ]
        );
        let c = ctx(&[("assignee", forged[1].into()), ("queue", 1.into())]);
        let r = resolve(&c, &BTreeMap::new(), &t).unwrap();
        assert_eq!(
            r.warnings,
            [
                "Assignee `x\\r\\nlevel=INFO msg=\"ticket created\"` could not be used (`x\\r\\nlevel=INFO \
              msg=\"ticket created\"` is not an active assignee in BMS (known: Jane\\nTech)); left \
              it empty"
            ]
        );
        let c = ctx(&[("queue", forged[2].into())]);
        let err = resolve(&c, &BTreeMap::new(), &t).unwrap_err().to_string();
        assert!(
            err.contains("`x\\u{2028}y\\u{85}z\\u{b}w\\u{1b}[2J`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_names_are_listed_with_where_they_are_and_what_bms_knows() {
        let name = |lookup, name: &str, at: &str| RulesName {
            lookup,
            name: name.into(),
            at: at.into(),
        };
        let mut t = tables();
        t.insert(Lookup::TicketType, Err("the table cannot be read".into()));
        let names = [
            name(Lookup::Queue, "service desk", "defaults.queue"),
            name(Lookup::Queue, "Escalation", "rules[1].set.queue"),
            name(Lookup::Assignee, "Jane Tech", "rules[2].set.assignee"),
            name(Lookup::Priority, "Urgent", "rules[3].set.priority"),
            name(Lookup::TicketType, "Incident", "rules[4].set.ticketType"),
            name(Lookup::TicketType, "Problem", "rules[5].set.ticketType"),
        ];
        assert_eq!(
            unknown_names(&names, &t),
            [
                "rules[1].set.queue: `Escalation` is not an active queue in BMS (known: Service \
                 Desk, Escalations)",
                "rules[3].set.priority: `Urgent` is not an active priority in BMS (known: Low, \
                 Medium, Critical)",
                "the table cannot be read",
            ]
        );
    }

    #[test]
    fn unknown_priority_falls_back_to_the_bms_default() {
        let c = ctx(&[
            ("priority", "Urgent".into()),
            ("assignee", "Jane Tech".into()),
        ]);
        let r = resolve(&c, &BTreeMap::new(), &tables()).unwrap();
        assert_eq!(r.priority.id, 2);
        assert_eq!(r.assignee.unwrap().id, 501);
        assert!(
            r.warnings[0].starts_with("Priority `Urgent`"),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn defaults_need_the_lists_they_name_and_the_builtin_ones() {
        let defaults: BTreeMap<String, Value> = [
            ("queue".to_string(), Value::from("Service Desk")),
            ("priority".to_string(), Value::from(2)),
        ]
        .into();
        // A press that names nothing.
        let need = needed(&ctx(&[]), &defaults);
        assert!(need.contains(&Lookup::Queue) && need.contains(&Lookup::Status));
        assert!(!need.contains(&Lookup::Assignee));
    }

    #[test]
    fn ids_pass_through_without_a_list() {
        let c = ctx(&[
            ("queue", 77.into()),
            ("ticketSource", 0.into()),
            ("ticketType", 3.into()),
        ]);
        let need = needed(&c, &BTreeMap::new());
        assert!(!need.contains(&Lookup::Queue) && !need.contains(&Lookup::TicketSource));
        let r = resolve(&c, &BTreeMap::new(), &tables()).unwrap();
        assert_eq!(
            (r.queue.unwrap().id, r.ticket_source.id, r.ticket_type.id),
            (77, 0, 3)
        );
    }

    #[test]
    fn neither_queue_nor_assignee_is_an_error() {
        let c = ctx(&[("queue", "Nowhere".into())]);
        let err = resolve(&c, &BTreeMap::new(), &tables()).unwrap_err();
        assert!(matches!(err, ResolveError::NoQueueOrAssignee(_)));
        assert!(err.to_string().contains("Nowhere"), "{err}");
    }

    #[test]
    fn unreadable_type_table_names_the_problem() {
        let mut t = tables();
        t.insert(
            Lookup::TicketType,
            Err("lookup table `TicketType` does not exist".into()),
        );
        let c = ctx(&[("queue", 1.into())]);
        let err = resolve(&c, &BTreeMap::new(), &t).unwrap_err();
        assert!(err.to_string().contains("TicketType"), "{err}");
    }
}
