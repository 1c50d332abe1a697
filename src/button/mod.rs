//! The inbound button request: parsed once into types that cannot hold invalid data.
//!
//! Both JSON and `application/x-www-form-urlencoded` bodies arrive here (PowerShell's
//! `Invoke-RestMethod -Body @{...}` and plain HTML forms send the latter). Unknown fields are
//! ignored so that newer button clients keep working against an older function.

mod attachment;
mod note;
mod text;

use std::collections::BTreeMap;

use serde_json::Value;

pub use attachment::Attachment;
use attachment::attachments;
pub(crate) use attachment::base_name;
#[cfg(test)]
use attachment::media_type_essence;
pub use note::NoteRequest;
use text::cleaned;
pub use text::{Email, Text, one_line};

use crate::wording::json_kind;

/// Lambda's own payload limit; API Gateway refuses larger bodies before we see them, but a
/// direct invocation does not.
pub const MAX_BODY_BYTES: usize = 6 * 1024 * 1024;
/// Each text field; keeps one runaway script output from filling a ticket.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;
/// Attachments per request: a button sends a screenshot or two; more is a runaway client.
pub const MAX_ATTACHMENTS: usize = 10;
/// Decoded size of each attachment. Base64 makes it a third larger in the body, so one of this
/// size still fits the 6 MB body limit.
pub const MAX_ATTACHMENT_BYTES: usize = 4 * 1024 * 1024;
/// Length of the title made from the message when the request has none.
pub const DEFAULT_TITLE_CHARS: usize = 50;

/// Why a request body could not become a [`ButtonRequest`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the body is {size} bytes; at most {MAX_BODY_BYTES} bytes are accepted")]
    TooLarge { size: usize },
    #[error(
        "content type `{0}` is not accepted: send `application/json` or `application/x-www-form-urlencoded`"
    )]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Malformed(String),
    #[error("field `{field}`: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl RequestError {
    fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        RequestError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

/// A button press, every field checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ButtonRequest {
    pub email: Email,
    pub message: Text,
    pub title: Text,
    pub name: Option<Text>,
    pub selections: Vec<String>,
    pub hostname: Option<Text>,
    pub ip: Option<Text>,
    pub mac: Option<Text>,
    pub append: Option<Text>,
    pub business: Option<Text>,
    pub phone: Option<Text>,
    pub attachments: Vec<Attachment>,
}

/// The media types we take, from a `Content-Type` header value.
fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

impl ButtonRequest {
    /// Parse a body of the given content type. A missing content type is taken as JSON when the
    /// body looks like JSON (curl users forget the header), else as a form.
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Self, RequestError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(RequestError::TooLarge { size: body.len() });
        }
        let media = match content_type {
            Some(ct) => media_type(ct),
            None if body.trim_ascii_start().starts_with(b"{") => "application/json".into(),
            None => "application/x-www-form-urlencoded".into(),
        };
        let fields = match media.as_str() {
            "application/json" | "text/json" => json_fields(body)?,
            m if m.ends_with("+json") => json_fields(body)?,
            "application/x-www-form-urlencoded" => form_fields(body)?,
            other => return Err(RequestError::UnsupportedMediaType(other.to_string())),
        };
        Self::from_fields(fields)
    }

    /// Check fields already taken out of a body (another API's, translated to these names).
    pub(crate) fn from_fields(mut f: BTreeMap<String, Value>) -> Result<Self, RequestError> {
        let email_raw =
            string(&f, "email")?.ok_or_else(|| RequestError::invalid("email", "is required"))?;
        let email = Email::parse(&email_raw).map_err(|r| RequestError::invalid("email", r))?;
        let message = text(&f, "message")?
            .ok_or_else(|| RequestError::invalid("message", "is required and must not be blank"))?;
        let title = match line(&f, "title")? {
            Some(t) => t,
            None => Text(default_title(message.as_str())),
        };
        let selections = selections(f.remove("selections"))?;
        let attachments = attachments(f.remove("attachments"))?;
        Ok(ButtonRequest {
            email,
            title,
            message,
            name: line(&f, "name")?,
            selections,
            hostname: line(&f, "hostname")?,
            ip: line(&f, "ip")?,
            mac: line(&f, "mac")?,
            append: text(&f, "append")?,
            business: line(&f, "business")?,
            phone: line(&f, "phone")?,
            attachments,
        })
    }
}

