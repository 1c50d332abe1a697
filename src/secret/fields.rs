//! The secret's JSON object field by field, in its order, each value as it was written: what
//! `button-keys` changes is one list, and everything else is written back as it was read.

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

use super::keys_edit::{Edited, KeysError};
use super::*;

/// The items of a key list: an array's items as written, or a comma-separated string's keys
/// (each a JSON string); nothing for `null`.
pub(super) fn list_items(value: &RawValue) -> Vec<Box<RawValue>> {
    if let Ok(items) = serde_json::from_str::<Vec<Box<RawValue>>>(value.get()) {
        return items;
    }
    match serde_json::from_str::<Option<String>>(value.get()) {
        Ok(Some(keys)) => keys
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(|k| raw_json(&Value::from(k)))
            .collect(),
        _ => Vec::new(),
    }
}

/// An entry `{"name": …, "key": …}`: its name and key, trimmed as the function reads them.
pub(super) fn named_entry(item: &RawValue) -> Option<(String, String)> {
    let Ok(Value::Object(entry)) = serde_json::from_str::<Value>(item.get()) else {
        return None;
    };
    let name = parse::json_field(&entry, "name")?
        .1
        .as_str()?
        .trim()
        .to_string();
    let key = parse::json_field(&entry, "key")?
        .1
        .as_str()?
        .trim()
        .to_string();
    Some((name, key))
}

pub(super) fn raw_json(value: &Value) -> Box<RawValue> {
    // A `Value` always serialises, and what serde_json writes it reads.
    serde_json::value::to_raw_value(value).unwrap_or_default()
}

/// The secret's top-level fields in their order, each value as it was written.
pub(super) struct Fields(pub(super) Vec<(String, Box<RawValue>)>);

impl Fields {
    /// The fields of `raw`, which [`Secret::parse`] has read. The plain form becomes a
    /// `credentials` field holding it, and `notes` says so.
    pub(super) fn of(raw: &str, notes: &mut Vec<String>) -> Result<Fields, KeysError> {
        let raw = raw.trim();
        if raw.starts_with('{') {
            return serde_json::from_str(raw).map_err(|e| {
                KeysError::Unreadable(SecretError::Format(format!(
                    "its JSON cannot be read field by field (line {}, column {})",
                    e.line(),
                    e.column()
                )))
            });
        }
        notes.push(
            "the secret was in the plain `Company+username:password` form; it is now JSON, \
             {\"credentials\": \"Company+username:password\", …}, with the login unchanged"
                .into(),
        );
        Ok(Fields(vec![(
            "credentials".into(),
            raw_json(&Value::from(raw)),
        )]))
    }

    /// Where the field `name` is, whatever its case. Two fields of that name would leave the
    /// function reading one and the edit changing the other: refused.
    pub(super) fn position(&self, name: &str) -> Result<Option<usize>, KeysError> {
        let mut found = self
            .0
            .iter()
            .enumerate()
            .filter(|(_, (n, _))| n.eq_ignore_ascii_case(name));
        let Some((i, (first, _))) = found.next() else {
            return Ok(None);
        };
        if let Some((_, (second, _))) = found.next() {
            return Err(KeysError::TwoFields(first.clone(), second.clone()));
        }
        Ok(Some(i))
    }

    /// The field at `at` made the list `items`, each item as it was written.
    pub(super) fn set(&mut self, at: usize, items: &[Box<RawValue>]) {
        let list = format!(
            "[{}]",
            items.iter().map(|i| i.get()).collect::<Vec<_>>().join(",")
        );
        if let (Some(field), Ok(value)) = (self.0.get_mut(at), RawValue::from_string(list)) {
            field.1 = value;
        }
    }

    /// The fields written as one JSON object, and read back as the function would.
    pub(super) fn read_back(self, notes: Vec<String>) -> Result<Edited, KeysError> {
        let mut text = String::from("{");
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(raw_json(&Value::from(name.as_str())).get());
            text.push(':');
            text.push_str(value.get());
        }
        text.push('}');
        let text = SecretString::from(text);
        let secret = Secret::parse(text.expose_secret()).map_err(KeysError::WouldBreak)?;
        Ok(Edited {
            text,
            secret,
            notes,
        })
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Fields, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Fields;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                let mut fields = Vec::new();
                while let Some(field) = map.next_entry::<String, Box<RawValue>>()? {
                    fields.push(field);
                }
                Ok(Fields(fields))
            }
        }
        d.deserialize_map(InOrder)
    }
}
