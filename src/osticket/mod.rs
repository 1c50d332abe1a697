//! osTicket's ticket API body (`POST /api/tickets.json`), as hosted button services, live-chat
//! tools and osTicket's own client scripts send it, read into a [`ButtonRequest`].
//!
//! The body is JSON whatever its `Content-Type` says (osTicket's PHP client labels it a form).
//! Its fields are translated into the button API's and checked by the same parser, so the
//! limits are the same: `subject` becomes `title`, a data-URL `message` becomes text, and
//! attachments in osTicket's two forms become `{name, contentType, data}`.

pub mod data_url;
pub mod html;

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::button::{ButtonRequest, MAX_BODY_BYTES, RequestError, base_name};
use crate::idempotency::IdempotencyKey;
use crate::wording::json_kind;

/// Fields taken over under the same name: the person, and what the button API knows of their
/// computer. osTicket's `priority`, `source`, `topicId`, `alert` and `autorespond` mean nothing
/// to BMS and, like any other field, are accepted and left aside.
const SAME_NAME: [&str; 6] = ["name", "ip", "phone", "hostname", "mac", "selections"];

/// Read an osTicket ticket body. Errors name osTicket's field (`subject`, not `title`).
pub fn parse(body: &[u8]) -> Result<ButtonRequest, RequestError> {
    let mut fields = json_object(body)?;
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    out.insert("email".into(), required(&mut fields, "email")?);
    out.insert("title".into(), required(&mut fields, "subject")?);
    let message = required(&mut fields, "message")?;
    out.insert("message".into(), message_text(message)?);
    for name in SAME_NAME {
        if let Some(v) = fields.remove(name) {
            out.insert(name.into(), v);
        }
    }
    if let (Some(Value::String(phone)), Some(ext)) = (out.get("phone"), fields.get("phone_ext")) {
        let phone = with_extension(phone, ext);
        out.insert("phone".into(), phone.into());
    }
    if let Some(v) = fields.remove("attachments") {
        out.insert("attachments".into(), attachments(v)?);
    }
    ButtonRequest::from_fields(out).map_err(|e| match e {
        RequestError::Invalid {
            field: "title",
            reason,
        } => RequestError::Invalid {
            field: "subject",
            reason,
        },
        other => other,
    })
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, RequestError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(RequestError::TooLarge { size: body.len() });
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(RequestError::Malformed(format!(
            "the body must be a JSON object such as {{\"email\": …, \"subject\": …, \
             \"message\": …}}, not {}",
            json_kind(&other)
        ))),
        Err(e) => Err(RequestError::Malformed(format!(
            "the body is not valid JSON ({e}): /api/tickets.json takes osTicket's JSON format, \
             whatever the Content-Type"
        ))),
    }
}