fn json_fields(body: &[u8]) -> Result<BTreeMap<String, Value>, RequestError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map.into_iter().collect()),
        Ok(_) => Err(RequestError::Malformed(
            "the JSON body must be an object such as {\"email\": ..., \"message\": ...}".into(),
        )),
        Err(e) => Err(RequestError::Malformed(format!(
            "the body is not valid JSON: {e}"
        ))),
    }
}

/// Form fields as JSON strings; `selections` may repeat (`selections=a&selections=b`, or with
/// PHP-style `selections[]`), every other field keeps its last value.
fn form_fields(body: &[u8]) -> Result<BTreeMap<String, Value>, RequestError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| RequestError::Malformed(format!("the form body cannot be decoded: {e}")))?;
    let mut out = BTreeMap::new();
    let mut selections = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "selections" | "selections[]" => selections.push(Value::String(v)),
            "attachments" => {
                return Err(RequestError::invalid(
                    "attachments",
                    "cannot be sent in a form; send the request as JSON",
                ));
            }
            _ => {
                out.insert(k, Value::String(v));
            }
        }
    }
    match selections.len() {
        0 => {}
        1 => {
            out.insert("selections".into(), selections.remove(0));
        }
        _ => {
            out.insert("selections".into(), Value::Array(selections));
        }
    }
    Ok(out)
}

fn string(
    f: &BTreeMap<String, Value>,
    field: &'static str,
) -> Result<Option<String>, RequestError> {
    match f.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(RequestError::invalid(
            field,
            format!("must be a string, not {}", json_kind(other)),
        )),
    }
}

fn text(f: &BTreeMap<String, Value>, field: &'static str) -> Result<Option<Text>, RequestError> {
    match string(f, field)? {
        Some(s) => Text::parse(field, &s),
        None => Ok(None),
    }
}

fn line(f: &BTreeMap<String, Value>, field: &'static str) -> Result<Option<Text>, RequestError> {
    match string(f, field)? {
        Some(s) => Text::parse_line(field, &s),
        None => Ok(None),
    }
}

/// An array of strings, or one comma-separated string (what simple clients send).
fn selections(v: Option<Value>) -> Result<Vec<String>, RequestError> {
    let items: Vec<String> = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) => s.split(',').map(str::to_string).collect(),
        Some(Value::Array(a)) => a
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                other => Err(RequestError::invalid(
                    "selections",
                    format!("must hold strings, not {}", json_kind(&other)),
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(RequestError::invalid(
                "selections",
                format!(
                    "must be an array of strings or a comma-separated string, not {}",
                    json_kind(&other)
                ),
            ));
        }
    };
    let total: usize = items.iter().map(String::len).sum();
    if total > MAX_FIELD_BYTES {
        return Err(RequestError::invalid(
            "selections",
            format!("hold {total} bytes; at most {MAX_FIELD_BYTES} bytes are accepted"),
        ));
    }
    Ok(items
        .iter()
        .map(|s| cleaned(s))
        .filter(|s| !s.is_empty())
        .collect())
}

