//! Repeats of one press: the `Idempotency-Key` header and the marker it leaves in the ticket.
//!
//! The function keeps no state between invocations, so BMS itself is the memory: the ticket a
//! keyed press creates carries a marker line in its details, and a later press with the same key
//! finds that ticket through BMS's ticket search. The marker is a hash of the e-mail and the key:
//! the raw key never reaches BMS, and two users who happen to send the same key get different
//! markers.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use lambda_http::http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::button::Email;

pub const HEADER: &str = "Idempotency-Key";
pub const MAX_KEY_CHARS: usize = 128;
/// How long a repeat answers with the first ticket instead of filing a new one.
pub const WINDOW: Duration = Duration::minutes(10);
/// Hex digits of the SHA-256 kept in the marker: 96 bits, far beyond any chance collision among
/// one tenant's tickets of ten minutes, and short enough to read in the ticket.
const TOKEN_HEX_DIGITS: usize = 24;
const MARKER_PREFIX: &str = "[Button request ";

/// A client's `Idempotency-Key`: 1 to 128 printable ASCII characters. Not a secret, but an
/// opaque client value that stays out of logs all the same.
#[derive(Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdempotencyKey(..)")
    }
}

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<IdempotencyKey, String> {
        if raw.is_empty() {
            return Err(format!(
                "the {HEADER} header is empty: send 1 to {MAX_KEY_CHARS} characters, or leave \
                 the header out"
            ));
        }
        let chars = raw.chars().count();
        if chars > MAX_KEY_CHARS {
            return Err(format!(
                "the {HEADER} header is {chars} characters long: at most {MAX_KEY_CHARS} are \
                 accepted (a UUID is 36)"
            ));
        }
        if !raw.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
            return Err(format!(
                "the {HEADER} header holds a character that is not printable ASCII: use letters, \
                 digits and punctuation (a UUID is a good key)"
            ));
        }
        Ok(IdempotencyKey(raw.to_string()))
    }

    /// The key itself: what a parked press keeps, so that its replay marks the ticket alike.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key the request carries, if any. A header that is present but unusable is an error
    /// rather than "no key": ignoring it would silently file a repeat twice.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, String> {
        let mut values = headers.get_all(HEADER).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(format!(
                "the {HEADER} header is sent more than once: send it once"
            ));
        }
        let raw = value.to_str().map_err(|_| {
            format!("the {HEADER} header holds a character that is not printable ASCII")
        })?;
        IdempotencyKey::parse(raw).map(Some)
    }
}

/// The line a keyed press leaves in its ticket's details: `[Button request 3f9c0a1b2c3d4e5f60718293]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker(String);

impl Marker {
    /// E-mails match contacts ignoring ASCII case, so they are hashed that way too; the length
    /// prefix keeps `a@b.c` + `x` apart from any other split of the same bytes.
    pub fn new(email: &Email, key: &IdempotencyKey) -> Marker {
        let email = email.as_str().to_ascii_lowercase();
        let mut hash = Sha256::new();
        hash.update(email.len().to_string().as_bytes());
        hash.update(b":");
        hash.update(email.as_bytes());
        hash.update(key.0.as_bytes());
        let digest = hash.finalize();
        let token: String = digest
            .iter()
            .take(TOKEN_HEX_DIGITS / 2)
            .map(|b| format!("{b:02x}"))
            .collect();
        Marker(format!("{MARKER_PREFIX}{token}]"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a ticket's details carry this marker.
    pub fn is_in(&self, details: &str) -> bool {
        details.contains(&self.0)
    }
}

impl fmt::Display for Marker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The earliest open date a ticket may have and still count as the first answer to a repeat.
pub fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now - WINDOW
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    fn key(s: &str) -> IdempotencyKey {
        IdempotencyKey::parse(s).unwrap()
    }

    #[test]
    fn key_length_limits() {
        assert!(IdempotencyKey::parse("k").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(128)).is_ok());
        let long = IdempotencyKey::parse(&"k".repeat(129)).unwrap_err();
        assert!(
            long.contains("Idempotency-Key") && long.contains("129"),
            "{long}"
        );
        let empty = IdempotencyKey::parse("").unwrap_err();
        assert!(empty.contains("Idempotency-Key"), "{empty}");
        assert!(IdempotencyKey::parse("tab\there").is_err());
    }

    #[test]
    fn marker_is_a_hash_of_email_and_key_ignoring_email_case() {
        let k = key("3f9c2b7e-retry");
        let m = Marker::new(&email("Dan.Jump@fabrikam.com"), &k);
        assert_eq!(m, Marker::new(&email("dan.jump@FABRIKAM.com"), &k));
        assert!(m.as_str().starts_with("[Button request "), "{m}");
        assert_eq!(m.as_str().len(), "[Button request ]".len() + 24);
        assert!(!m.as_str().contains("3f9c2b7e-retry"));
        assert_ne!(m, Marker::new(&email("ann.beebe@northwind.com"), &k));
        assert_ne!(
            m,
            Marker::new(&email("dan.jump@fabrikam.com"), &key("other"))
        );
    }

    #[test]
    fn marker_is_found_in_details() {
        let m = Marker::new(&email("a@b.com"), &key("k1"));
        assert!(m.is_in(&format!("Broken\n\n{m}\n")));
        assert!(!m.is_in("Broken\n"));
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", key("secret-ish")), "IdempotencyKey(..)");
    }
}