/// osTicket's `phone_ext`, written the way its `phone` may embed one: `318-555-8634 x123`.
fn with_extension(phone: &str, ext: &Value) -> String {
    let ext = match ext {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    if ext.is_empty() {
        phone.to_string()
    } else {
        format!("{phone} x{ext}")
    }
}

fn required(fields: &mut Map<String, Value>, field: &'static str) -> Result<Value, RequestError> {
    match fields.remove(field) {
        None | Some(Value::Null) => Err(RequestError::Invalid {
            field,
            reason: "is required".into(),
        }),
        Some(v) => Ok(v),
    }
}

/// The message as text: a plain string as it is, a `text/plain` or `text/html` data URL
/// decoded (and HTML made readable).
fn message_text(message: Value) -> Result<Value, RequestError> {
    let invalid = |reason: String| RequestError::Invalid {
        field: "message",
        reason,
    };
    let Value::String(raw) = message else {
        return Err(invalid(format!(
            "must be a string, not {}",
            json_kind(&message)
        )));
    };
    if !data_url::is_data_url(&raw) {
        return Ok(Value::String(raw));
    }
    let url = data_url::parse(&raw).map_err(invalid)?;
    let text = data_url::text(&url.data, url.charset.as_deref()).map_err(invalid)?;
    let text = match url.media_type.as_str() {
        "text/plain" => text,
        "text/html" => html::to_text(&text).map_err(invalid)?,
        other => {
            return Err(invalid(format!(
                "is a data URL of type `{other}`: send text/plain or text/html"
            )));
        }
    };
    Ok(Value::String(text))
}

/// osTicket's attachments as the button API's `[{name, contentType, data}]`, data in base64.
fn attachments(v: Value) -> Result<Value, RequestError> {
    let items = match v {
        Value::Null => return Ok(Value::Null),
        Value::Array(items) => items,
        other => {
            return Err(RequestError::Invalid {
                field: "attachments",
                reason: format!(
                    "must be a list such as [{{\"file.txt\": \"data:text/plain,content\"}}], \
                     not {}",
                    json_kind(&other)
                ),
            });
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            attachment(item).map_err(|reason| RequestError::Invalid {
                field: "attachments",
                reason: format!("[{i}]: {reason}"),
            })
        })
        .collect::<Result<Vec<Value>, _>>()
        .map(Value::Array)
}

/// `{"file.txt": "data:…"}`, or `{"name", "type", "data", "encoding"}` (osTicket's XML form).
fn attachment(item: Value) -> Result<Value, String> {
    let Value::Object(map) = item else {
        return Err(format!(
            "must be an object such as {{\"file.txt\": \"data:text/plain,content\"}}, not {}",
            json_kind(&item)
        ));
    };
    let file = if map.contains_key("data") {
        File::from_object(map)?
    } else {
        File::from_named_data_url(map)?
    };
    let (content_type, base64) = match file.content {
        Content::DataUrl(url) => {
            let url = data_url::parse(&url)
                .map_err(|e| format!("the data of `{}` {e}", base_name(&file.name)))?;
            (Some(url.media_type), STANDARD.encode(&url.data))
        }
        // The button API's parser checks it, and says so when it is not base64.
        Content::Base64(b64) => (None, b64),
        Content::Raw(text) => (None, STANDARD.encode(text.as_bytes())),
    };
    let content_type = file
        .declared_type
        .filter(|t| !t.trim().is_empty())
        .or(content_type)
        .unwrap_or_else(|| data_url::DEFAULT_MEDIA_TYPE.into());
    let mut out = Map::new();
    out.insert("name".into(), file.name.into());
    out.insert("contentType".into(), content_type.into());
    out.insert("data".into(), base64.into());
    Ok(Value::Object(out))
}

/// An attachment as sent, before its content is decoded.
struct File {
    name: String,
    declared_type: Option<String>,
    content: Content,
}

enum Content {
    DataUrl(String),
    Base64(String),
    Raw(String),
}

impl File {
    /// `{"name", "type", "data", "encoding"}`: `data` is a data URL, base64 with
    /// `"encoding": "base64"`, or else the text itself.
    fn from_object(mut map: Map<String, Value>) -> Result<File, String> {
        let mut text = |key: &str| match map.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!(
                "`{key}` must be a string, not {}",
                json_kind(&other)
            )),
        };
        let name = text("name")?.unwrap_or_default();
        let declared_type = text("type")?;
        let data = text("data")?.unwrap_or_default();
        let encoding = text("encoding")?.unwrap_or_default();
        let content = if data_url::is_data_url(&data) {
            Content::DataUrl(data)
        } else if encoding.trim().eq_ignore_ascii_case("base64") {
            Content::Base64(data)
        } else if encoding.trim().is_empty() {
            Content::Raw(data)
        } else {
            return Err(format!(
                "`encoding` is `{encoding}`: use `base64`, or leave it out for text"
            ));
        };
        Ok(File {
            name,
            declared_type,
            content,
        })
    }

    /// `{"file.txt": "data:text/plain;charset=utf-8,content"}`.
    fn from_named_data_url(map: Map<String, Value>) -> Result<File, String> {
        let mut entries = map.into_iter();
        let (Some((name, url)), None) = (entries.next(), entries.next()) else {
            return Err(
                "must be {\"<file name>\": \"data:<type>[;base64],<data>\"} or {\"name\", \
                 \"type\", \"data\", \"encoding\"}"
                    .into(),
            );
        };
        let Value::String(url) = url else {
            return Err(format!(
                "the data of `{}` must be a data URL string, not {}",
                base_name(&name),
                json_kind(&url)
            ));
        };
        Ok(File {
            name,
            declared_type: None,
            content: Content::DataUrl(url),
        })
    }
}