/// The first [`DEFAULT_TITLE_CHARS`] characters of the message, on one line, cut at a word
/// boundary when a word would be split.
pub fn default_title(message: &str) -> String {
    let flat: Vec<&str> = message.split_whitespace().collect();
    let flat = flat.join(" ");
    if flat.chars().count() <= DEFAULT_TITLE_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(DEFAULT_TITLE_CHARS).collect();
    let next_is_space = flat[cut.len()..].starts_with(' ');
    if next_is_space {
        return cut.trim_end().to_string();
    }
    match cut.rfind(' ') {
        Some(i) if i > 0 => cut[..i].trim_end().to_string(),
        // One word longer than the whole title: cut it, there is no better place.
        _ => cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(body: &str) -> Result<ButtonRequest, RequestError> {
        ButtonRequest::parse(Some("application/json"), body.as_bytes())
    }

    #[test]
    fn minimal_json_request() {
        let r = json(r#"{"email":"a@b.com","message":"Printer is jammed"}"#).unwrap();
        assert_eq!(r.email.as_str(), "a@b.com");
        assert_eq!(r.title.as_str(), "Printer is jammed");
        assert!(r.selections.is_empty() && r.name.is_none());
    }

    #[test]
    fn default_title_cuts_at_word_boundary() {
        let msg = "My computer will not start after the update last night and I have a meeting";
        let t = default_title(msg);
        assert!(t.chars().count() <= 50, "{t}");
        assert_eq!(t, "My computer will not start after the update last");
        assert_eq!(default_title("short\nmessage"), "short message");
        let long_word = "x".repeat(80);
        assert_eq!(default_title(&long_word).chars().count(), 50);
        // Exactly 50 characters followed by a space: nothing is lost.
        let fifty = format!("{} tail", "abcd ".repeat(10).trim_end());
        assert_eq!(default_title(&fifty), "abcd ".repeat(10).trim_end());
    }

    #[test]
    fn default_title_counts_characters_not_bytes() {
        let msg = "Écran noir après la mise à jour, impossible de démarrer le poste ce matin";
        let t = default_title(msg);
        assert!(t.chars().count() <= 50);
        assert!(msg.starts_with(&t));
    }

    #[test]
    fn selections_as_array_or_comma_string() {
        let a = json(r#"{"email":"a@b.com","message":"m","selections":["One","Two"]}"#).unwrap();
        let b = json(r#"{"email":"a@b.com","message":"m","selections":"One, Two,"}"#).unwrap();
        assert_eq!(a.selections, vec!["One", "Two"]);
        assert_eq!(b.selections, a.selections);
    }

    #[test]
    fn form_body_with_repeated_selections() {
        let r = ButtonRequest::parse(
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            b"email=a%40b.com&message=Help+me&selections=One&selections%5B%5D=Two&hostname=PC-1",
        )
        .unwrap();
        assert_eq!(r.selections, vec!["One", "Two"]);
        assert_eq!(r.message.as_str(), "Help me");
        assert_eq!(r.hostname.unwrap().as_str(), "PC-1");
    }

    #[test]
    fn bad_inputs_name_the_field() {
        let cases = [
            (r#"{"message":"m"}"#, "email"),
            (r#"{"email":"not-an-email","message":"m"}"#, "email"),
            (r#"{"email":"a@b","message":"m"}"#, "email"),
            (r#"{"email":"a b@c.com","message":"m"}"#, "email"),
            (r#"{"email":"a@b.com","message":"   "}"#, "message"),
            (r#"{"email":"a@b.com","message":5}"#, "message"),
            (
                r#"{"email":"a@b.com","message":"m","selections":[1]}"#,
                "selections",
            ),
            (
                r#"{"email":"a@b.com","message":"m","attachments":[{"name":"x.png","data":"@@@"}]}"#,
                "attachments",
            ),
            (
                r#"{"email":"a@b.com","message":"m","attachments":{}}"#,
                "attachments",
            ),
        ];
        for (body, field) in cases {
            match json(body) {
                Err(RequestError::Invalid { field: f, .. }) => assert_eq!(f, field, "{body}"),
                other => panic!("{body}: expected an error on {field}, got {other:?}"),
            }
        }
    }

    #[test]
    fn oversized_field_and_body() {
        let big = "x".repeat(MAX_FIELD_BYTES + 1);
        let body = format!(r#"{{"email":"a@b.com","message":"{big}"}}"#);
        assert!(matches!(
            json(&body),
            Err(RequestError::Invalid {
                field: "message",
                ..
            })
        ));
        let huge = vec![b' '; MAX_BODY_BYTES + 1];
        assert!(matches!(
            ButtonRequest::parse(Some("application/json"), &huge),
            Err(RequestError::TooLarge { .. })
        ));
    }

    #[test]
    fn content_types() {
        let body = br#"{"email":"a@b.com","message":"m"}"#;
        assert!(ButtonRequest::parse(None, body).is_ok());
        assert!(ButtonRequest::parse(Some("Application/JSON; charset=utf-8"), body).is_ok());
        assert!(matches!(
            ButtonRequest::parse(Some("text/plain"), body),
            Err(RequestError::UnsupportedMediaType(_))
        ));
        assert!(matches!(
            ButtonRequest::parse(Some("application/json"), b"[1]"),
            Err(RequestError::Malformed(_))
        ));
    }

    #[test]
    fn attachment_is_checked_and_compacted() {
        let r = json(
            r#"{"email":"a@b.com","message":"m","attachments":[{"name":"s.png","contentType":"image/png","data":"aGVs\nbG8="}]}"#,
        )
        .unwrap();
        assert_eq!(r.attachments[0].base64, "aGVsbG8=");
        assert_eq!(r.attachments[0].size, 5);
        assert!(!format!("{:?}", r.attachments[0]).contains("aGVs"));
    }

    #[test]
    fn single_line_fields_are_folded_and_the_message_is_not() {
        let r = json(
            "{\"email\":\"a@b.com\",\"message\":\"one\\ntwo\",\"title\":\"T\\r\\n  x\",             \"name\":\"A\\u2028B\",\"hostname\":\"PC\\u000b1\",\"phone\":\"\\n5\\n\\n\",             \"selections\":[\"S\\r1\",\"\\n\"],\"append\":\"a\\nb\"}",
        )
        .unwrap();
        assert_eq!(r.title.as_str(), "T x");
        assert_eq!(r.name.unwrap().as_str(), "A B");
        assert_eq!(r.hostname.unwrap().as_str(), "PC 1");
        assert_eq!(r.phone.unwrap().as_str(), "5");
        assert_eq!(r.selections, vec!["S 1"]);
        assert_eq!(r.message.as_str(), "one\ntwo");
        assert_eq!(r.append.unwrap().as_str(), "a\nb");
        assert_eq!(
            one_line("no breaks  here"),
            std::borrow::Cow::Borrowed("no breaks  here")
        );
        assert_eq!(one_line("a \u{85} b\u{2029}c"), "a b c");
    }

    #[test]
    fn attachment_names_are_base_names() {
        for (raw, base) in [
            ("../../x.png", "x.png"),
            ("C:\\a\\b.png", "b.png"),
            ("/etc/passwd", "passwd"),
            ("dir/", "attachment"),
            ("..", "attachment"),
            ("a/./", "attachment"),
            ("two\r\nlines.txt", "two lines.txt"),
            ("plain.txt", "plain.txt"),
        ] {
            assert_eq!(base_name(raw), base, "{raw:?}");
        }
    }

    #[test]
    fn content_types_must_be_type_slash_subtype() {
        for (raw, kept) in [
            ("image/png", "image/png"),
            ("Image/PNG", "image/png"),
            ("text/plain; charset=utf-8", "text/plain"),
            ("text/html", "text/html"),
            ("application/vnd.ms-excel", "application/vnd.ms-excel"),
            ("image/svg+xml", "image/svg+xml"),
        ] {
            assert_eq!(media_type_essence(raw).as_deref(), Some(kept), "{raw:?}");
        }
        for raw in [
            "image",
            "image/",
            "/png",
            "a/b/c",
            "image/png\r\nX: 1",
            "-a/b",
            "a b/c",
        ] {
            assert_eq!(media_type_essence(raw), None, "{raw:?}");
        }
        let err = json(
            r#"{"email":"a@b.com","message":"m","attachments":[{"name":"a","data":"aGk="},{"name":"b","contentType":"x","data":"aGk="}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("attachments") && err.contains("[1]"), "{err}");
    }

    #[test]
    fn email_errors_show_the_value_escaped() {
        let err = Email::parse("a\nb@c.com").unwrap_err();
        assert!(!err.contains('\n') && err.contains("a\\nb@c.com"), "{err}");
    }
}
