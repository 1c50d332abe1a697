//! The secret's keys changed as `button-keys` changes them: a new key added to `buttonKeys` or
//! `operatorKeys` with its name and `allowFrom`, keys taken out by name, and the keys listed
//! without their values.
//!
//! Every field but the list that changes, and every entry of that list that stays, keeps the
//! text it had, so an edit cannot alter the login, the `markerKey` or a field this version does
//! not know. A value in the plain `Company+username:password` form becomes
//! `{"credentials": "Company+username:password"}`: the same login, with room for keys. Each
//! edit is read back with [`Secret::parse`], the function's own parser, before it is handed
//! out: a value the function could not read is never written.

use serde_json::value::RawValue;

use super::fields::{Fields, list_items, named_entry, raw_json};
pub use super::parse::account_arg;
use super::*;

/// A new key's length: 43 letters and digits carry 256 bits. No punctuation, like the keys the
/// stack generates: a key goes into URLs (`#key=`), shell commands and PowerShell arguments,
/// where a leading `-` or a `&` would be read as something else.
pub const NEW_KEY_CHARS: usize = 43;
const KEY_ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Why a change was not made. Names what was wrong and what to do; never a key or the password.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("the function cannot read the secret as it is now: {0}")]
    Unreadable(SecretError),
    #[error(
        "the name `{name}` is taken by {existing} (names are compared without regard to case): \
         choose another name, or revoke that key first"
    )]
    NameTaken { name: String, existing: String },
    #[error("no key is named `{name}`{suggestion}: {named}")]
    UnknownName {
        name: String,
        suggestion: String,
        named: String,
    },
    #[error("after this change the function could not read the secret: {0}. Nothing was written")]
    WouldBreak(SecretError),
    #[error(
        "the secret lists keys under both `{0}` and `{1}`, and the function reads only one of \
         them: merge them into one `{0}` by hand first. Nothing was written"
    )]
    TwoFields(String, String),
    #[error("the system gave no random bytes for a new key ({0}): nothing was written")]
    NoRandomness(String),
}

/// A key to add.
pub struct NewKey<'a> {
    pub role: Role,
    pub name: &'a str,
    /// Empty: the key works from anywhere.
    pub allow_from: &'a [IpNet],
    /// The customer the key is for (`account`, `createContacts`).
    pub customer: &'a KeyCustomer,
    pub key: &'a SecretString,
}

/// A changed value, read back by the function's parser.
#[derive(Debug)]
pub struct Edited {
    /// The new value, for Secrets Manager.
    pub text: SecretString,
    /// The new value as the function reads it.
    pub secret: Secret,
    /// What changed besides the key, in words for the technician (a form made into a list).
    pub notes: Vec<String>,
}

/// What [`revoke`] took out.
#[derive(Debug)]
pub struct Revoked {
    pub edited: Edited,
    /// The role of each entry taken out.
    pub removed: Vec<Role>,
    /// Other entries that list a key taken out: it still works under these.
    pub still_listed: Vec<String>,
}

/// A new key from the operating system's random source (through the TLS library's).
pub fn new_key() -> Result<SecretString, KeysError> {
    let random = rustls::crypto::aws_lc_rs::default_provider().secure_random;
    let mut key = String::with_capacity(NEW_KEY_CHARS);
    let mut bytes = [0u8; 64];
    while key.len() < NEW_KEY_CHARS {
        random
            .fill(&mut bytes)
            .map_err(|e| KeysError::NoRandomness(format!("{e:?}")))?;
        // 248 is 4 × 62: bytes above it are dropped, so that every character is as likely.
        let chars = bytes.iter().filter(|b| **b < 248).map(|b| {
            let i = usize::from(*b) % KEY_ALPHABET.len();
            char::from(KEY_ALPHABET[i])
        });
        key.extend(chars.take(NEW_KEY_CHARS - key.len()));
    }
    Ok(SecretString::from(key))
}

