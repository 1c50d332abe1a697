//! The variable context: the values rules read and write, and that resolution turns into a ticket.
//!
//! Values are JSON values so that rules, the preview answer and the checker all show the same
//! thing. Text variables the request left out hold `""` rather than null, so that a rule such as
//! `name.startsWith('Dan')` works without a null check.
//!
//! The variables are declared once, a row each, in `context/variables.rs`; the lookup lists
//! their names are looked up in, a row each, in `context/lookups.rs`. Everything else that
//! lists variables or lookups is derived from those two tables.

mod lookups;
mod variables;

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::button::ButtonRequest;
pub use lookups::{LOOKUPS, Lookup, LookupList, LookupPath, Table};
pub use variables::{
    Access, Kind, READ_ONLY, READ_WRITE, Start, VARIABLES, Variable, access, variable,
};

/// What a lookup variable holds once the rules have run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameOrId {
    Name(String),
    Id(i64),
}

/// Whether a value counts as "left empty" (defaults fill it; resolution treats it as unset).
pub fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Which way a press came in: the `channel` variable and the ticket's `Channel:` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// `POST /tickets` from a desktop button or a script.
    #[default]
    Api,
    /// `POST /tickets` from a browser: the help page.
    Web,
    /// The osTicket-compatible endpoint.
    Osticket,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Api => "api",
            Channel::Web => "web",
            Channel::Osticket => "osticket",
        }
    }
}

/// Where a press came from: its channel, the address API Gateway saw it from (never a header
/// the caller writes), and the customer its key was handed out to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    pub channel: Channel,
    pub caller_ip: Option<IpAddr>,
    /// The key's `account`: where `account` starts.
    pub account: Option<Value>,
    /// The key's `createContacts`.
    pub create_contacts: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    vars: BTreeMap<String, Value>,
    /// API Gateway's source address: for the technician, not a variable rules read.
    caller_ip: Option<IpAddr>,
}

impl Context {
    /// The context of a button press, before defaults and rules: every variable of
    /// [`VARIABLES`], as its row starts it.
    pub fn new(req: &ButtonRequest, open_date: DateTime<Utc>) -> Self {
        let vars = VARIABLES
            .iter()
            .map(|v| (v.name.to_string(), v.start.value(req, open_date)))
            .collect();
        Context {
            vars,
            caller_ip: None,
        }
    }

    /// Where the press came from: `channel`, `account` from the key, and the caller's address
    /// for the ticket.
    pub fn with_origin(mut self, origin: &Origin) -> Self {
        for v in VARIABLES
            .iter()
            .filter(|v| matches!(v.start, Start::Channel))
        {
            self.vars
                .insert(v.name.to_string(), origin.channel.as_str().into());
        }
        self.caller_ip = origin.caller_ip;
        self.with_key_account(origin.account.as_ref())
    }

    /// The `account` the caller's key names (a name or an id): the variable's starting value.
    pub fn with_key_account(mut self, account: Option<&Value>) -> Self {
        if let Some(account) = account {
            for v in VARIABLES
                .iter()
                .filter(|v| matches!(v.start, Start::KeyAccount))
            {
                self.vars.insert(v.name.to_string(), account.clone());
            }
        }
        self
    }

    /// The address API Gateway saw the press come from.
    pub fn caller_ip(&self) -> Option<IpAddr> {
        self.caller_ip
    }

    /// The name of the key the caller presented (`button`); the context of an unnamed key, or
    /// of `BUTTON_AUTH=none`, keeps `""`.
    pub fn with_key_name(mut self, name: Option<&str>) -> Self {
        if let Some(name) = name {
            for v in VARIABLES
                .iter()
                .filter(|v| matches!(v.start, Start::KeyName))
            {
                self.vars.insert(v.name.to_string(), name.into());
            }
        }
        self
    }

    /// The name of the BMS computer the press came from (`asset`).
    pub fn with_asset(mut self, name: &str) -> Self {
        for v in VARIABLES.iter().filter(|v| matches!(v.start, Start::Asset)) {
            self.vars.insert(v.name.to_string(), name.into());
        }
        self
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }

    /// Set a variable. The rules checker has already refused writes to read-only or undeclared
    /// variables, so this does not check again.
    pub fn set(&mut self, name: &str, value: Value) {
        self.vars.insert(name.to_string(), value);
    }

    pub fn vars(&self) -> &BTreeMap<String, Value> {
        &self.vars
    }

    /// A text variable, `""` when it is absent or not text.
    pub fn text(&self, name: &str) -> &str {
        self.vars.get(name).and_then(Value::as_str).unwrap_or("")
    }

    /// Fill the read/write variables that are still empty; used for `defaults`.
    pub fn fill_empty(&mut self, defaults: &BTreeMap<String, Value>) {
        for (name, value) in defaults {
            if self.vars.get(name).is_none_or(is_empty) {
                self.vars.insert(name.clone(), value.clone());
            }
        }
    }

    /// A lookup variable as a name or an id; `None` when it is empty.
    pub fn lookup(&self, l: Lookup) -> Option<NameOrId> {
        match self.vars.get(l.variable())? {
            Value::String(s) if !s.trim().is_empty() => Some(NameOrId::Name(s.trim().to_string())),
            Value::Number(n) => n.as_i64().map(NameOrId::Id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ButtonRequest {
        ButtonRequest::parse(
            Some("application/json"),
            br#"{"email":"Dan@Fabrikam.com","message":"Printer down","selections":["A"]}"#,
        )
        .unwrap()
    }

    #[test]
    fn every_variable_is_present() {
        let ctx = Context::new(&request(), DateTime::UNIX_EPOCH);
        for name in READ_WRITE.iter().chain(READ_ONLY.iter()) {
            assert!(ctx.get(name).is_some(), "{name}");
        }
        assert_eq!(ctx.text("openDate"), "1970-01-01T00:00:00Z");
        assert_eq!(ctx.text("name"), "");
        assert_eq!(ctx.text("button"), "", "no key name unless one is given");
        let named = Context::new(&request(), DateTime::UNIX_EPOCH).with_key_name(Some("tier2"));
        assert_eq!(named.text("button"), "tier2");
        assert_eq!(ctx.get("selections"), Some(&serde_json::json!(["A"])));
    }

    #[test]
    fn defaults_fill_only_empty_values() {
        let mut ctx = Context::new(&request(), DateTime::UNIX_EPOCH);
        ctx.set("priority", "High".into());
        let defaults = BTreeMap::from([
            ("priority".to_string(), Value::from("Medium")),
            ("queue".to_string(), Value::from(3)),
        ]);
        ctx.fill_empty(&defaults);
        assert_eq!(
            ctx.lookup(Lookup::Priority),
            Some(NameOrId::Name("High".into()))
        );
        assert_eq!(ctx.lookup(Lookup::Queue), Some(NameOrId::Id(3)));
        assert_eq!(ctx.lookup(Lookup::Assignee), None);
    }
}
