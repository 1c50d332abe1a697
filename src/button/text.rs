//! The text a request carries: an e-mail address, and text fields that hold nothing a ticket
//! should not (control characters; in single-line fields, line breaks).

use std::borrow::Cow;
use std::fmt;

use super::{MAX_FIELD_BYTES, RequestError};

/// An e-mail address that has the shape of one: `local@domain.tld`, no spaces, at most 254 bytes.
/// The original spelling is kept (BMS shows it); comparisons use [`Email::eq_ignore_case`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("is empty; the end user's e-mail address is required".into());
        }
        if s.len() > 254 {
            return Err("is longer than 254 characters".into());
        }
        // Errors show the value escaped: they reach the log, where a raw line break would
        // start a line of the caller's choosing.
        let shown = format!("`{}`", s.escape_debug());
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("{shown} contains a space or a control character"));
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(format!("{shown} has no `@`"));
        };
        if local.is_empty() || local.contains('@') {
            return Err(format!("{shown} is not of the form name@domain"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels
                .iter()
                .any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-'))
        {
            return Err(format!(
                "{shown} does not end in a domain such as example.com"
            ));
        }
        Ok(Email(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// E-mail addresses are compared without regard to ASCII case (what BMS and every mail
    /// system do in practice, though RFC 5321 allows case-sensitive local parts).
    pub fn eq_ignore_case(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other.trim())
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A piece of text that is not blank, fits [`MAX_FIELD_BYTES`] and holds no control character
/// other than tab, line feed and carriage return; a single-line field ([`Text::parse_line`])
/// holds no line break either.
///
/// Other control characters are removed rather than refused: script output sent as `append`
/// often carries terminal escapes or NULs, and losing the ticket over them would help no one.
/// Markup such as `<script>` is kept as the literal text the user typed; BMS gets it as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub(super) String);

impl Text {
    /// `None` for a blank value: optional fields that arrive empty count as absent.
    pub(crate) fn parse(field: &'static str, raw: &str) -> Result<Option<Self>, RequestError> {
        if raw.len() > MAX_FIELD_BYTES {
            return Err(RequestError::invalid(
                field,
                format!(
                    "is {} bytes; at most {MAX_FIELD_BYTES} bytes are accepted",
                    raw.len()
                ),
            ));
        }
        let clean = without_controls(raw);
        let t = clean.trim();
        Ok((!t.is_empty()).then(|| Text(t.to_string())))
    }

    /// A field that is one line in the ticket (a title, a name, a host name): every line break
    /// becomes a space, so the value cannot start a line of its own, such as a forged `Email:`
    /// or `[User Registration Requested]` in the details.
    pub(super) fn parse_line(field: &'static str, raw: &str) -> Result<Option<Self>, RequestError> {
        if raw.len() > MAX_FIELD_BYTES {
            return Text::parse(field, raw);
        }
        Text::parse(field, &one_line(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Line feed, carriage return and every other character that ends a line somewhere: vertical
/// tab, form feed, NEL and the Unicode line and paragraph separators.
pub(super) fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// `raw` on one line: each line break, with the blanks around it, becomes one space.
pub fn one_line(raw: &str) -> Cow<'_, str> {
    if !raw.contains(is_line_break) {
        return Cow::Borrowed(raw);
    }
    let pieces: Vec<&str> = raw
        .split(is_line_break)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    Cow::Owned(pieces.join(" "))
}

/// `raw` without control characters other than `\t`, `\n` and `\r`.
pub(super) fn without_controls(raw: &str) -> std::borrow::Cow<'_, str> {
    let keep = |c: char| !c.is_control() || matches!(c, '\t' | '\n' | '\r');
    if raw.chars().all(keep) {
        std::borrow::Cow::Borrowed(raw)
    } else {
        std::borrow::Cow::Owned(raw.chars().filter(|&c| keep(c)).collect())
    }
}

/// A short value (a selection, a file name) as it is kept: one line, no control characters,
/// trimmed.
pub(super) fn cleaned(raw: &str) -> String {
    without_controls(&one_line(raw)).trim().to_string()
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
