//! The document's JSON: parsed with every key given twice noted (serde_json keeps the last one
//! silently), and syntax errors told as a person can act on them.

use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::rules::place::short;

/// Parse JSON, noting every key that appears twice in one object (serde_json keeps the last one
/// silently). A duplicate is reported as `path\0key`.
pub(super) fn read_json(text: &str) -> Result<(Value, Vec<String>), String> {
    if text.trim().is_empty() {
        return Err(
            "the rules document is empty: write {} for no rules, or leave BUTTON_RULES unset"
                .into(),
        );
    }
    let duplicates = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Seed {
        path: String::new(),
        duplicates: &duplicates,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v))
    .map_err(|e| json_problem(text, &e))?;
    Ok((value, duplicates.into_inner()))
}

fn json_problem(text: &str, e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let msg = full.strip_suffix(&suffix).unwrap_or(&full);
    let mut hint = "";
    if msg.contains("trailing comma") {
        hint = ": remove the comma after the last item";
    } else if msg.contains("key must be a string") {
        hint = ": JSON keys need double quotes, e.g. \"when\"";
    } else if msg.contains("expected value") && text.contains('\'') && !text.contains('"') {
        hint = ": JSON strings need double quotes; single quotes belong inside CEL expressions";
    } else if msg.contains("control character") {
        hint = ": write a line break inside a string as \\n";
    } else if msg.contains("EOF while parsing") {
        hint = ": a `}`, `]` or `\"` is missing at the end";
    } else if msg.contains("trailing characters") {
        hint = ": there is more after the end of the document; is a `{` missing at the start, or a `}` extra?";
    }
    let line = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
    let excerpt = if line.trim().is_empty() {
        String::new()
    } else {
        format!(" (near `{}`)", short(line.trim()))
    };
    format!(
        "invalid JSON at line {}, column {}{excerpt}: {msg}{hint}",
        e.line(),
        e.column()
    )
}

struct Seed<'a> {
    path: String,
    duplicates: &'a RefCell<Vec<String>>,
}

impl Seed<'_> {
    fn child(&self, step: &str) -> Self {
        Seed {
            path: format!("{}{step}", self.path),
            duplicates: self.duplicates,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child(&format!("[{}]", items.len())))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let step = if self.path.is_empty() {
                key.clone()
            } else {
                format!(".{key}")
            };
            let value = access.next_value_seed(self.child(&step))?;
            if map.insert(key.clone(), value).is_some() {
                self.duplicates
                    .borrow_mut()
                    .push(format!("{}\u{0}{key}", self.path));
            }
        }
        Ok(Value::Object(map))
    }
}
