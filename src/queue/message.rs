//! The parked press as it travels on the queue: versioned JSON (`docs/parked-press.md`).
//!
//! It holds the press as the caller sent it *after* parsing, written back in the `POST /tickets`
//! JSON form, so that the replay parses what was already accepted once and cannot meet a new
//! parse error. It never holds a button key, a BMS password or a token: only the key's name.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::button::{Attachment, ButtonRequest, Text};
use crate::context::{Channel, Origin};
use crate::idempotency::{CallerScope, IdempotencyKey};
use crate::press::INTAKE_KEY_PREFIX;
use crate::wording::json_kind;

/// The version this function writes and the only one it reads.
pub const VERSION: u64 = 1;

/// A parked press, version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParkedPress {
    pub v: u64,
    /// When the button was pressed: the replay's clock and the ticket's open date.
    pub pressed_at: DateTime<Utc>,
    /// The name of the key the caller presented; never the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// A digest of the key the caller presented (never the key): the replay marks the ticket
    /// as that caller's, so that only its repeats find it. Absent: no key was presented, or the
    /// press was parked before presses were kept apart by key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub caller: String,
    /// Which way the press came in: the replay files it as it came.
    #[serde(default)]
    pub channel: Channel,
    /// The address API Gateway saw the press come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_ip: Option<std::net::IpAddr>,
    /// The `account` of the key the press came with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Value>,
    /// The `createContacts` of the key the press came with.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create_contacts: bool,
    /// The client's `Idempotency-Key`, or one made at intake (`intake-…`): its hash marks the
    /// ticket, so that every try of this press files one ticket.
    pub idempotency_key: String,
    /// Why BMS could not take it at intake (the 503 it would otherwise have been answered).
    pub parked_because: String,
    /// The press in the `POST /tickets` JSON form.
    pub press: Value,
}

/// A parked press, read back and checked: what the replay files.
#[derive(Debug)]
pub struct Replayable {
    pub parked: ParkedPress,
    pub button: ButtonRequest,
    pub key: IdempotencyKey,
}

/// Why a message cannot be replayed, whatever happens to BMS: it goes to the dead-letter queue,
/// where an operator can read it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Poison(pub String);

impl ParkedPress {
    pub fn new(
        button: &ButtonRequest,
        pressed_at: DateTime<Utc>,
        key: &IdempotencyKey,
        key_name: Option<String>,
        caller: &CallerScope,
        origin: Origin,
        parked_because: String,
    ) -> ParkedPress {
        ParkedPress {
            v: VERSION,
            pressed_at,
            key_name,
            caller: caller.as_str().to_string(),
            channel: origin.channel,
            caller_ip: origin.caller_ip,
            account: origin.account,
            create_contacts: origin.create_contacts,
            idempotency_key: key.as_str().to_string(),
            parked_because,
            press: press_json(button),
        }
    }

    /// Whether the key was the client's own `Idempotency-Key`, rather than made at intake.
    pub fn key_from_client(&self) -> bool {
        !self.idempotency_key.starts_with(INTAKE_KEY_PREFIX)
    }

    /// Read a message body: JSON, a version this function knows, a press that parses.
    pub fn read(body: &str) -> Result<Replayable, Poison> {
        let value: Value = serde_json::from_str(body)
            .map_err(|e| Poison(format!("the message is not JSON ({e})")))?;
        let version = match value.get("v") {
            Some(Value::Number(n)) => n.as_u64(),
            _ => None,
        };
        match version {
            Some(VERSION) => {}
            Some(v) => {
                return Err(Poison(format!(
                    "the message is version {v}; this function reads version {VERSION} only: \
                     replay it with the function that parked it, or a later one"
                )));
            }
            None => {
                return Err(Poison(format!(
                    "the message has no version `v` (found {}): it is not a parked press",
                    value.get("v").map_or("nothing", json_kind)
                )));
            }
        }
        let parked: ParkedPress = serde_json::from_value(value)
            .map_err(|e| Poison(format!("the message is not a parked press: {e}")))?;
        let button = ButtonRequest::parse(
            Some("application/json"),
            parked.press.to_string().as_bytes(),
        )
        .map_err(|e| Poison(format!("the parked press does not parse: {e}")))?;
        let key = IdempotencyKey::parse(&parked.idempotency_key)
            .map_err(|e| Poison(format!("the parked press's idempotencyKey: {e}")))?;
        check_pressed_at(parked.pressed_at, Utc::now())?;
        Ok(Replayable {
            parked,
            button,
            key,
        })
    }
}