/// The key a request without an `Idempotency-Key` is known by: a hash of what makes it the
/// same ticket (e-mail, ignoring case; subject; message; attachment names). A repeat of it
/// within `OSTICKET_DEDUPE_MINUTES` answers the first ticket, as a client's key would.
pub fn implicit_key(button: &ButtonRequest) -> IdempotencyKey {
    let mut hash = Sha256::new();
    let email = button.email.as_str().to_ascii_lowercase();
    let names = button.attachments.iter().map(|a| a.name.as_str());
    let parts = [
        email.as_str(),
        button.title.as_str(),
        button.message.as_str(),
    ]
    .into_iter()
    .chain(names);
    // Each part with its length, so no two splits of the same characters hash alike.
    for part in parts {
        hash.update(part.len().to_string().as_bytes());
        hash.update(b":");
        hash.update(part.as_bytes());
    }
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    // 72 characters of hex and a prefix: always a valid key.
    IdempotencyKey::parse(&format!("content-{hex}"))
        .unwrap_or_else(|e| unreachable!("a hex digest is a valid key: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_json(v: Value) -> Result<ButtonRequest, RequestError> {
        parse(v.to_string().as_bytes())
    }

    fn field_of<T: std::fmt::Debug>(r: Result<T, RequestError>) -> &'static str {
        match r {
            Err(RequestError::Invalid { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn documentation_example() {
        let r = parse_json(json!({
            "alert": true, "autorespond": true, "source": "API",
            "name": "Angry User", "email": "api@osticket.com", "phone": "3185558634X123",
            "subject": "Testing API", "ip": "123.211.233.122",
            "message": "data:text/html,MESSAGE <b>HERE</b>",
            "priority": 2, "topicId": 1, "unknown": {"x": 1},
            "attachments": [
                {"file.txt": "data:text/plain;charset=utf-8,content"},
                {"image.png": "data:image/png;base64,iVBORw0KGgo="},
            ],
        }))
        .unwrap();
        assert_eq!(r.email.as_str(), "api@osticket.com");
        assert_eq!(r.title.as_str(), "Testing API");
        assert_eq!(r.message.as_str(), "MESSAGE HERE");
        assert_eq!(r.name.unwrap().as_str(), "Angry User");
        assert_eq!(r.phone.unwrap().as_str(), "3185558634X123");
        assert_eq!(r.ip.unwrap().as_str(), "123.211.233.122");
        let a = &r.attachments;
        assert_eq!(
            (a[0].name.as_str(), a[0].content_type.as_str()),
            ("file.txt", "text/plain")
        );
        assert_eq!(STANDARD.decode(&a[0].base64).unwrap(), b"content");
        assert_eq!(
            (a[1].name.as_str(), a[1].content_type.as_str()),
            ("image.png", "image/png")
        );
        assert_eq!(STANDARD.decode(&a[1].base64).unwrap(), b"\x89PNG\r\n\x1a\n");
    }

    #[test]
    fn object_attachments_and_phone_extension() {
        let r = parse_json(json!({
            "email": "a@b.com", "subject": "s", "message": "m",
            "phone": "318-555-8634", "phone_ext": 123,
            "hostname": "PC-1", "selections": ["Email"],
            "attachments": [
                {"name": "a.txt", "data": "plain text"},
                {"name": "b.gif", "type": "image/gif", "data": "R0lG\nODdh", "encoding": "base64"},
                {"name": "c.txt", "data": "data:text/plain,c%20d"},
            ],
        }))
        .unwrap();
        assert_eq!(r.phone.unwrap().as_str(), "318-555-8634 x123");
        assert_eq!(r.hostname.unwrap().as_str(), "PC-1");
        assert_eq!(r.selections, ["Email"]);
        let a = &r.attachments;
        assert_eq!(STANDARD.decode(&a[0].base64).unwrap(), b"plain text");
        assert_eq!(a[0].content_type, "text/plain");
        assert_eq!(STANDARD.decode(&a[1].base64).unwrap(), b"GIF87a");
        assert_eq!(a[1].content_type, "image/gif");
        assert_eq!(STANDARD.decode(&a[2].base64).unwrap(), b"c d");
    }

    #[test]
    fn messages_in_each_form() {
        let message = |m: &str| {
            parse_json(json!({"email": "a@b.com", "subject": "s", "message": m}))
                .map(|r| r.message.as_str().to_string())
        };
        assert_eq!(
            message("Printer <b>jammed</b>").unwrap(),
            "Printer <b>jammed</b>"
        );
        assert_eq!(
            message("data:text/plain,Printer%20jammed").unwrap(),
            "Printer jammed"
        );
        assert_eq!(message("data:,Printer%20jammed").unwrap(), "Printer jammed");
        assert_eq!(
            message("data:text/plain;base64,w4ljcmFuIG5vaXI=").unwrap(),
            "Écran noir"
        );
        assert_eq!(
            message("data:text/plain,%C9cran%20noir").unwrap(),
            "Écran noir"
        );
        assert_eq!(
            message("data:text/plain;charset=iso-8859-1;base64,yWNyYW4gbm9pcg==").unwrap(),
            "Écran noir"
        );
        assert_eq!(
            message("data:text/html;charset=utf-8,<p>a</p><p>b&amp;c</p>").unwrap(),
            "a\n\nb&c"
        );
        assert_eq!(field_of(message("data:image/png;base64,AAAA")), "message");
        assert_eq!(field_of(message("data:text/plain;base64,@@")), "message");
        assert_eq!(field_of(message("data:text/html,<p> </p>")), "message");
    }

    #[test]
    fn bad_bodies_name_osticket_fields() {
        let field = |v: Value| field_of(parse_json(v));
        assert_eq!(field(json!({"subject": "s", "message": "m"})), "email");
        assert_eq!(
            field(json!({"email": "a@b.com", "message": "m"})),
            "subject"
        );
        assert_eq!(
            field(json!({"email": "a@b.com", "subject": 5, "message": "m"})),
            "subject"
        );
        assert_eq!(
            field(json!({"email": "a@b.com", "subject": "s"})),
            "message"
        );
        assert_eq!(
            field(json!({"email": "a@b.com", "subject": "s", "message": 1})),
            "message"
        );
        let attachment = |a: Value| {
            field(json!({"email": "a@b.com", "subject": "s", "message": "m", "attachments": a}))
        };
        assert_eq!(attachment(json!({"a.txt": "data:,x"})), "attachments");
        assert_eq!(attachment(json!([{"a.txt": 5}])), "attachments");
        assert_eq!(
            attachment(json!([{"a.txt": "data:,x", "b": 1}])),
            "attachments"
        );
        assert_eq!(
            attachment(json!([{"a.txt": "data:;base64,@"}])),
            "attachments"
        );
        assert_eq!(attachment(json!([{"a.txt": "data:,"}])), "attachments");
        assert_eq!(
            attachment(json!([{"name": "a", "data": "x", "encoding": "uu"}])),
            "attachments"
        );
        assert!(matches!(parse(b"email=a"), Err(RequestError::Malformed(_))));
        assert!(matches!(parse(b"[1]"), Err(RequestError::Malformed(_))));
    }

    #[test]
    fn attachment_names_lose_invisible_characters_in_both_forms_and_in_errors() {
        let r = parse_json(json!({"email": "a@b.com", "subject": "s", "message": "m",
        "attachments": [
            {"invoice\u{202e}gnp.exe": "data:,x"},
            {"name": "notes.txt\u{200b}. ", "data": "x"},
            {"\u{2067}": "data:,x"},
        ]}))
        .unwrap();
        let names: Vec<&str> = r.attachments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["invoicegnp.exe", "notes.txt", "attachment"]);
        let e = parse_json(json!({"email": "a@b.com", "subject": "s", "message": "m",
            "attachments": [{"evil\u{202e}txt.exe": "data:;base64,@"}]}))
        .unwrap_err();
        let RequestError::Invalid { reason, .. } = e else {
            panic!("expected a field error, got {e:?}");
        };
        assert!(reason.contains("`eviltxt.exe`"), "{reason}");
    }

    #[test]
    fn implicit_key_follows_the_content() {
        let body = |subject: &str, email: &str| {
            parse_json(json!({"email": email, "subject": subject, "message": "m",
                "attachments": [{"a.txt": "data:,x"}]}))
            .unwrap()
        };
        let k = implicit_key(&body("s", "a@b.com"));
        assert_eq!(k, implicit_key(&body("s", "A@B.com")));
        assert_ne!(k, implicit_key(&body("t", "a@b.com")));
        let other_file = parse_json(json!({"email": "a@b.com", "subject": "s", "message": "m",
            "attachments": [{"b.txt": "data:,x"}]}))
        .unwrap();
        assert_ne!(k, implicit_key(&other_file));
    }
}
