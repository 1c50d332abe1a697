//! Files attached to a request: at most [`MAX_ATTACHMENTS`], each valid base64 of at most
//! [`MAX_ATTACHMENT_BYTES`], with a base name and a checked media type.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::text::cleaned;
use super::{MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, RequestError};
use crate::wording::json_kind;

/// A file the user attached (a screenshot, usually), its content checked to be valid base64.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    /// Standard base64 with padding, whitespace removed: what BMS takes inline.
    pub base64: String,
    pub size: usize,
}

impl fmt::Debug for Attachment {
    // The data can be megabytes; a log line needs only its shape.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("size", &self.size)
            .finish()
    }
}

pub(super) fn attachments(v: Option<Value>) -> Result<Vec<Attachment>, RequestError> {
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(RequestError::invalid(
                "attachments",
                format!(
                    "must be an array of {{name, contentType, data}}, not {}",
                    json_kind(&other)
                ),
            ));
        }
    };
    if items.len() > MAX_ATTACHMENTS {
        return Err(RequestError::invalid(
            "attachments",
            format!(
                "holds {} files; at most {MAX_ATTACHMENTS} are accepted",
                items.len()
            ),
        ));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| attachment(i, item))
        .collect()
}

fn attachment(index: usize, item: Value) -> Result<Attachment, RequestError> {
    let bad = |reason: String| RequestError::invalid("attachments", format!("[{index}]: {reason}"));
    let Value::Object(map) = item else {
        return Err(bad(format!(
            "must be an object {{name, contentType, data}}, not {}",
            json_kind(&item)
        )));
    };
    let get = |key: &str| -> Result<Option<String>, RequestError> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            // File names and media types are short; only `data` may be large.
            Some(Value::String(s)) if key != "data" && s.len() > 255 => Err(bad(format!(
                "`{key}` is {} bytes; at most 255 are accepted",
                s.len()
            ))),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(other) => Err(bad(format!(
                "`{key}` must be a string, not {}",
                json_kind(other)
            ))),
        }
    };
    let name = get("name")?
        .filter(|n| !cleaned(n).is_empty())
        .map(|n| base_name(&n))
        .ok_or_else(|| bad("`name` is required".into()))?;
    let content_type = match get("contentType")?.filter(|c| !c.is_empty()) {
        None => "application/octet-stream".into(),
        Some(c) => media_type_essence(&c).ok_or_else(|| {
            bad(
                "`contentType` is not a media type of the form type/subtype (such as \
                 image/png)"
                    .into(),
            )
        })?,
    };
    let data = get("data")?.ok_or_else(|| bad("`data` (base64) is required".into()))?;
    // Clients wrap long base64 lines; BMS wants one unbroken string.
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let decoded = STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| bad(format!("`data` of `{name}` is not valid base64: {e}")))?;
    if decoded.is_empty() {
        return Err(bad(format!("`data` of `{name}` is empty")));
    }
    if decoded.len() > MAX_ATTACHMENT_BYTES {
        return Err(bad(format!(
            "`{name}` is {} bytes; at most {MAX_ATTACHMENT_BYTES} bytes are accepted per attachment",
            decoded.len()
        )));
    }
    Ok(Attachment {
        name,
        content_type,
        size: decoded.len(),
        base64: compact,
    })
}

/// A file name without any folder: BMS and whoever downloads the file get `x.png`, never
/// `../../x.png` or `C:\\Users\\...`. Invisible characters are dropped (a direction override
/// shows `invoice\u{202e}gnp.exe` as `invoiceexe.png`), and so are trailing dots and spaces
/// (Windows drops them when it saves the file, turning `x.exe.` into `x.exe`). A name that leaves
/// nothing (`logs/`, `..`, a lone override) becomes `attachment`.
pub(crate) fn base_name(raw: &str) -> String {
    let visible: String = raw.chars().filter(|&c| !is_format_control(c)).collect();
    let name = cleaned(&visible);
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    match base
        .trim_end_matches(|c: char| c == '.' || c.is_whitespace())
        .trim()
    {
        "" => "attachment".into(),
        base => base.to_string(),
    }
}

/// Unicode's format controls (general category Cf, as of Unicode 16): direction marks,
/// embeddings, overrides and isolates, zero-width spaces and joiners, the byte order mark, the
/// soft hyphen, tags. None is visible, and some reorder what is.
fn is_format_control(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061c}'
            | '\u{06dd}'
            | '\u{070f}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08e2}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0001}'
            | '\u{e0020}'..='\u{e007f}'
    )
}

/// `type/subtype` in lower case, when `raw` starts with one (RFC 6838 names: a letter or digit,
/// then letters, digits and `!#$&^_.+-`). Parameters such as `; charset=utf-8` are dropped: BMS
/// needs the type only, and dropping them keeps whatever they hold out of BMS. Every type that
/// matches is kept as sent, `text/html` too: the file is stored, not shown as a page.
pub(super) fn media_type_essence(raw: &str) -> Option<String> {
    let name_ok = |s: &str| {
        s.len() <= 127
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
    };
    let essence = raw.split(';').next().unwrap_or_default().trim();
    let (kind, subtype) = essence.split_once('/')?;
    (name_ok(kind) && name_ok(subtype)).then(|| essence.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attachment_names_lose_direction_overrides_and_invisible_characters() {
        // Shown as `invoiceexe.png` by a viewer that honours the override.
        assert_eq!(base_name("invoice\u{202e}gnp.exe"), "invoicegnp.exe");
        let invisible = [
            '\u{202a}',
            '\u{202b}',
            '\u{202c}',
            '\u{202d}',
            '\u{202e}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{200e}',
            '\u{200f}',
            '\u{feff}',
            '\u{2060}',
            '\u{00ad}',
            '\u{061c}',
            '\u{180e}',
            '\u{2064}',
            '\u{206f}',
            '\u{fff9}',
            '\u{110bd}',
            '\u{13430}',
            '\u{1bca0}',
            '\u{1d173}',
            '\u{e0001}',
            '\u{e0041}',
            '\u{e007f}',
        ];
        for c in invisible {
            assert_eq!(
                base_name(&format!("{c}re{c}port.p{c}df{c}")),
                "report.pdf",
                "U+{:04X}",
                u32::from(c)
            );
        }
        // What is visible stays, in any script.
        assert_eq!(
            base_name("Überweisung 日本 🙂.png"),
            "Überweisung 日本 🙂.png"
        );
    }

    #[test]
    fn attachment_names_lose_trailing_dots_and_spaces() {
        assert_eq!(base_name("invoice.exe."), "invoice.exe");
        assert_eq!(base_name("invoice.exe . .\u{200b}. "), "invoice.exe");
        assert_eq!(base_name(".profile"), ".profile");
        assert_eq!(base_name("a..b"), "a..b");
    }

    #[test]
    fn a_name_left_empty_gets_the_fallback_name() {
        for raw in [
            "\u{202e}",
            "\u{200b}\u{feff}",
            "...",
            ". .",
            "logs/\u{2066}..\u{2069}",
        ] {
            assert_eq!(base_name(raw), "attachment", "{raw:?}");
        }
    }

    #[test]
    fn a_requests_attachments_keep_their_cleaned_names() {
        let files = attachments(Some(json!([
            {"name": "invoice\u{202e}gnp.exe", "data": "aGk="},
            {"name": "\u{200b}", "data": "aGk="},
        ])))
        .unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["invoicegnp.exe", "attachment"]);
    }
}