/// The earliest press time a parked press can have: nothing was pressed before this function
/// existed, and the replay counts back from the press time (a time near the calendar's edge
/// would overflow).
const EARLIEST_PRESS: &str = "2020-01-01T00:00:00Z";

/// A press time the function can have written: not before [`EARLIEST_PRESS`], and not more
/// than a day after `now` (clocks drift, but not by days).
fn check_pressed_at(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Poison> {
    let earliest = DateTime::parse_from_rfc3339(EARLIEST_PRESS).map(|t| t.to_utc());
    let latest = now.checked_add_signed(chrono::Duration::days(1));
    match (earliest, latest) {
        (Ok(earliest), Some(latest)) if at >= earliest && at <= latest => Ok(()),
        _ => Err(Poison(format!(
            "pressedAt {} is not a time this function parked a press at (it must be after \
             {EARLIEST_PRESS} and not in the future)",
            at.to_rfc3339()
        ))),
    }
}

/// The press in the `POST /tickets` JSON form, every field it holds written out: parsing it
/// gives the same press back. Destructured without `..`, so that a new field cannot be left
/// out silently.
pub fn press_json(button: &ButtonRequest) -> Value {
    let ButtonRequest {
        email,
        message,
        title,
        name,
        selections,
        hostname,
        ip,
        mac,
        append,
        business,
        phone,
        attachments,
    } = button;
    let mut out = Map::new();
    out.insert("email".into(), email.as_str().into());
    out.insert("message".into(), message.as_str().into());
    out.insert("title".into(), title.as_str().into());
    let optional = [
        ("name", name),
        ("hostname", hostname),
        ("ip", ip),
        ("mac", mac),
        ("append", append),
        ("business", business),
        ("phone", phone),
    ];
    for (field, value) in optional {
        if let Some(text) = value.as_ref().map(Text::as_str) {
            out.insert(field.into(), text.into());
        }
    }
    if !selections.is_empty() {
        out.insert("selections".into(), json!(selections));
    }
    if !attachments.is_empty() {
        let files: Vec<Value> = attachments.iter().map(attachment_json).collect();
        out.insert("attachments".into(), Value::Array(files));
    }
    Value::Object(out)
}

fn attachment_json(a: &Attachment) -> Value {
    json!({"name": a.name, "contentType": a.content_type, "data": a.base64})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(body: Value) -> ButtonRequest {
        ButtonRequest::parse(Some("application/json"), body.to_string().as_bytes()).unwrap()
    }

    fn key(k: &str) -> IdempotencyKey {
        IdempotencyKey::parse(k).unwrap()
    }

    #[test]
    fn a_press_written_out_parses_back_to_itself() {
        let full = press(json!({
            "email": " Dan.Jump@fabrikam.com ",
            "message": "Printer\u{1b}[0m jammed\n",
            "name": "Dan Jump",
            "selections": "Printer, , This is an emergency",
            "hostname": "PC-042", "ip": "10.0.0.5", "mac": "00-11-22-33-44-55",
            "append": "ipconfig output", "business": "Fabrikam", "phone": "555",
            "attachments": [{"name": "shot.png", "contentType": "image/png", "data": "iVBO Rw0K"}],
        }));
        let minimal = press(json!({"email": "a@b.com", "message": "Hi"}));
        for b in [full, minimal] {
            assert_eq!(press(press_json(&b)), b);
        }
    }

    #[test]
    fn a_message_reads_back_with_its_press_and_key() {
        let b = press(json!({"email": "a@b.com", "message": "Hi", "selections": ["X"]}));
        let at = DateTime::parse_from_rfc3339("2026-11-26T22:15:00Z")
            .unwrap()
            .to_utc();
        let caller = CallerScope::of_key("the-caller's-key");
        let parked = ParkedPress::new(
            &b,
            at,
            &key("k-1"),
            Some("tier2".into()),
            &caller,
            Origin {
                channel: Channel::Web,
                caller_ip: "203.0.113.9".parse().ok(),
                account: Some("Fabrikam Inc".into()),
                create_contacts: true,
            },
            "down".into(),
        );
        let body = serde_json::to_string(&parked).unwrap();
        let back = ParkedPress::read(&body).unwrap();
        assert_eq!(back.button, b);
        assert_eq!(back.key, key("k-1"));
        assert_eq!(back.parked, parked);
        assert!(parked.key_from_client());
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["v"], 1);
        assert_eq!(v["pressedAt"], "2026-11-26T22:15:00Z");
        assert_eq!(v["keyName"], "tier2");
        assert_eq!(v["channel"], "web");
        assert_eq!(v["callerIp"], "203.0.113.9");
        assert_eq!(v["account"], "Fabrikam Inc");
        assert_eq!(v["createContacts"], true);
        assert_eq!(v["caller"], caller.as_str());
        assert!(!body.contains("the-caller's-key"), "never the key itself");
        assert_eq!(v["idempotencyKey"], "k-1");
        assert_eq!(v["press"]["title"], "Hi");
    }

    /// A press time at the calendar's edge would make the replay's arithmetic overflow: such a
    /// record is poison, read as such, and no panic.
    #[test]
    fn a_press_time_no_press_can_have_is_poison() {
        let b = press(json!({"email": "a@b.com", "message": "Hi"}));
        let parked = |at: &str| {
            let mut v = serde_json::to_value(ParkedPress::new(
                &b,
                Utc::now(),
                &key("k"),
                None,
                &CallerScope::default(),
                Origin::default(),
                "down".into(),
            ))
            .unwrap();
            v["pressedAt"] = at.into();
            v.to_string()
        };
        for at in [
            "-262143-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "+262142-12-31T00:00:00Z",
        ] {
            let poison = ParkedPress::read(&parked(at)).unwrap_err().0;
            assert!(
                poison.contains("not a time this function parked"),
                "{at}: {poison}"
            );
        }
        assert!(ParkedPress::read(&parked(&Utc::now().to_rfc3339())).is_ok());
    }

    #[test]
    fn poison_says_what_is_wrong() {
        let poison = |body: &str| ParkedPress::read(body).unwrap_err().0;
        assert!(poison("not json").contains("not JSON"));
        assert!(poison("{}").contains("no version `v`"));
        assert!(poison(r#"{"v": "1"}"#).contains("found a string"));
        let v2 = poison(r#"{"v": 2, "press": {}}"#);
        assert!(
            v2.contains("version 2") && v2.contains("version 1 only"),
            "{v2}"
        );
        assert!(poison(r#"{"v": 1}"#).contains("not a parked press"));
        let bad_press = json!({"v": 1, "pressedAt": "2026-11-26T22:15:00Z",
            "idempotencyKey": "k", "parkedBecause": "down", "press": {"email": "nobody"}});
        assert!(poison(&bad_press.to_string()).contains("does not parse"));
        let bad_key = json!({"v": 1, "pressedAt": "2026-11-26T22:15:00Z",
            "idempotencyKey": "", "parkedBecause": "down",
            "press": {"email": "a@b.com", "message": "Hi"}});
        assert!(poison(&bad_key.to_string()).contains("idempotencyKey"));
    }
}