/// One `--allow-from` value: addresses and CIDR blocks, comma-separated. A block with host bits
/// set (`10.0.0.5/24`) means its network, as the function reads it.
pub fn allow_from_arg(value: &str) -> Result<Vec<IpNet>, String> {
    let mut nets = Vec::new();
    for part in value.split(',').map(str::trim) {
        let net = part
            .parse::<IpAddr>()
            .map(IpNet::from)
            .or_else(|_| part.parse::<IpNet>().map(|n| n.trunc()));
        match net {
            Ok(net) => nets.push(net),
            Err(_) => {
                return Err(format!(
                    "`{part}` (in `--allow-from {value}`) is not an IPv4 or IPv6 address or \
                     CIDR block: write it like 203.0.113.7, 198.51.100.0/24 or 2001:db8::/48"
                ));
            }
        }
    }
    Ok(nets)
}

/// `net` as a technician writes it: a single address without its `/32` or `/128`.
pub fn show_net(net: &IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

/// The secret as the function reads it, or why it cannot.
pub fn read(raw: &str) -> Result<Secret, KeysError> {
    Secret::parse(raw).map_err(KeysError::Unreadable)
}

/// `new` added to the secret `raw`. Its name must not be taken, by a key of either role.
pub fn add(raw: &str, new: &NewKey) -> Result<Edited, KeysError> {
    let before = read(raw)?;
    let name = new.name.trim();
    if let Some(taken) = before
        .entries()
        .find(|e| e.name.is_some_and(|n| n.eq_ignore_ascii_case(name)))
    {
        return Err(KeysError::NameTaken {
            name: name.to_string(),
            existing: describe(&taken),
        });
    }
    let entry = new_entry(new, name);
    let mut notes = Vec::new();
    let mut fields = Fields::of(raw, &mut notes)?;
    let field = new.role.field();
    let (at, mut items) = match fields.position(field)? {
        Some(i) => {
            let (written, value) = &fields.0[i];
            if value.get().trim_start().starts_with('"') {
                notes.push(format!(
                    "`{written}` was one comma-separated string; it is now a list of the same \
                     keys, so that the new key can carry its name"
                ));
            }
            (i, list_items(value))
        }
        None => {
            fields.0.push((field.to_string(), Box::default()));
            (fields.0.len() - 1, Vec::new())
        }
    };
    items.push(entry);
    fields.set(at, &items);
    let edited = fields.read_back(notes)?;
    let from = new.allow_from.first().map(|net| net.addr());
    let found = edited.secret.key_for(new.key.expose_secret(), from);
    let read_back = found
        .as_ref()
        .map(|f| (f.role, f.name.as_deref(), &f.customer));
    if read_back != Some((new.role, Some(name), new.customer)) {
        // The parser would have to read what was written differently: a bug, not a user's.
        return Err(KeysError::WouldBreak(SecretError::Invalid(
            "the new key is not read back as written".into(),
        )));
    }
    Ok(edited)
}

/// `{"key": …, "name": …, "allowFrom": […], "account": …, "createContacts": true}`, in the
/// order the docs write it.
fn new_entry(new: &NewKey, name: &str) -> Box<RawValue> {
    let string = |s: &str| raw_json(&Value::from(s));
    let mut entry = format!(
        "{{\"key\":{},\"name\":{}",
        string(new.key.expose_secret()).get(),
        string(name).get()
    );
    if !new.allow_from.is_empty() {
        let nets = new
            .allow_from
            .iter()
            .map(show_net)
            .map(Value::from)
            .collect();
        entry.push_str(&format!(
            ",\"allowFrom\":{}",
            raw_json(&Value::Array(nets)).get()
        ));
    }
    if let Some(account) = &new.customer.account {
        entry.push_str(&format!(",\"account\":{}", raw_json(account).get()));
    }
    if new.customer.create_contacts {
        entry.push_str(",\"createContacts\":true");
    }
    entry.push('}');
    // Made of JSON values, so it is JSON.
    RawValue::from_string(entry).unwrap_or_default()
}

/// Every entry named `name` taken out of the secret `raw`, from either list.
pub fn revoke(raw: &str, name: &str) -> Result<Revoked, KeysError> {
    let before = read(raw)?;
    let name = name.trim();
    let mut fields = Fields::of(raw, &mut Vec::new())?;
    let mut removed = Vec::new();
    let mut removed_keys = Vec::new();
    for role in [Role::Button, Role::Operator] {
        let Some(at) = fields.position(role.field())? else {
            continue;
        };
        let items = list_items(&fields.0[at].1);
        let listed = items.len();
        let mut kept = Vec::new();
        for item in items {
            match named_entry(&item) {
                Some((n, key)) if n == name => {
                    removed.push(role);
                    removed_keys.push(SecretString::from(key));
                }
                _ => kept.push(item),
            }
        }
        // A list that loses nothing keeps its form: a comma-separated string stays one.
        if kept.len() != listed {
            fields.set(at, &kept);
        }
    }
    if removed.is_empty() {
        return Err(unknown_name(&before, name));
    }
    let edited = fields.read_back(Vec::new())?;
    let still_listed = removed_keys
        .iter()
        .flat_map(|k| edited.secret.entries_of(k.expose_secret()))
        .map(|e| describe(&e))
        .collect();
    Ok(Revoked {
        edited,
        removed,
        still_listed,
    })
}

/// The keys, one line each: name, role, where from, and the customer of those that name one.
/// Never a key.
pub fn listing(secret: &Secret) -> String {
    let rows: Vec<[String; 4]> = secret
        .entries()
        .map(|e| {
            let from = if e.allow_from.is_empty() {
                "anywhere".to_string()
            } else {
                e.allow_from
                    .iter()
                    .map(show_net)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let name = e.name.unwrap_or("(no name)").to_string();
            [name, e.role.label().to_string(), from, customer(e.customer)]
        })
        .collect();
    let width = rows
        .iter()
        .map(|r| r[0].chars().count())
        .chain([4])
        .max()
        .unwrap_or(4);
    // The customer column only when a key names one: the listing of a one-customer
    // deployment stays as it was.
    let customers = rows.iter().any(|r| !r[3].is_empty());
    let from_width = rows
        .iter()
        .map(|r| r[2].chars().count())
        .chain([10])
        .max()
        .unwrap_or(10);
    let mut out = if customers {
        format!(
            "{:width$}  {:8}  {:from_width$}  CUSTOMER\n",
            "NAME", "ROLE", "ALLOW FROM"
        )
    } else {
        format!("{:width$}  {:8}  ALLOW FROM\n", "NAME", "ROLE")
    };
    for [name, role, from, customer] in rows {
        let line = if customers {
            format!("{name:width$}  {role:8}  {from:from_width$}  {customer}")
        } else {
            format!("{name:width$}  {role:8}  {from}")
        };
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A key's `account` and `createContacts`, as `list` shows them; `""` when it names no
/// customer.
fn customer(c: &KeyCustomer) -> String {
    let account = match &c.account {
        Some(Value::String(name)) => format!("account `{name}`"),
        Some(other) => format!("account {other}"),
        None if c.create_contacts => "no account".into(),
        None => return String::new(),
    };
    if c.create_contacts {
        format!("{account}, creates contacts")
    } else {
        account
    }
}

/// What the function makes of the secret, in one paragraph: the login's user and company (not
/// secrets: the function logs them) and how many keys of each role.
pub fn summary(secret: &Secret) -> String {
    let count = |role: Role| {
        let all = secret.entries().filter(|e| e.role == role).count();
        let named = secret
            .entries()
            .filter(|e| e.role == role && e.name.is_some())
            .count();
        let plural = if all == 1 { "" } else { "s" };
        format!("{all} {} key{plural} ({named} named)", role.label())
    };
    format!(
        "the BMS login of user `{}` at `{}`; {}, {}",
        secret.credentials.username,
        secret.credentials.tenant,
        count(Role::Button),
        count(Role::Operator)
    )
}

/// `a button key named `x`` or `an operator key without a name`, for messages.
fn describe(e: &KeyEntry) -> String {
    let article = match e.role {
        Role::Button => "a",
        Role::Operator => "an",
    };
    match e.name {
        Some(n) => format!("{article} {} key named `{n}`", e.role.label()),
        None => format!("{article} {} key without a name", e.role.label()),
    }
}

fn unknown_name(secret: &Secret, name: &str) -> KeysError {
    let names: Vec<&str> = secret.entries().filter_map(|e| e.name).collect();
    let suggestion = crate::rules::suggest(name, names.iter().copied())
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    let unnamed = secret.entries().filter(|e| e.name.is_none()).count();
    let mut named = if names.is_empty() {
        "the secret lists no named key".to_string()
    } else {
        format!("the names are `{}`", names.join("`, `"))
    };
    if unnamed > 0 {
        named.push_str(&format!(
            "; {unnamed} key(s) without a name can only be taken out by editing the secret"
        ));
    }
    KeysError::UnknownName {
        name: name.to_string(),
        suggestion,
        named,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::button::Email;
    use crate::idempotency::{IdempotencyKey, Marker};

    const KEY: &str = "NewKey0123456789abcdefghijklmnopqrstuvwxyzA";

    fn new_key() -> SecretString {
        SecretString::from(KEY)
    }

    fn button(name: &str, allow_from: &[IpNet], key: &SecretString) -> Result<Edited, KeysError> {
        NewKey {
            role: Role::Button,
            name,
            allow_from,
            customer: &KeyCustomer::default(),
            key,
        }
        .add_to(SECRET)
    }

    impl NewKey<'_> {
        fn add_to(&self, raw: &str) -> Result<Edited, KeysError> {
            add(raw, self)
        }
    }

    /// Every form the parser reads, in one secret: odd spacing, a field it does not know, a
    /// plain key, a named key, a comma-separated list.
    const SECRET: &str = r#"{ "credentials" : "C+u:pa:ss+word",
        "buttonKeys": ["plain-key", {"key": "named-key", "name": "kiosk", "allowFrom": "192.0.2.7"}],
        "markerKey":"0123456789abcdefXYZ",  "note": {"z": 1,   "a": [2]},
        "OperatorKeys": "op-one, op-two" }"#;

    fn marker(secret: &Secret) -> Marker {
        Marker::new(
            secret.marker_key(),
            &Email::parse("a@b.com").unwrap(),
            &IdempotencyKey::parse("k").unwrap(),
        )
    }

    fn text(e: &Edited) -> &str {
        e.text.expose_secret()
    }

    #[test]
    fn an_added_key_leaves_every_other_field_and_entry_as_it_was_written() {
        let edited = button("contoso", &[], &new_key()).unwrap();
        let t = text(&edited);
        for kept in [
            r#""credentials":"C+u:pa:ss+word""#,
            r#""markerKey":"0123456789abcdefXYZ""#,
            r#""note":{"z": 1,   "a": [2]}"#,
            r#""OperatorKeys":"op-one, op-two""#,
            r#""plain-key",{"key": "named-key", "name": "kiosk", "allowFrom": "192.0.2.7"}"#,
        ] {
            assert!(t.contains(kept), "{kept} in {t}");
        }
        let order: Vec<usize> = ["credentials", "buttonKeys", "markerKey", "note", "Operator"]
            .iter()
            .map(|f| t.find(f).unwrap())
            .collect();
        assert!(order.is_sorted(), "the fields keep their order: {t}");
        assert!(edited.notes.is_empty(), "{:?}", edited.notes);

        let s = &edited.secret;
        let named = |n: &str| {
            Some(KeyMatch {
                role: Role::Button,
                name: Some(n.into()),
                customer: Default::default(),
            })
        };
        assert_eq!(s.key_for(KEY, None), named("contoso"));
        assert_eq!(
            s.key_for("named-key", "192.0.2.7".parse().ok()),
            named("kiosk")
        );
        assert!(s.key_for("plain-key", None).is_some() && s.key_for("op-two", None).is_some());
        let before = Secret::parse(SECRET).unwrap();
        assert_eq!(s.credentials.password(), before.credentials.password());
        assert_eq!(marker(s), marker(&before));
    }

    #[test]
    fn the_listing_shows_a_customer_column_only_when_a_key_names_one() {
        let secret = read(
            r#"{"credentials":"C+u:p","buttonKeys":[
                {"key":"k1","name":"fabrikam","account":"Fabrikam Inc","createContacts":true},
                {"key":"k2","name":"northwind","account":2,"allowFrom":"192.0.2.7"},
                "k3"]}"#,
        )
        .unwrap();
        assert_eq!(
            listing(&secret),
            "NAME       ROLE      ALLOW FROM  CUSTOMER\n\
             fabrikam   button    anywhere    account `Fabrikam Inc`, creates contacts\n\
             northwind  button    192.0.2.7   account 2\n\
             (no name)  button    anywhere\n"
        );
    }

    #[test]
    fn a_customers_key_is_written_with_its_account_and_read_back() {
        let customer = KeyCustomer {
            account: Some(account_arg(" 12 ").unwrap()),
            create_contacts: true,
        };
        let edited = NewKey {
            role: Role::Button,
            name: "fabrikam",
            allow_from: &[],
            customer: &customer,
            key: &new_key(),
        }
        .add_to(SECRET)
        .unwrap();
        assert!(
            edited
                .text
                .expose_secret()
                .contains(r#""name":"fabrikam","account":12,"createContacts":true}"#),
            "written in the order the docs write it"
        );
        let found = edited.secret.key_for(KEY, None).unwrap();
        assert_eq!(found.customer, customer);
        assert_eq!(account_arg("Fabrikam Inc").unwrap(), "Fabrikam Inc");
        let err = account_arg("0").unwrap_err();
        assert!(
            err.starts_with("`--account 0`: `account` that is neither"),
            "{err}"
        );
    }

    #[test]
    fn an_operator_key_with_allow_from_works_only_from_there() {
        let nets = allow_from_arg("203.0.113.9/24, 2001:db8::1").unwrap();
        let key = new_key();
        let new = NewKey {
            role: Role::Operator,
            name: " tier2 ",
            allow_from: &nets,
            customer: &KeyCustomer::default(),
            key: &key,
        };
        let edited = new.add_to(SECRET).unwrap();
        assert!(
            text(&edited).contains(r#""OperatorKeys":["op-one","op-two",{"key":"#),
            "{}",
            text(&edited)
        );
        assert!(
            text(&edited)
                .contains(r#""name":"tier2","allowFrom":["203.0.113.0/24","2001:db8::1"]"#)
        );
        assert_eq!(
            edited.notes,
            [
                "`OperatorKeys` was one comma-separated string; it is now a list of the same keys, \
              so that the new key can carry its name"
            ]
        );
        let s = &edited.secret;
        let tier2 = Some(KeyMatch {
            role: Role::Operator,
            name: Some("tier2".into()),
            customer: Default::default(),
        });
        assert_eq!(s.key_for(KEY, "203.0.113.200".parse().ok()), tier2);
        assert_eq!(s.key_for(KEY, "2001:db8::1".parse().ok()), tier2);
        assert_eq!(s.key_for(KEY, "198.51.100.1".parse().ok()), None);
        assert_eq!(s.key_for(KEY, None), None);
    }

    #[test]
    fn the_plain_form_becomes_json_with_the_same_login_and_the_same_markers() {
        let plain = "  Contoso MSP+api.button:pa:ss+word ";
        let edited = NewKey {
            role: Role::Button,
            name: "first",
            allow_from: &[],
            customer: &KeyCustomer::default(),
            key: &new_key(),
        }
        .add_to(plain)
        .unwrap();
        assert_eq!(
            text(&edited),
            format!(
                r#"{{"credentials":"Contoso MSP+api.button:pa:ss+word","buttonKeys":[{{"key":"{KEY}","name":"first"}}]}}"#
            )
        );
        assert!(edited.notes[0].contains("plain `Company+username:password` form"));
        let before = Secret::parse(plain).unwrap();
        let after = &edited.secret;
        assert_eq!(after.credentials.tenant, before.credentials.tenant);
        assert_eq!(after.credentials.username, before.credentials.username);
        assert_eq!(after.credentials.password(), "pa:ss+word");
        assert_eq!(
            marker(after),
            marker(&before),
            "earlier presses' markers still match"
        );
    }

    #[test]
    fn a_name_is_taken_by_a_key_of_either_role_whatever_its_case() {
        let with_tier2 = r#"{"credentials":"C+u:p","operatorKeys":[{"key":"o","name":"tier2"}]}"#;
        let err = NewKey {
            role: Role::Button,
            name: "Tier2",
            allow_from: &[],
            customer: &KeyCustomer::default(),
            key: &new_key(),
        }
        .add_to(with_tier2)
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the name `Tier2` is taken by an operator key named `tier2` (names are compared \
             without regard to case): choose another name, or revoke that key first"
        );
    }

    #[test]
    fn a_change_the_function_could_not_read_is_refused_and_says_why() {
        for name in ["", "a\u{7}b", &"x".repeat(65)] {
            let err = button(name, &[], &new_key()).unwrap_err();
            assert!(matches!(err, KeysError::WouldBreak(_)), "{name:?}: {err}");
            let message = err.to_string();
            assert!(
                message.contains("has a `name` that is blank, longer than 64"),
                "{message}"
            );
            assert!(message.ends_with("Nothing was written"), "{message}");
        }
    }

    #[test]
    fn a_secret_the_function_cannot_read_is_not_edited() {
        let broken =
            r#"{"credentials":"C+u:p","buttonKeys":[{"key":"secretvalue","allowFrom":["nope"]}]}"#;
        let add_err = NewKey {
            role: Role::Button,
            name: "x",
            allow_from: &[],
            customer: &KeyCustomer::default(),
            key: &new_key(),
        }
        .add_to(broken)
        .unwrap_err();
        let revoke_err = revoke(broken, "x").unwrap_err();
        for err in [add_err, revoke_err] {
            assert!(matches!(err, KeysError::Unreadable(_)), "{err}");
            assert!(
                err.to_string()
                    .contains("`buttonKeys[0]` has an `allowFrom[0]`"),
                "{err}"
            );
            assert!(!err.to_string().contains("secretvalue"), "{err}");
        }
    }

    #[test]
    fn two_fields_the_function_would_read_one_of_are_refused() {
        let twice = r#"{"credentials":"C+u:p","buttonKeys":["a"],"ButtonKeys":["b"]}"#;
        let err = NewKey {
            role: Role::Button,
            name: "x",
            allow_from: &[],
            customer: &KeyCustomer::default(),
            key: &new_key(),
        }
        .add_to(twice)
        .unwrap_err();
        assert!(matches!(err, KeysError::TwoFields(..)), "{err}");
        assert!(
            err.to_string()
                .contains("both `buttonKeys` and `ButtonKeys`"),
            "{err}"
        );
    }

    #[test]
    fn revoke_takes_out_every_entry_of_that_name_and_nothing_else() {
        let raw = r#"{"credentials":"C+u:p",
            "buttonKeys":["plain", {"key":"k1","name":"contoso"}, {"Key":"k2", "Name":" contoso ", "allowFrom":"10.0.0.0/8"}, {"key":"k3","name":"fabrikam"}],
            "operatorKeys":"o1, o2"}"#;
        let revoked = revoke(raw, "contoso").unwrap();
        assert_eq!(revoked.removed, [Role::Button, Role::Button]);
        assert!(revoked.still_listed.is_empty());
        let t = text(&revoked.edited);
        assert!(
            t.contains(r#""buttonKeys":["plain",{"key":"k3","name":"fabrikam"}]"#),
            "{t}"
        );
        assert!(
            t.contains(r#""operatorKeys":"o1, o2""#),
            "untouched, form and all: {t}"
        );
        let s = &revoked.edited.secret;
        assert_eq!(s.key_for("k1", None), None);
        assert_eq!(s.key_for("k2", "10.1.1.1".parse().ok()), None);
        assert!(s.key_for("k3", None).is_some() && s.key_for("o2", None).is_some());
    }

    #[test]
    fn revoke_says_when_the_same_key_stays_listed_under_another_name() {
        let raw = r#"{"credentials":"C+u:p","buttonKeys":[
            {"key":"k","name":"office","allowFrom":["192.0.2.0/24"]},
            {"key":"k","name":"lab","allowFrom":["198.51.100.0/24"]}]}"#;
        let revoked = revoke(raw, "office").unwrap();
        assert_eq!(revoked.still_listed, ["a button key named `lab`"]);
    }

    #[test]
    fn an_unknown_name_lists_the_names_there_are() {
        let err = revoke(SECRET, "kiosc").unwrap_err().to_string();
        assert_eq!(
            err,
            "no key is named `kiosc` (did you mean `kiosk`?): the names are `kiosk`; 3 key(s) \
             without a name can only be taken out by editing the secret"
        );
        let err = revoke("C+u:p", "kiosk").unwrap_err().to_string();
        assert!(err.ends_with("the secret lists no named key"), "{err}");
    }

    #[test]
    fn allow_from_values_are_read_as_the_function_reads_them() {
        let nets = allow_from_arg("203.0.113.7,10.1.2.3/16 , 2001:db8::/48").unwrap();
        let shown: Vec<String> = nets.iter().map(show_net).collect();
        assert_eq!(shown, ["203.0.113.7", "10.1.0.0/16", "2001:db8::/48"]);
        for bad in ["10.0.0.300", "10.0.0.0/33", "", "example.com", "10.0.0.1,"] {
            let err = allow_from_arg(bad).unwrap_err();
            assert!(
                err.contains("is not an IPv4 or IPv6 address or CIDR block"),
                "{bad}: {err}"
            );
        }
        assert!(
            allow_from_arg("example.com")
                .unwrap_err()
                .starts_with("`example.com` (in")
        );
    }

    #[test]
    fn new_keys_are_long_letters_and_digits_and_differ() {
        let keys: Vec<String> = (0..200)
            .map(|_| super::new_key().unwrap().expose_secret().to_string())
            .collect();
        for k in &keys {
            assert_eq!(k.len(), NEW_KEY_CHARS, "{k}");
            assert!(k.bytes().all(|b| b.is_ascii_alphanumeric()), "{k}");
        }
        let distinct: std::collections::BTreeSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len());
        let used: std::collections::BTreeSet<u8> = keys.iter().flat_map(|k| k.bytes()).collect();
        assert_eq!(
            used.len(),
            KEY_ALPHABET.len(),
            "every letter and digit turns up"
        );
    }

    #[test]
    fn the_listing_shows_names_roles_and_places_and_never_a_key() {
        let listed = listing(&Secret::parse(SECRET).unwrap());
        assert_eq!(
            listed,
            "NAME       ROLE      ALLOW FROM\n\
             (no name)  button    anywhere\n\
             kiosk      button    192.0.2.7\n\
             (no name)  operator  anywhere\n\
             (no name)  operator  anywhere\n"
        );
        assert_eq!(
            summary(&Secret::parse(SECRET).unwrap()),
            "the BMS login of user `u` at `C`; 2 button keys (1 named), 2 operator keys (0 named)"
        );
    }
}
